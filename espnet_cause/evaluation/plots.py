"""PNG plots of AU trajectories (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from espnet_cause.au import AU_NAMES, describe
from espnet_cause.io.atomic import atomic_write
from espnet_cause.targets import target_for_width

#: AUs shown when the caller does not choose: the ones that move most in the reference.
DEFAULT_NUM_PLOT_AUS = 4
FIG_WIDTH_IN = 8.0
ROW_HEIGHT_IN = 1.6
DPI = 100
#: Colours of a reference stream and of the stream under study.
REFERENCE_COLOR = "black"
TRACK_COLOR = "tab:red"
#: Longer waveforms are drawn as a min/max envelope of about this many points.
MAX_WAVE_POINTS = 4000


def most_active_aus(ref: np.ndarray, count: int = DEFAULT_NUM_PLOT_AUS) -> list[int]:
    """Indices of the ``count`` AUs with the largest standard deviation in ``ref`` (T, 17)."""
    with np.errstate(invalid="ignore"):
        std = np.nan_to_num(np.nanstd(np.asarray(ref, np.float64), axis=0), nan=-1.0)
    return sorted(np.argsort(-std, kind="stable")[:count].tolist())


@dataclasses.dataclass(frozen=True)
class AUCurve:
    """One AU stream to draw: its frame times, values and legend entry.

    Attributes:
        times: (T,) frame times in seconds.
        values: (T, 17) intensities on the 0-5 scale; NaN frames leave a gap in the line.
        label: Legend entry.
        color: Matplotlib colour.
    """

    times: np.ndarray
    values: np.ndarray
    label: str
    color: str


def plot_au_curves(
    path: str | os.PathLike,
    curves: Sequence[AUCurve],
    au_indices: Sequence[int],
    *,
    waveform: np.ndarray | None = None,
    sample_rate: int | None = None,
    title: str = "",
) -> None:
    """Plot AU streams over time, one panel per AU, optionally under the speech waveform.

    The figure is :data:`FIG_WIDTH_IN` x :data:`ROW_HEIGHT_IN` per panel at :data:`DPI`, so a
    plot of ``n`` AUs is ``FIG_WIDTH_IN * DPI`` by ``n * ROW_HEIGHT_IN * DPI`` pixels (one more
    row with the waveform).

    Args:
        path: Output PNG (written atomically).
        curves: Streams drawn in every panel, in order (later ones on top).
        au_indices: AU columns to show, one panel each, top to bottom.
        waveform: (N,) speech samples for a panel on top, sharing the time axis.
        sample_rate: Sample rate of ``waveform``.
        title: Figure title (e.g. the utterance id).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = list(au_indices)
    if not idx:
        raise ValueError("au_indices is empty: nothing to plot")
    has_wave = waveform is not None
    if has_wave and not sample_rate:
        raise ValueError("a waveform needs its sample_rate")
    rows = len(idx) + int(has_wave)
    fig, axes = plt.subplots(
        rows, 1, figsize=(FIG_WIDTH_IN, ROW_HEIGHT_IN * rows), sharex=True, squeeze=False
    )
    au_axes = axes[int(has_wave) :, 0]

    space = target_for_width(curves[0].values.shape[1])  # AUs (0-5) or blendshapes (0-1)
    margin = 0.02 * (space.high - space.low)
    if has_wave:
        _plot_waveform(axes[0, 0], np.asarray(waveform, np.float32), int(sample_rate))
    for ax, j in zip(au_axes, idx, strict=True):
        for c in curves:
            ax.plot(c.times, c.values[:, j], color=c.color, lw=1.2, label=c.label)
        ax.set_ylim(space.low - margin, space.high + margin)
        ax.set_ylabel(space.names[j] if space.name == "au" else f"{j}")
        label = describe(AU_NAMES[j]) if space.name == "au" else space.names[j]
        ax.set_title(label, fontsize=8, loc="left")
        ax.grid(alpha=0.3)
    au_axes[0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)


def _plot_waveform(ax, samples: np.ndarray, sample_rate: int) -> None:
    """Draw (N,) samples against seconds; long signals as a min/max envelope."""
    step = max(1, -(-len(samples) // MAX_WAVE_POINTS))
    if step == 1:
        ax.plot(np.arange(len(samples)) / sample_rate, samples, color="tab:gray", lw=0.6)
    else:
        blocks = samples[: len(samples) // step * step].reshape(-1, step)
        t = (np.arange(len(blocks)) * step + step / 2) / sample_rate
        ax.fill_between(t, blocks.min(axis=1), blocks.max(axis=1), color="tab:gray", lw=0)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    ax.set_ylim(-1.05 * peak - 1e-6, 1.05 * peak + 1e-6)
    ax.set_ylabel("speech")
    ax.grid(alpha=0.3)


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
    idx = list(au_indices) if au_indices is not None else most_active_aus(ref)
    curves = [
        AUCurve(np.arange(len(ref)) / fps, ref, "reference", REFERENCE_COLOR),
        AUCurve(np.arange(len(hyp)) / fps, hyp, "predicted", TRACK_COLOR),
    ]
    plot_au_curves(path, curves, idx, title=title)
