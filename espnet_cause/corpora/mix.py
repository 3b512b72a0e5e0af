"""Mix corpora for training: several dump dirs (stage 2 outputs) -> one dump dir.

A model that learns from real face tracks and from the synthetic mini corpus at once trains on
the union of their dump dirs. :func:`combine_dump_dirs` writes it: ``wav.scp``, ``au.scp``,
``blendshapes.scp``, ``head_pose.scp`` and ``emotion`` (those every input has), ``utt2spk``/``spk2utt``,
``au_fps`` and ``au_weight.scp``. The lists point at the inputs' files (nothing is copied).

Loss weights: an input's own ``au_weight.scp`` is kept; an input without one gets its
``weights`` table (:func:`espnet_cause.io.au_weight.parse_au_weights`; none: every output 1),
so every utterance of the mix has a vector and ESPnet's batches stay rectangular; when an input
has per-frame (T, D) weights, the others' vectors are repeated over their frames. Utterance ids
must not repeat across inputs, and all inputs must share one AU frame rate.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import kaldiio
import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.au_files import AU_FPS_FILE, read_au_fps, write_au_fps
from espnet_cause.io.au_weight import (
    AU_WEIGHT_SCP,
    parse_au_weights,
    read_au_weights,
    write_au_weights,
)
from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map, write_utt2spk_spk2utt

logger = logging.getLogger(__name__)

#: Lists joined when every input has them (``wav.scp`` and ``utt2spk`` are required);
#: ``emotion``: class indices (stage 2 of labelled corpora), for a model with an emotion head.
LISTS = ("wav.scp", "au.scp", "blendshapes.scp", "head_pose.scp", "emotion")


def combine_dump_dirs(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    weights: Sequence[str | None] | None = None,
) -> dict[str, int]:
    """Join dump dirs into ``output_dir`` (see the module docstring).

    Args:
        inputs: Dump dirs (each with ``wav.scp``, ``utt2spk`` and labels).
        output_dir: The mixed dump dir (written afresh).
        weights: Per input, a weight table for its utterances without an ``au_weight.scp``
            (None: all 1); None for all inputs.

    Returns:
        Input dir -> number of utterances taken from it.

    Raises:
        CauseError: for a missing list, a repeated utterance id, different AU frame rates or
            weight vectors of different sizes.
    """
    inputs = [Path(d) for d in inputs]
    if not inputs:
        raise CauseError("no dump dirs to combine", fix="give at least one input dump dir")
    weights = list(weights) if weights is not None else [None] * len(inputs)
    if len(weights) != len(inputs):
        raise CauseError(f"{len(weights)} weight tables for {len(inputs)} inputs")
    output_dir = Path(output_dir)
    lists = [n for n in LISTS if all((d / n).is_file() for d in inputs)]
    for required in ("wav.scp", "au.scp"):
        for d in inputs:
            if not (d / required).is_file():
                raise CauseError("not a dump dir", path=d / required, fix="run stage 2 first")
    fps = {read_au_fps(d / "au.scp", default=None) for d in inputs}
    if len(fps) > 1:
        raise CauseError(f"the inputs have different AU frame rates {sorted(map(str, fps))}")
    joined: dict[str, dict[str, str]] = {n: {} for n in (*lists, "utt2spk")}
    vectors: dict[str, np.ndarray] = {}
    counts = {}
    for d, table in zip(inputs, weights, strict=True):
        utt2spk = read_kaldi_map(d / "utt2spk")
        clash = sorted(set(utt2spk) & set(joined["utt2spk"]))
        if clash:
            raise CauseError(
                f"utterance {clash[0]!r} is in two inputs",
                path=d,
                fix="give each corpus its own ids",
            )
        for name in joined:
            joined[name].update(read_kaldi_map(d / name))
        if (d / AU_WEIGHT_SCP).is_file():
            vectors.update(read_au_weights(d / AU_WEIGHT_SCP))
        else:
            vector = parse_au_weights(table) if table is not None else None
            vectors.update({u: vector for u in utt2spk})
        counts[str(d)] = len(utt2spk)
    sizes = {v.shape[-1] for v in vectors.values() if v is not None}
    if len(sizes) > 1:
        raise CauseError(f"the inputs' au_weight vectors have different sizes {sorted(sizes)}")
    size = sizes.pop() if sizes else None
    if any(v is not None and v.ndim == 2 for v in vectors.values()):
        frames = _frames(joined["au.scp"])
        ones = np.ones(size, dtype=np.float32)
        vectors = {
            u: v
            if v is not None and v.ndim == 2
            else np.tile(ones if v is None else v, (frames[u], 1))
            for u, v in vectors.items()
        }
    for name in lists:
        write_kaldi_map(output_dir / name, joined[name])
    for name in set(LISTS) - set(lists):  # a list of an earlier mix that not every input has
        (output_dir / name).unlink(missing_ok=True)
    write_utt2spk_spk2utt(output_dir, joined["utt2spk"])
    fps_value = fps.pop()
    if fps_value is not None:
        write_au_fps(output_dir / AU_FPS_FILE, fps_value)
    if size is not None:
        ones = np.ones(size, dtype=np.float32)
        write_au_weights(output_dir, {u: ones if v is None else v for u, v in vectors.items()})
    elif (output_dir / AU_WEIGHT_SCP).exists():
        (output_dir / AU_WEIGHT_SCP).unlink()
    logger.info("%s: %s", output_dir, ", ".join(f"{n} from {d}" for d, n in counts.items()))
    return counts


def _frames(au_scp: dict[str, str]) -> dict[str, int]:
    """Frames of each utterance's label matrix (``au.scp`` entries)."""
    return {u: int(kaldiio.load_mat(v).shape[0]) for u, v in au_scp.items()}
