"""Corpus preparation: one module per corpus, each listing its on-disk layout into Kaldi data dirs.

Library functions in the style of lhotse recipes: each corpus module lists its utterances
(``list_<corpus>(corpus_dir, ...)``) and :func:`prepare` splits them by speaker into data dirs
(:func:`espnet_cause.corpora.common.write_data_dirs`), idempotent and validated after writing; the
synthetic ``mini`` corpus generates itself first (``prepare_mini``). ``python -m
espnet_cause.bin.prepare_data`` is the thin CLI over :func:`prepare`.
"""

from __future__ import annotations

import importlib
import os

from espnet_cause.corpora.common import write_data_dirs
from espnet_cause.corpora.emotions import write_classes_file
from espnet_cause.errors import CauseError

#: Corpus name -> ``module:function`` that lists its utterances (:data:`PREPARES_ITSELF`: that prepares its data dirs).
CORPORA: dict[str, str] = {
    "mini": "espnet_cause.corpora.mini.corpus:prepare_mini",
    "crema_d": "espnet_cause.corpora.crema_d:list_crema_d",
    "ravdess": "espnet_cause.corpora.ravdess:list_ravdess",
    "mead": "espnet_cause.corpora.mead:list_mead",
    "voxceleb2": "espnet_cause.corpora.voxceleb2:list_voxceleb2",
    "lrs3": "espnet_cause.corpora.lrs3:list_lrs3",
    "folder": "espnet_cause.corpora.folder:list_folder",
    "grid": "espnet_cause.corpora.grid:prepare_grid",
}
#: Corpora whose function prepares the data dirs itself (generation, or their own split rule).
PREPARES_ITSELF = ("mini", "grid")
#: Keyword arguments of :func:`prepare` that choose the speaker split.
SPLIT_KEYS = ("valid_speakers", "test_speakers", "seed")


def prepare(
    corpus: str, corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, **kwargs
) -> dict[str, int]:
    """Prepare ``corpus`` from ``corpus_dir`` into ``output_dir/{train,valid,test}``.

    Args:
        corpus: One of :data:`CORPORA`.
        corpus_dir: The corpus root (for ``mini``: where it is generated).
        output_dir: Parent of the data dirs.
        **kwargs: Split options (:data:`SPLIT_KEYS`) and the corpus's own options (``folder``:
            ``openface_dir``; ``mini``: its generation options).

    Returns:
        Split name -> number of utterances.
    """
    if corpus not in CORPORA:
        raise CauseError(f"unknown corpus {corpus!r}", fix=f"choose one of {', '.join(CORPORA)}")
    module, func = CORPORA[corpus].split(":")
    fn = getattr(importlib.import_module(module), func)
    if corpus in PREPARES_ITSELF:
        counts = fn(corpus_dir, output_dir, **kwargs)
    else:
        split = {k: kwargs.pop(k) for k in SPLIT_KEYS if k in kwargs}
        utts = fn(corpus_dir, **kwargs)
        # a corpus with a fixed speaker split (ravdess: by actor) uses it unless sizes are given
        default_split = getattr(importlib.import_module(module), "default_split", None)
        if default_split is not None and not {"valid_speakers", "test_speakers"} & set(split):
            split["split"] = default_split(u.speaker for u in utts)
        counts = write_data_dirs(utts, output_dir, **split)
    write_classes_file(output_dir, corpus)  # the corpus's emotion classes, if it has labels
    return counts
