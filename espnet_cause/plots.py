"""PNG plots of AU trajectories (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN, AU_NAMES, describe
from espnet_cause.io.atomic import atomic_write

#: AUs shown when the caller does not choose: the ones that move most in the reference.
DEFAULT_NUM_PLOT_AUS = 4
FIG_WIDTH_IN = 8.0
ROW_HEIGHT_IN = 1.6
DPI = 100


def most_active_aus(ref: np.ndarray, count: int = DEFAULT_NUM_PLOT_AUS) -> list[int]:
    """Indices of the ``count`` AUs with the largest standard deviation in ``ref`` (T, 17)."""
    with np.errstate(invalid="ignore"):
        std = np.nan_to_num(np.nanstd(np.asarray(ref, np.float64), axis=0), nan=-1.0)
    return sorted(np.argsort(-std, kind="stable")[:count].tolist())


def plot_au_trajectories(
    path: str | os.PathLike,
    ref: np.ndarray,
    hyp: np.ndarray,
    fps: float,
    *,
    au_indices: Sequence[int] | None = None,
    title: str = "",
) -> None:
    """Plot reference against predicted trajectories of a few AUs, one panel per AU.

    Args:
        path: Output PNG (written atomically).
        ref: (T, 17) reference intensities.
        hyp: (T', 17) predicted intensities at the same ``fps``.
        fps: Frame rate of both.
        au_indices: AU columns to show; default :func:`most_active_aus` of ``ref``.
        title: Figure title (e.g. the utterance id).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = list(au_indices) if au_indices is not None else most_active_aus(ref)
    fig, axes = plt.subplots(
        len(idx), 1, figsize=(FIG_WIDTH_IN, ROW_HEIGHT_IN * len(idx)), sharex=True, squeeze=False
    )
    t_ref = np.arange(len(ref)) / fps
    t_hyp = np.arange(len(hyp)) / fps
    for ax, j in zip(axes[:, 0], idx, strict=True):
        ax.plot(t_ref, ref[:, j], color="black", lw=1.2, label="reference")
        ax.plot(t_hyp, hyp[:, j], color="tab:red", lw=1.2, label="predicted")
        ax.set_ylim(AU_INTENSITY_MIN - 0.1, AU_INTENSITY_MAX + 0.1)
        ax.set_ylabel(AU_NAMES[j])
        ax.set_title(describe(AU_NAMES[j]), fontsize=8, loc="left")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)
