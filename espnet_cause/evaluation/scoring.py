"""Scores of predicted AU streams against reference streams, and the baselines they must beat.

Metrics, per AU and averaged over AUs: Pearson correlation (PCC), concordance correlation
coefficient (CCC, Lin 1989), root mean squared error (RMSE) and mean absolute error (MAE), on
the 0-5 intensity scale.

How a set is scored: the frames of all utterances are concatenated (after cropping each pair to
the shorter length) and each metric is computed once over the concatenation, per AU. This weights
utterances by their length and, unlike averaging per-utterance PCCs, stays defined for short
utterances in which an AU does not move; the mean of per-utterance PCCs is also reported
(``pcc_utt_mean``) for comparison with papers that use it. Frames where the reference or the
prediction is NaN (missing face data) are left out.

Undefined values: PCC needs variance in both streams. An AU that is constant in the reference (or
prediction) over the whole set has PCC NaN, and the AU-mean PCC is the mean over the AUs where it
is defined (the count is reported). A constant predictor (the training-mean baseline) therefore has
no PCC at all; its CCC is 0, which is why the comparison with baselines uses CCC and RMSE too.

The same holds for ARKit blendshape streams ((T, 51), ``target: arkit`` models, 0-1 scale): the
column count says which space a set is in (:func:`espnet_cause.targets.target_for_width`), and
"per AU" then means per blendshape.

Baselines:
- ``train_mean``: predicts the per-AU mean of the training references at every frame (the mean of
  the scored references when no training set is given, which flatters it slightly).
- ``different_utterance``: the prediction for another utterance of the set (the next one in key
  order), linearly time-warped to the length of the reference. It has realistic dynamics but no
  relation to the speech, so it measures how much of a score comes from the AU statistics alone.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping

import numpy as np

from espnet_cause.au import AU_FACS_NAMES, NUM_AUS
from espnet_cause.targets import target_for_width

logger = logging.getLogger(__name__)

METRICS = ("pcc", "ccc", "rmse", "mae")
#: Metrics where higher is better (the others are errors).
HIGHER_IS_BETTER = {"pcc": True, "ccc": True, "rmse": False, "mae": False}
#: Length differences (frames) between reference and prediction that are cropped silently.
MAX_SILENT_LENGTH_DIFF = 2
MODEL = "model"
TRAIN_MEAN = "train_mean"
DIFFERENT_UTT = "different_utterance"
SYSTEM_LABELS = {
    MODEL: "model",
    TRAIN_MEAN: "training-set mean",
    DIFFERENT_UTT: "different utterance",
}


def pcc(ref: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """Per-column Pearson correlation.

    Args:
        ref: (N, D) reference.
        hyp: (N, D) prediction.

    Returns:
        (D,) float64; NaN where either column is constant (or N < 2). A column whose values
        differ only by float32 rounding (a tracker reading identical frames) counts as constant.
    """
    ref, hyp = np.asarray(ref, np.float64), np.asarray(hyp, np.float64)
    r = ref - ref.mean(axis=0)
    h = hyp - hyp.mean(axis=0)
    num = (r * h).sum(axis=0)
    den = np.sqrt((r * r).sum(axis=0) * (h * h).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    tiny = den <= np.finfo(np.float64).eps * max(1, len(ref))
    out[tiny | _rounding_only(ref) | _rounding_only(hyp)] = np.nan
    return np.clip(out, -1.0, 1.0)


def _rounding_only(x: np.ndarray) -> np.ndarray:
    """(D,) True where a column of (N, D) ``x`` spreads no more than a few float32 steps."""
    if len(x) == 0:
        return np.zeros(x.shape[1:], bool)
    scale = np.maximum(np.abs(x).max(axis=0), 1.0)
    return np.ptp(x, axis=0) <= 4 * np.finfo(np.float32).eps * scale


def ccc(ref: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """Per-column concordance correlation ``2 cov / (var_r + var_h + (mu_r - mu_h)^2)``.

    Population (biased) variances, as Lin's definition. NaN only where both columns are the same
    constant; 0 for a constant prediction of a varying reference.

    Args:
        ref: (N, D) reference.
        hyp: (N, D) prediction.

    Returns:
        (D,) float64.
    """
    ref, hyp = np.asarray(ref, np.float64), np.asarray(hyp, np.float64)
    mr, mh = ref.mean(axis=0), hyp.mean(axis=0)
    cov = ((ref - mr) * (hyp - mh)).mean(axis=0)
    den = ref.var(axis=0) + hyp.var(axis=0) + (mr - mh) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 2.0 * cov / den
    out[den <= np.finfo(np.float64).eps] = np.nan
    return out


def rmse(ref: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """(D,) per-column root mean squared error of (N, D) arrays."""
    d = np.asarray(hyp, np.float64) - np.asarray(ref, np.float64)
    return np.sqrt((d * d).mean(axis=0))


def mae(ref: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """(D,) per-column mean absolute error of (N, D) arrays."""
    return np.abs(np.asarray(hyp, np.float64) - np.asarray(ref, np.float64)).mean(axis=0)


METRIC_FUNCS = {"pcc": pcc, "ccc": ccc, "rmse": rmse, "mae": mae}


@dataclasses.dataclass
class SystemScores:
    """Scores of one system over a set.

    Attributes:
        per_au: metric -> (17,) values (NaN where undefined).
        mean: metric -> mean over the AUs where it is defined (NaN if none).
        num_defined: metric -> number of AUs in that mean.
        pcc_utt_mean: mean over utterances of their AU-mean PCC (utterances where it is defined).
    """

    per_au: dict[str, np.ndarray]
    mean: dict[str, float]
    num_defined: dict[str, int]
    pcc_utt_mean: float

    def to_json(self) -> dict:
        return {
            "mean": {m: _num(v) for m, v in self.mean.items()},
            "num_aus_defined": dict(self.num_defined),
            "pcc_utt_mean": _num(self.pcc_utt_mean),
            "per_au": {
                m: {
                    name: _num(v)
                    for name, v in zip(target_for_width(len(vals)).names, vals, strict=True)
                }
                for m, vals in self.per_au.items()
            },
        }


def _num(x: float) -> float | None:
    """JSON-safe float: NaN -> None."""
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


def crop_pair(
    key: str, ref: np.ndarray, hyp: np.ndarray, max_silent: int = MAX_SILENT_LENGTH_DIFF
) -> tuple[np.ndarray, np.ndarray, int]:
    """Crop reference and prediction to the shorter length; warn if they differ by > max_silent.

    Returns:
        (ref, hyp, length difference in frames).
    """
    diff = len(ref) - len(hyp)
    if abs(diff) > max_silent:
        logger.warning(
            "%s: reference has %d frames, prediction %d; scoring the first %d "
            "(check that both use the same frame rate)",
            key,
            len(ref),
            len(hyp),
            min(len(ref), len(hyp)),
        )
    n = min(len(ref), len(hyp))
    return ref[:n], hyp[:n], diff


def score_pairs(pairs: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> SystemScores:
    """Score (ref, hyp) pairs of equal length by concatenating their frames.

    Args:
        pairs: key -> ((T, 17) reference, (T, 17) prediction).

    Returns:
        The scores; frames with NaN in either stream are left out.
    """
    refs, hyps, utt_pcc = [], [], []
    for ref, hyp in pairs.values():
        ok = ~(np.isnan(ref).any(axis=1) | np.isnan(hyp).any(axis=1))
        refs.append(ref[ok])
        hyps.append(hyp[ok])
        if ok.sum() >= 2:
            p = pcc(ref[ok], hyp[ok])
            if not np.isnan(p).all():
                utt_pcc.append(float(np.nanmean(p)))
    width = next(iter(pairs.values()))[0].shape[1] if pairs else NUM_AUS
    ref = np.concatenate(refs) if refs else np.zeros((0, width))
    hyp = np.concatenate(hyps) if hyps else np.zeros((0, width))
    per_au, mean, count = {}, {}, {}
    for name, fn in METRIC_FUNCS.items():
        if len(ref) == 0:
            vals = np.full(width, np.nan)
        else:
            with np.errstate(invalid="ignore"):
                vals = fn(ref, hyp)
        per_au[name] = vals
        defined = ~np.isnan(vals)
        count[name] = int(defined.sum())
        mean[name] = float(vals[defined].mean()) if defined.any() else float("nan")
    return SystemScores(per_au, mean, count, float(np.mean(utt_pcc)) if utt_pcc else float("nan"))


def time_warp(aus: np.ndarray, num_frames: int) -> np.ndarray:
    """Linearly stretch or squeeze a (T, 17) stream to ``num_frames`` frames (ends aligned)."""
    if num_frames == 0:
        return np.zeros((0, aus.shape[1]), np.float32)
    if len(aus) == 1 or num_frames == 1:
        return np.repeat(aus[:1], num_frames, axis=0).astype(np.float32)
    pos = np.linspace(0.0, len(aus) - 1, num_frames)
    left = np.floor(pos).astype(np.int64)
    right = np.minimum(left + 1, len(aus) - 1)
    w = (pos - left)[:, None]
    return (aus[left] * (1 - w) + aus[right] * w).astype(np.float32)


def nanmean_rows(arrays: list[np.ndarray]) -> np.ndarray:
    """(17,) per-AU mean over all frames of several (T, 17) arrays, ignoring NaN."""
    stacked = np.concatenate([np.asarray(a, np.float64) for a in arrays])
    with np.errstate(invalid="ignore"):
        return np.nanmean(stacked, axis=0)


def baseline_pairs(
    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]],
    train_mean: np.ndarray,
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """(ref, baseline prediction) pairs for each baseline.

    Args:
        pairs: key -> (reference, model prediction), cropped to equal length.
        train_mean: (17,) training-set mean AU vector.

    Returns:
        baseline name -> key -> (reference, prediction). ``different_utterance`` is empty for a
        set of one utterance.
    """
    keys = sorted(pairs)
    out: dict[str, dict] = {TRAIN_MEAN: {}, DIFFERENT_UTT: {}}
    for i, key in enumerate(keys):
        ref = pairs[key][0]
        const = np.broadcast_to(train_mean.astype(np.float32), ref.shape).copy()
        out[TRAIN_MEAN][key] = (ref, const)
        if len(keys) > 1:
            other = pairs[keys[(i + 1) % len(keys)]][1]
            out[DIFFERENT_UTT][key] = (ref, time_warp(other, len(ref)))
    return out


def beats(model: SystemScores, baseline: SystemScores) -> dict[str, bool | None]:
    """Per metric, whether the model's AU-mean is better than the baseline's.

    An undefined baseline PCC (a constant predictor) counts as 0, i.e. no correlation.
    """
    result: dict[str, bool | None] = {}
    for m in METRICS:
        a, b = model.mean[m], baseline.mean[m]
        if math.isnan(b) and m in ("pcc", "ccc"):
            b = 0.0
        if math.isnan(a) or math.isnan(b):
            result[m] = None
        else:
            result[m] = bool(a > b) if HIGHER_IS_BETTER[m] else bool(a < b)
    return result


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(float(x)) else f"{x:.3f}"


def markdown_report(
    systems: Mapping[str, SystemScores],
    *,
    num_utterances: int,
    num_frames: int,
    fps: float,
    notes: list[str],
    verdict: Mapping[str, Mapping[str, bool | None]],
) -> str:
    """``scores.md``: a summary table (model vs baselines) and per-AU tables with FACS names
    (per-blendshape tables for ARKit streams)."""
    names = list(systems)
    space = target_for_width(len(next(iter(systems.values())).per_au["pcc"]))
    what = "AU" if space.name == "au" else "ARKit blendshape"
    lines = [
        f"# {what} estimation scores",
        "",
        f"{num_utterances} utterances, {num_frames} frames at {fps:g} fps; metrics over the "
        "concatenated frames (see espnet_cause/evaluation/scoring.py). PCC/CCC: higher is better; "
        f"RMSE/MAE on the {space.low:g}-{space.high:g} scale: lower is better. n/a: undefined "
        "(constant stream).",
        "",
        "| system | PCC | CCC | RMSE | MAE | PCC (utterance mean) |",
        "|---|---|---|---|---|---|",
    ]
    for s in names:
        sc = systems[s]
        row = [_fmt(sc.mean[m]) for m in METRICS] + [_fmt(sc.pcc_utt_mean)]
        lines.append(f"| {SYSTEM_LABELS.get(s, s)} | " + " | ".join(row) + " |")
    lines.append("")
    for base, result in verdict.items():
        won = [m.upper() for m, v in result.items() if v]
        lost = [m.upper() for m, v in result.items() if v is False]
        text = f"- model vs {SYSTEM_LABELS.get(base, base)}: better on {', '.join(won) or 'none'}"
        if lost:
            text += f"; not better on {', '.join(lost)}"
        lines.append(text)
    for note in notes:
        lines.append(f"- note: {note}")
    for m in METRICS:
        lines += ["", f"## {m.upper()} per {what}", ""]
        head = "| AU | FACS name | " if space.name == "au" else "| blendshape | "
        lines.append(head + " | ".join(SYSTEM_LABELS.get(s, s) for s in names) + " |")
        lines.append(("|---|---|" if space.name == "au" else "|---|") + "---|" * len(names))
        for j, col in enumerate(space.names):
            vals = " | ".join(_fmt(systems[s].per_au[m][j]) for s in names)
            label = f"{col} | {AU_FACS_NAMES[col]}" if space.name == "au" else col
            lines.append(f"| {label} | {vals} |")
    return "\n".join(lines) + "\n"
