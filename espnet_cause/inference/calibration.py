"""Per-AU scale calibration: make a model's AUs swing as far as a data dir's tracked faces.

A regression trained on real face tracks shrinks toward the mean (a model that is unsure predicts
less motion than a face shows). The calibration measures, for each chosen AU, the standard
deviation of the tracked labels and of the model's predictions over the same frames of a data
dir (frames whose loss weight for that AU is > 0, when the dir has ``au_weight.scp``), and
multiplies the model's AU de-normalisation (``au_normalize.std``) by their ratio. The output
becomes ``mean + factor * std * z``: the same normalisation mean, ``factor`` times the swing
(before the 0-5 clip). Correlations (PCC, mouth r) do not change; the scale check of
``check_lipsync`` does. :func:`espnet_cause.inference.packing.pack_model` folds it in when given
``calibrate_dir``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_NAMES, au_index
from espnet_cause.errors import CauseError
from espnet_cause.io.au_files import read_au_scp
from espnet_cause.io.au_weight import AU_WEIGHT_SCP, read_au_weights
from espnet_cause.io.audio import load_speech
from espnet_cause.io.datadir import read_kaldi_map

#: The AUs calibrated by default: the mouth (lips part, jaw drop).
MOUTH_AUS = ("AU25", "AU26")


@dataclass(frozen=True)
class AUScale:
    """One AU's measured scale: ``factor = tracked_std / predicted_std``."""

    factor: float
    predicted_std: float
    tracked_std: float
    predicted_mean: float
    tracked_mean: float
    frames: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def measure_scale(
    speech2au, data_dir: str | os.PathLike, aus: tuple[str, ...] = MOUTH_AUS
) -> dict[str, AUScale]:
    """Tracked / predicted standard deviation of each AU in ``aus`` over a data dir.

    Args:
        speech2au: A :class:`espnet_cause.inference.speech2au.Speech2AU` (17-AU target) whose
            frames are at the labels' rate.
        data_dir: A dump dir with ``wav.scp`` and ``au.scp`` ((T, 17) labels), optionally
            ``au_weight.scp`` (frames or utterances weighing 0 for an AU are left out for it).
        aus: AU names to measure.

    Returns:
        AU name -> :class:`AUScale`.

    Raises:
        CauseError: for a missing file, no utterance with both audio and labels, an unknown AU,
            a model that does not output AUs, or an AU that the model or the labels hold still.
    """
    data_dir = Path(data_dir)
    if getattr(speech2au, "target", "au") != "au":
        raise CauseError(
            f"the scale calibration is for AU models; this one outputs {speech2au.target}",
            fix="calibrate a model trained with model_conf.target: au",
        )
    unknown = [a for a in aus if a not in AU_NAMES]
    if unknown:
        raise CauseError(f"unknown AU {unknown[0]!r}", fix=f"use names of {', '.join(AU_NAMES)}")
    cols = [au_index(a) for a in aus]
    wavs = read_kaldi_map(data_dir / "wav.scp", check_sorted=False)
    labels = read_au_scp(data_dir / "au.scp")
    weight_scp = data_dir / AU_WEIGHT_SCP
    weights = read_au_weights(weight_scp) if weight_scp.is_file() else {}
    keys = [k for k in wavs if k in labels]
    if not keys:
        raise CauseError(
            "no utterance has both audio (wav.scp) and AU labels (au.scp)",
            path=data_dir,
            fix="pass a dump dir written by stage 2 (make_au_labels)",
        )
    predicted: list[list[np.ndarray]] = [[] for _ in cols]
    tracked: list[list[np.ndarray]] = [[] for _ in cols]
    for key in keys:
        speech, sr = load_speech(wavs[key], name=f"{data_dir / 'wav.scp'}: {key}")
        pred = speech2au(speech, sr)
        ref = np.asarray(labels[key], dtype=np.float32)
        n = min(len(pred), len(ref))
        w = weights.get(key)
        for i, col in enumerate(cols):
            keep = np.ones(n, bool)
            if w is not None:
                keep = (w[:n, col] if w.ndim == 2 else np.full(n, w[col])) > 0
            predicted[i].append(pred[:n, col][keep])
            tracked[i].append(ref[:n, col][keep])
    out = {}
    for i, name in enumerate(aus):
        p, r = np.concatenate(predicted[i]), np.concatenate(tracked[i])
        if len(p) < 2 or p.std() < 1e-6 or r.std() < 1e-6:
            raise CauseError(
                f"{name}: cannot calibrate on {len(p)} frames (predicted std {p.std():.2g}, "
                f"tracked std {r.std():.2g})",
                path=data_dir,
                fix="use a data dir where the face and the model both move this AU",
            )
        out[name] = AUScale(
            factor=float(r.std() / p.std()),
            predicted_std=float(p.std()),
            tracked_std=float(r.std()),
            predicted_mean=float(p.mean()),
            tracked_mean=float(r.mean()),
            frames=int(len(p)),
        )
    return out


def scale_au_stats(
    stats: dict[str, np.ndarray], factors: np.ndarray, eps: float = 1.0e-20
) -> dict[str, np.ndarray]:
    """ESPnet ``collect_stats`` AU statistics whose std is ``factors`` times the original's.

    Args:
        stats: ``count``, ``sum`` (D,), ``sum_square`` (D,) as in ``au_stats.npz``.
        factors: (D,) multipliers of each dimension's standard deviation (the mean is kept).
        eps: The normaliser's variance floor (``au_normalize_conf.eps``): the std scaled is
            ``sqrt(max(var, eps))``, the one the model de-normalises with.

    Returns:
        The same keys with ``sum_square`` rewritten.
    """
    count = np.asarray(stats["count"], dtype=np.float64)
    mean = np.asarray(stats["sum"], dtype=np.float64) / count
    var = np.asarray(stats["sum_square"], dtype=np.float64) / count - mean**2
    var = np.maximum(var, eps) * np.asarray(factors, dtype=np.float64) ** 2
    return dict(stats) | {"sum_square": (var + mean**2) * count}
