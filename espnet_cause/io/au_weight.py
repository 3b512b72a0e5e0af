"""Per-utterance loss weights of the outputs: ``au_weight.scp``.

An optional file of a Kaldi data or dump dir: ``<utt> <path.npy>`` lines, each ``.npy`` a float32
vector of one weight per output, ``(17,)`` in OpenFace AU order (any target; a ``target: arkit``
model maps it onto its 51 blendshapes) or ``(num_targets,)``; or a ``(T, 17)`` /
``(T, num_targets)`` matrix of per-frame weights on the utterance's AU frames (one set of
utterances uses one kind: ESPnet stacks them into a batch). A weight is >= 0; 0 means "this
output does not teach for this utterance" (a tracker's unreliable AU, a corpus whose labels do
not carry the upper face...). The ESPnet task reads it as the optional data name ``au_weight``::

    --train_data_path_and_name_and_type dump/train/au_weight.scp,au_weight,npy

and the model weighs every loss with it, normalised by the total weight
(:class:`espnet_cause.models.espnet_model.ESPnetCAUSEModel`). Without the file every output
weighs 1 for every utterance.

A weight table for a whole corpus is a YAML mapping of AU names to weights (the AUs left out
weigh 1), e.g. ``conf/au_weights/tracked_mouth.yaml``, or the same inline: ``AU01=0,AU45=0``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import yaml

from espnet_cause.au import AU_NAMES, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map

#: The file name in a data or dump dir.
AU_WEIGHT_SCP = "au_weight.scp"
#: The directory beside it that holds the vectors written by :func:`write_au_weights`.
AU_WEIGHT_DIR = "au_weight"


def parse_au_weights(spec: str | os.PathLike | Mapping[str, float]) -> np.ndarray:
    """A (17,) AU weight vector from a table: a mapping, a YAML file, or ``AU01=0,AU45=0``.

    Raises:
        CauseError: naming the table for an unknown AU or a weight that is not a number >= 0.
    """
    source = str(spec) if not isinstance(spec, Mapping) else "weights"
    if isinstance(spec, Mapping):
        table = dict(spec)
    elif Path(spec).suffix in (".yaml", ".yml") or Path(spec).is_file():
        path = Path(spec)
        if not path.is_file():
            raise CauseError("AU weight table not found", path=path)
        table = yaml.safe_load(path.read_text()) or {}
        if not isinstance(table, dict):
            raise CauseError("an AU weight table is a mapping 'AU01: 0.0'", path=path)
    else:
        table = {}
        for item in filter(None, (s.strip() for s in str(spec).split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise CauseError(f"{item!r} is not NAME=WEIGHT", fix="write e.g. AU01=0,AU45=0")
            table[name.strip()] = value.strip()
    out = np.ones(NUM_AUS, dtype=np.float32)
    for name, value in table.items():
        if name not in AU_NAMES:
            raise CauseError(
                f"{source}: unknown AU {name!r}", fix=f"use the names {', '.join(AU_NAMES)}"
            )
        try:
            w = float(value)
        except (TypeError, ValueError):
            w = float("nan")
        if not w >= 0:
            raise CauseError(f"{source}: weight of {name} must be a number >= 0, got {value!r}")
        out[AU_NAMES.index(name)] = w
    return out


def write_au_weights(directory: str | os.PathLike, weights: Mapping[str, np.ndarray]) -> Path:
    """Write ``directory/au_weight.scp`` and one ``directory/au_weight/<utt>.npy`` per utterance.

    Args:
        directory: The data or dump dir.
        weights: Utterance id -> (D,) weights >= 0.

    Returns:
        The scp path.
    """
    directory = Path(directory)
    paths = {}
    for utt, vector in weights.items():
        w = check_au_weight(np.asarray(vector, dtype=np.float32), f"{utt}")
        path = (directory / AU_WEIGHT_DIR / f"{utt}.npy").absolute()
        with atomic_write(path) as tmp:
            np.save(tmp, w)
        paths[utt] = path
    write_kaldi_map(directory / AU_WEIGHT_SCP, paths)
    return directory / AU_WEIGHT_SCP


def read_au_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an ``au_weight.scp``: utterance id -> (D,) float32 weights.

    Raises:
        CauseError: naming the scp and the utterance for a missing or bad vector.
    """
    out = {}
    for utt, value in read_kaldi_map(path).items():
        try:
            vector = np.load(value)
        except (OSError, ValueError) as e:
            raise CauseError(f"{utt}: cannot read {value}: {e}", path=path) from None
        out[utt] = check_au_weight(vector, f"{path}: {utt}")
    return out


def check_au_weight(vector: np.ndarray, what: str) -> np.ndarray:
    """``vector`` as float32 if it is a (D,) vector or (T, D) matrix of finite weights >= 0;
    else a CauseError."""
    v = np.asarray(vector)
    if v.ndim not in (1, 2) or not v.size or not np.isfinite(v).all() or (v < 0).any():
        raise CauseError(
            f"{what}: an AU weight must be a (D,) vector or (T, D) matrix of finite numbers "
            f">= 0, got shape {v.shape}",
            fix="write (17,) or (num_targets,) float32 vectors (or (T, 17) per frame)",
        )
    return v.astype(np.float32)
