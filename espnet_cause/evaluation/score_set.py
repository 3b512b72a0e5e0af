"""Score a set of predicted AU (or ARKit blendshape) streams against references.

The job behind ``python -m espnet_cause.bin.score``: :func:`run_scoring` pairs the predictions with
the references (resampled to the references' frame rate, lengths cropped), scores the model and
the baselines (:mod:`espnet_cause.evaluation.scoring`) and writes ``scores.json``, ``scores.md``
and ``plots/<utt>.png``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from espnet_cause.arkit import NUM_BLENDSHAPES
from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.evaluation import scoring
from espnet_cause.evaluation.plots import plot_au_trajectories
from espnet_cause.io import timegrid
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.au_files import read_au_fps, read_au_scp, read_au_source
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.targets import TARGETS, target_for_width

logger = logging.getLogger(__name__)

#: Utterances whose trajectories are plotted by default.
DEFAULT_NUM_PLOTS = 3


def load_au_set(
    path: str | Path, fps: float | None = None
) -> tuple[dict[str, Callable[[], np.ndarray]], float]:
    """Find the AU streams of a set without loading them.

    Args:
        path: Kaldi scp of matrices, scp of csv/npy paths, or a directory of csv/npy files
            (see :func:`espnet_cause.io.au_files.read_au_source`).
        fps: Frame rate override.

    Returns:
        (key -> loader returning a (T, 17) float32 array, frame rate).
    """

    blendshapes = _blendshape_set(path, fps)
    if blendshapes is not None:
        return blendshapes
    source = read_au_source(path, fps)
    rate = fps or read_au_fps(path, default=None)
    if rate is None:
        rate = (next(iter(source.values()))().fps if source else None) or DEFAULT_AU_FPS
    return {k: (lambda load=load: load().intensities) for k, load in source.items()}, rate


def _blendshape_set(path: str | Path, fps: float | None):
    """A Kaldi scp of (T, 51) blendshape matrices (``blendshapes.scp``, ``target: arkit``
    predictions) as ``(key -> loader, frame rate)``; None for anything else."""

    path = Path(path)
    if path.is_dir():
        path = path / "au.scp"
    if path.suffix.lower() != ".scp" or not path.is_file():
        return None
    values = list(read_kaldi_map(path, check_sorted=False).values())[:5]
    if not values or any(v.lower().endswith((".csv", ".npy")) for v in values):
        return None
    mats = read_au_scp(path)
    first = np.asarray(mats[next(iter(mats))])
    if first.ndim != 2 or first.shape[1] != NUM_BLENDSHAPES:
        return None
    rate = fps or read_au_fps(path, default=None) or DEFAULT_AU_FPS
    return {k: (lambda k=k: np.asarray(mats[k], np.float32)) for k in mats}, rate


def _load_checked(
    loader: Callable[[], np.ndarray], key: str, width: int | None = NUM_AUS
) -> np.ndarray:
    """Load one stream: (T, 17) AUs, or (T, 51) blendshapes when ``width`` says so (None: any of
    the two)."""

    array = np.asarray(loader(), np.float32)
    widths = [width] if width else [t.size for t in TARGETS.values()]
    if array.ndim != 2 or array.shape[1] not in widths:
        expected = " or ".join(f"(T, {w})" for w in widths)
        raise CauseError(f"utterance {key}: array has shape {array.shape}, expected {expected}")
    if len(array) == 0:
        raise CauseError(f"utterance {key}: AU array has no frames")
    return array


def run_scoring(
    ref: str | Path,
    hyp: str | Path,
    output_dir: str | Path,
    *,
    train_ref: str | Path | None = None,
    ref_fps: float | None = None,
    hyp_fps: float | None = None,
    num_plots: int = DEFAULT_NUM_PLOTS,
    plot_aus: list[str] | None = None,
) -> dict:
    """Score a set and write ``scores.json``, ``scores.md`` and ``plots/*.png``.

    Returns:
        The content of ``scores.json``.
    """

    output_dir = Path(output_dir)
    refs, rfps = load_au_set(ref, ref_fps)
    hyps, hfps = load_au_set(hyp, hyp_fps)
    notes: list[str] = []
    missing = sorted(set(refs) - set(hyps))
    pairs, length_diffs, skipped = _pair_up(refs, hyps, rfps, hfps, ref, hyp, notes)
    train_mean, mean_source = _mean_predictor(train_ref, pairs, ref, notes)

    systems = {scoring.MODEL: scoring.score_pairs(pairs)}
    for name, bpairs in scoring.baseline_pairs(pairs, train_mean).items():
        if bpairs:
            systems[name] = scoring.score_pairs(bpairs)
        else:
            notes.append(f"baseline {name} needs at least 2 utterances; not computed")
    verdict = {
        name: scoring.beats(systems[scoring.MODEL], sc)
        for name, sc in systems.items()
        if name != scoring.MODEL
    }
    num_frames = sum(len(r) for r, _ in pairs.values())
    result = {
        "ref": str(ref),
        "hyp": str(hyp),
        "fps": rfps,
        "num_utterances": len(pairs),
        "num_references": len(refs),
        "num_missing_predictions": len(missing),
        "num_frames": num_frames,
        "method": "per-AU metrics over the concatenated frames of all utterances; "
        "AU means over the AUs where the metric is defined",
        "train_mean_source": mean_source,
        "train_mean": {
            n: round(float(v), 6)
            for n, v in zip(target_for_width(len(train_mean)).names, train_mean, strict=True)
        },
        "systems": {name: sc.to_json() for name, sc in systems.items()},
        "model_beats": verdict,
        "notes": notes,
        "length_differences": length_diffs,
        "skipped": skipped,
    }
    _write_outputs(output_dir, result, systems, pairs, num_plots, plot_aus)
    model = systems[scoring.MODEL].mean
    logger.info(
        "%d of %d references scored (%d without a prediction): mean PCC %.3f CCC %.3f RMSE %.3f MAE %.3f -> %s",
        len(pairs),
        len(refs),
        len(missing),
        model["pcc"],
        model["ccc"],
        model["rmse"],
        model["mae"],
        output_dir / "scores.md",
    )
    return result


def _pair_up(refs, hyps, rfps: float, hfps: float, ref, hyp, notes: list[str]):
    """Load the (reference, prediction) pairs of the common keys, on the references' grid.

    Returns:
        (key -> (ref, hyp) arrays of equal length, key -> length difference, key -> skip reason).
    """

    missing = sorted(set(refs) - set(hyps))
    skipped = {key: "no prediction" for key in missing}
    if missing:
        notes.append(
            f"{len(missing)} of {len(refs)} references have no prediction and are not scored "
            f"(first: {', '.join(missing[:3])})"
        )
        logger.warning(notes[-1])
    extra = sorted(set(hyps) - set(refs))
    if extra:
        logger.warning(
            "%d predictions have no reference and are ignored: %s", len(extra), extra[:5]
        )
    keys = sorted(set(refs) & set(hyps))
    if not keys:
        raise CauseError(
            f"no utterance id is in both {ref} and {hyp}",
            fix="score the inference output of the same data set as the references",
        )
    if rfps != hfps:
        notes.append(f"predictions at {hfps:g} fps were resampled to the references' {rfps:g} fps")
        logger.info(notes[-1])
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    length_diffs: dict[str, int] = {}
    width = None  # 17 AUs or 51 blendshapes: the first reference says, the rest must agree
    for key in keys:
        try:
            r = _load_checked(refs[key], key, width)
            width = r.shape[1]
            h = _load_checked(hyps[key], key, width)
        except (CauseError, OSError, ValueError) as e:
            skipped[key] = str(e)
            logger.warning("skipping %s: %s", key, e)
            continue
        if rfps != hfps:
            h = timegrid.to_fps(h, hfps, rfps, len(h) / hfps)
        r, h, diff = scoring.crop_pair(key, r, h)
        if diff:
            length_diffs[key] = diff
        pairs[key] = (r, h)
    if not pairs:
        raise CauseError("no utterance could be scored", fix=f"see the reasons: {skipped}")
    big = {k: d for k, d in length_diffs.items() if abs(d) > scoring.MAX_SILENT_LENGTH_DIFF}
    if big:
        notes.append(
            f"{len(big)} utterances differ in length by more than "
            f"{scoring.MAX_SILENT_LENGTH_DIFF} frames (cropped to the shorter)"
        )
    return pairs, length_diffs, skipped


def _mean_predictor(train_ref, pairs: dict, ref, notes: list[str]) -> tuple[np.ndarray, str]:
    """The mean AU vector of the training references (else of the scored ones) and its source."""

    if train_ref is not None:
        train, _ = load_au_set(train_ref)
        width = next(iter(pairs.values()))[0].shape[1]
        train_mean = scoring.nanmean_rows(
            [_load_checked(train[k], k, width) for k in sorted(train)]
        )
        mean_source = str(train_ref)
    else:
        train_mean = scoring.nanmean_rows([r for r, _ in pairs.values()])
        mean_source = str(ref)
        notes.append(
            "no --train_ref: the mean predictor uses the mean of the scored references "
            "(an optimistic baseline)"
        )
    return np.nan_to_num(train_mean, nan=0.0), mean_source


def _write_outputs(
    output_dir: Path, result: dict, systems: dict, pairs: dict, num_plots: int, plot_aus
) -> None:
    """``scores.json``, ``scores.md`` and the trajectory plots of the first ``num_plots``."""

    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(output_dir / "scores.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md = scoring.markdown_report(
        systems,
        num_utterances=result["num_utterances"],
        num_frames=result["num_frames"],
        fps=result["fps"],
        notes=result["notes"] + [f"skipped {k}: {v}" for k, v in result["skipped"].items()],
        verdict=result["model_beats"],
    )
    with atomic_write(output_dir / "scores.md") as tmp:
        tmp.write_text(md, encoding="utf-8")
    indices = None
    if plot_aus:
        width = next(iter(pairs.values()))[0].shape[1]
        indices = _plot_indices(plot_aus, target_for_width(width))
    for key in list(pairs)[: max(0, num_plots)]:
        r, h = pairs[key]
        plot_au_trajectories(
            output_dir / "plots" / f"{key}.png", r, h, result["fps"], au_indices=indices, title=key
        )


def _plot_indices(names: list[str], space) -> list[int]:
    """Columns to plot: AU names (``AU12``) for AU sets, blendshape names for ARKit sets."""
    if space.name == "au":
        try:
            return sorted({au_index(a) for a in names})
        except KeyError as e:
            raise CauseError(str(e.args[0]), fix="name AUs like AU12") from None
    unknown = [n for n in names if n not in space.names]
    if unknown:
        raise CauseError(
            f"unknown blendshape {unknown[0]!r}", fix="name blendshapes like jawOpen (ARKit names)"
        )
    return sorted({space.names.index(n) for n in names})
