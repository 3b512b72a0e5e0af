"""Emotion labels of the corpora: which classes each has, and the label files of a recipe.

Stage 1 writes ``data/<set>/emotion`` (``<utt> <class>``, class names of
:data:`espnet_cause.emotion.EMOTIONS`) for corpora whose file names carry the emotion, and
``data/emotion_classes`` (the corpus's classes, one line, space separated): a recogniser trained
on the corpus masks the other classes (posterior exactly 0) instead of guessing them.

==========  ==================================================================================
corpus      classes (from)
==========  ==================================================================================
mead        all 8 (the ``<emotion>`` folder: angry, contempt, disgusted, fear, happy, neutral,
            sad, surprised)
crema_d     6: angry, disgusted, fearful, happy, neutral, sad (``ANG DIS FEA HAP NEU SAD``)
ravdess     7: all but contempt (the ``EE`` field of the file name; calm is written as neutral)
mini        3: neutral, happy, sad (drawn per utterance; each changes the voice and adds its own
            AUs; angry and surprised are defined too, see :mod:`espnet_cause.corpora.mini.moods`)
==========  ==================================================================================

:func:`write_emotion_labels` turns ``data/<set>/emotion`` into the recogniser's training labels
``dump/<set>/emotion`` (``<utt> <class index>``, ESPnet's ``text_int``), for the utterances
stage 2 kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from espnet_cause.emotion import EMOTIONS, class_mask, parse_emotion
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map

#: The classes each labelled corpus has (in :data:`EMOTIONS` order).
CORPUS_CLASSES: dict[str, tuple[str, ...]] = {
    "mead": EMOTIONS,
    "crema_d": ("neutral", "happy", "sad", "angry", "disgusted", "fearful"),
    "ravdess": ("neutral", "happy", "surprised", "sad", "angry", "disgusted", "fearful"),
    "mini": ("neutral", "happy", "sad"),  # corpora.mini.moods: neutral + EMOTIONAL
}
#: File names: per data dir, beside the data dirs, and the recogniser's labels in a dump dir.
LABEL_FILE = "emotion"
CLASSES_FILE = "emotion_classes"


def write_classes_file(output_dir: str | os.PathLike, corpus: str) -> Path | None:
    """Write ``output_dir/emotion_classes`` for a labelled corpus (None for the others)."""

    if corpus not in CORPUS_CLASSES:
        return None
    path = Path(output_dir) / CLASSES_FILE
    with atomic_write(path) as tmp:
        tmp.write_text(" ".join(CORPUS_CLASSES[corpus]) + "\n", encoding="utf-8")
    return path


def read_classes_file(path: str | os.PathLike) -> tuple[str, ...]:
    """The classes listed in an ``emotion_classes`` file, in :data:`EMOTIONS` order.

    Raises:
        CauseError: naming the file when it is missing or lists an unknown class.
    """
    path = Path(path)
    if not path.is_file():
        raise CauseError(
            "emotion classes file not found",
            path=path,
            fix="run stage 1 on a corpus with emotion labels (mini, mead, crema_d)",
        )
    names = path.read_text(encoding="utf-8").split()
    try:
        mask = class_mask(names)
    except CauseError as e:
        raise CauseError(e.message, path=path, fix=e.fix) from None
    return tuple(e for e, m in zip(EMOTIONS, mask) if m)


def write_emotion_labels(
    data_dir: str | os.PathLike,
    dump_dir: str | os.PathLike,
    classes: tuple[str, ...] | None = None,
) -> dict[str, int]:
    """``data_dir/emotion`` -> ``dump_dir/emotion`` (class indices) for ``dump_dir/wav.scp``.

    Args:
        data_dir: A stage-1 data dir with an ``emotion`` file.
        dump_dir: The stage-2 dump dir of the same set (its ``wav.scp`` lists the kept
            utterances).
        classes: The recogniser's classes; a label outside them is an error.

    Returns:
        Class name -> number of utterances.

    Raises:
        CauseError: naming the file and line of an unknown or unexpected label, or an utterance
            of the dump dir without a label.
    """

    data_dir, dump_dir = Path(data_dir), Path(dump_dir)
    source = data_dir / LABEL_FILE
    if not source.is_file():
        raise CauseError(
            "no emotion labels in this data dir",
            path=source,
            fix="run stage 1 on a corpus with emotion labels (mini, mead, crema_d)",
        )
    labels = read_kaldi_map(source)
    lines = {k: i for i, k in enumerate(labels, start=1)}
    allowed = set(classes or EMOTIONS)
    indices: dict[str, int] = {}
    for key in read_kaldi_map(dump_dir / "wav.scp"):
        if key not in labels:
            raise CauseError(
                f"utterance {key!r} of {dump_dir / 'wav.scp'} has no emotion label",
                path=source,
                fix="run stage 1 again so that every utterance is labelled",
            )
        try:
            name = parse_emotion(labels[key])
        except CauseError as e:
            raise CauseError(e.message, path=source, line=lines[key], fix=e.fix) from None
        if name not in allowed:
            raise CauseError(
                f"label {name!r} is not one of the recogniser's classes {sorted(allowed)}",
                path=source,
                line=lines[key],
                fix="add it to emotion_classes or drop the utterance",
            )
        indices[key] = EMOTIONS.index(name)
    write_kaldi_map(dump_dir / LABEL_FILE, indices)
    counts: dict[str, int] = {}
    for index in indices.values():
        counts[EMOTIONS[index]] = counts.get(EMOTIONS[index], 0) + 1
    return counts
