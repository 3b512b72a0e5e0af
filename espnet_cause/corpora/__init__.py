"""Corpus preparation: one module per corpus, each listing its on-disk layout into Kaldi data dirs.

Library functions in the style of lhotse recipes (``prepare_<corpus>(corpus_dir, output_dir,
...)``), idempotent and validated after writing; ``python -m espnet_cause.bin.prepare_data`` is the
thin CLI over :func:`prepare`.
"""

from __future__ import annotations

import os

from espnet_cause.errors import CauseError

#: Corpus name -> ``module:function`` of its preparer.
CORPORA: dict[str, str] = {
    "mini": "espnet_cause.corpora.mini:prepare_mini",
    "crema_d": "espnet_cause.corpora.crema_d:prepare_crema_d",
    "mead": "espnet_cause.corpora.mead:prepare_mead",
    "voxceleb2": "espnet_cause.corpora.voxceleb2:prepare_voxceleb2",
    "lrs3": "espnet_cause.corpora.lrs3:prepare_lrs3",
    "folder": "espnet_cause.corpora.folder:prepare_folder",
}


def prepare(
    corpus: str, corpus_dir: str | os.PathLike, output_dir: str | os.PathLike, **kwargs
) -> dict[str, int]:
    """Prepare ``corpus`` from ``corpus_dir`` into ``output_dir/{train,valid,test}``.

    Args:
        corpus: One of :data:`CORPORA`.
        corpus_dir: The corpus root (for ``mini``: where it is generated).
        output_dir: Parent of the data dirs.
        **kwargs: Passed to the corpus's preparer (split sizes, seed, corpus options).

    Returns:
        Split name -> number of utterances.
    """
    import importlib

    if corpus not in CORPORA:
        raise CauseError(f"unknown corpus {corpus!r}", fix=f"choose one of {', '.join(CORPORA)}")
    module, func = CORPORA[corpus].split(":")
    return getattr(importlib.import_module(module), func)(corpus_dir, output_dir, **kwargs)
