"""Train the ``expressive`` model's emotion recogniser and pack it with a mouth model.

The job behind ``emotion_recogniser_train``: the voice functionals of every labelled utterance
(:mod:`espnet_cause.inference.voice_functionals`; an utterance that cannot be read is skipped
with its reason), the two regressions
(:func:`espnet_cause.inference.emotion_recogniser.train_recogniser`), and the zip
(:func:`espnet_cause.inference.expressive_zip.pack_expressive`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from espnet_cause.assets import resolve_model
from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import MIN_SPEAKER_UTTERANCES, train_recogniser
from espnet_cause.inference.expressive_zip import pack_expressive
from espnet_cause.inference.voice_functionals import voice_functionals
from espnet_cause.io.audio import load_speech

logger = logging.getLogger(__name__)


def functionals_table(items: Sequence) -> tuple[np.ndarray, list, dict[str, str]]:
    """(U, D) functionals of the readable items, those items, and item -> reason skipped.

    Args:
        items: Labelled recordings with ``name``, ``path``, ``speaker`` and ``emotion``
            (:class:`espnet_cause.evaluation.expression.Item`).
    """
    rows, kept, skipped = [], [], {}
    for i, it in enumerate(items):
        try:
            wav, fs = load_speech(it.path, name=it.name)
            rows.append(voice_functionals(wav, fs))
            kept.append(it)
        except CauseError as e:
            skipped[it.name] = str(e)
            logger.warning("%s: skipped: %s", it.name, e)
        if (i + 1) % 100 == 0:
            logger.info("functionals of %d / %d utterances", i + 1, len(items))
    return (np.stack(rows) if rows else np.zeros((0, 0))), kept, skipped


def train_expressive(
    items: Sequence,
    output: str | os.PathLike,
    base_model: str | os.PathLike | None = "builtin",
    c: float = 0.1,
    info: dict | None = None,
) -> dict:
    """Train the recogniser on ``items`` and write the expressive zip ``output``.

    Args:
        items: Labelled utterances (speaker and emotion each); every speaker needs
            :data:`MIN_SPEAKER_UTTERANCES` readable ones.
        output: The model zip to write.
        base_model: The mouth model (a zip path or built-in name).
        c: Inverse L2 strength of the regressions.
        info: Extra lines for the zip's meta entry (data, licence).

    Returns:
        The report: utterances and speakers used, skipped items with reasons, the classes.

    Raises:
        CauseError: when nothing is left to train on.
    """
    if not items:
        raise CauseError("no labelled utterance to train on", fix="pass --speech or --data_dir")
    feats, kept, skipped = functionals_table(items)
    if not kept:
        raise CauseError("no utterance could be read", fix="see the reasons logged above")
    rec = train_recogniser(feats, [it.emotion for it in kept], [it.speaker for it in kept], c=c)
    speakers = sorted({it.speaker for it in kept})
    meta = {"c": c, "utterances": len(kept), "speakers": speakers, **(info or {})}
    out = pack_expressive(resolve_model(base_model), rec, output, info=meta)
    report = {
        "output": str(out),
        "classes": list(rec.classes),
        "utterances": len(kept),
        "speakers": speakers,
        "min_speaker_utterances": MIN_SPEAKER_UTTERANCES,
        "skipped": skipped,
    }
    return report
