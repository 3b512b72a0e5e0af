"""GRID (Cooke et al., 2006): 34 speakers reading six-word commands to the camera, CC BY 4.0.

Two layouts under ``--corpus_dir`` are read, alone or together:

    s<N>/.../<sentence>.mpg            the corpus's own layout: one directory per speaker
    s<N>/align/<sentence>.align        optional word alignments (``start end word`` per line)
    <folder>/<sentence>.<any video>    a flat folder of GRID clips, e.g. re-encoded ``.mkv``;
                                       the speaker is ``s<N>`` when the folder is named ``s<N>``
                                       or ends in ``_s<N>`` (``grid_s4``), else unknown

``<sentence>`` is GRID's six-letter code of the words (command, colour, preposition, letter,
digit, adverb: ``bbaf2n`` = "bin blue at f two now"); files with another name are not GRID clips
and are left out. The video is also the audio source. ``text`` holds the words: from the
alignment when there is one (its words without ``sil``/``sp``), else from the code.

A clip whose speaker is unknown gets a speaker of its own (``<folder>-<sentence>``): clips of
unknown speakers are never grouped, so none can end up in train and test as the same person.

Split (:func:`split_grid`): speakers with fewer than ``min_train_clips`` clips (default 10; e.g.
single clips of unknown speakers) are too few to teach and go to **test**, as "other people".
With at least 3 speakers left, those are split by speaker as every corpus is
(:func:`~espnet_cause.corpora.common.split_speakers`); with fewer, 10% of each remaining
speaker's clips are held out for **valid** (:func:`~espnet_cause.corpora.common.hold_out_clips`)
and the log names them. ``--valid_speakers``/``--test_speakers`` force a plain speaker split.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from pathlib import Path

from espnet_cause.corpora.common import (
    DEFAULT_HELD_OUT_FRACTION,
    MIN_SPEAKERS_TO_SPLIT,
    VIDEO_SUFFIXES,
    Utterance,
    clean_id,
    find_files,
    hold_out_clips,
    require_dir,
    require_some,
    split_speakers,
    write_data_dirs,
    write_splits,
)

logger = logging.getLogger(__name__)

LAYOUT = "s<N>/<sentence>.mpg (+ s<N>/align/<sentence>.align) or <folder>/<sentence>.<video>"

#: GRID's words by position in the sentence code.
COMMANDS = {"b": "bin", "l": "lay", "p": "place", "s": "set"}
COLOURS = {"b": "blue", "g": "green", "r": "red", "w": "white"}
PREPOSITIONS = {"a": "at", "b": "by", "i": "in", "w": "with"}
DIGITS = {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}
DIGITS.update({"6": "six", "7": "seven", "8": "eight", "9": "nine"})
ADVERBS = {"a": "again", "n": "now", "p": "please", "s": "soon"}
SENTENCE = re.compile(r"^([blps])([bgrw])([abiw])([a-z])([1-9z])([anps])$")
SPEAKER = re.compile(r"(?:^|_)(s\d+)$")
#: Alignment words that are not words.
SILENCES = ("sil", "sp")
#: Speakers with fewer clips go to test (too few to teach; "other people").
MIN_TRAIN_CLIPS = 10


def sentence_text(code: str) -> str | None:
    """The words of a GRID sentence code (``bbaf2n`` -> "bin blue at f two now"), None if not one."""
    m = SENTENCE.match(code.lower())
    if m is None:
        return None
    cmd, colour, prep, letter, digit, adverb = m.groups()
    words = (COMMANDS[cmd], COLOURS[colour], PREPOSITIONS[prep], letter)
    return " ".join((*words, DIGITS[digit], ADVERBS[adverb]))


def read_alignment_words(path: Path) -> str | None:
    """The words of a GRID ``.align`` file (``start end word`` lines; silences left out)."""
    words = []
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2].lower() not in SILENCES:
            words.append(fields[2].lower())
    return " ".join(words) or None


def speaker_of(rel: Path) -> str | None:
    """The GRID speaker (``s<N>``) named by a directory of a clip's relative path, or None."""
    for part in reversed(rel.parts[:-1]):
        m = SPEAKER.search(part.lower())
        if m:
            return m.group(1)
    return None


def list_grid(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """List the GRID clips under ``corpus_dir`` (layouts: module docstring)."""
    root = require_dir(corpus_dir, "grid", LAYOUT)
    aligns = {
        (speaker_of(p.relative_to(root)), p.stem.lower()): p for p in find_files(root, (".align",))
    }
    utts = []
    for p in find_files(root, VIDEO_SUFFIXES):
        text = sentence_text(p.stem)
        if text is None:
            logger.debug("%s: not a GRID sentence name, left out", p)
            continue
        rel = p.relative_to(root)
        speaker = speaker_of(rel)
        align = aligns.get((speaker, p.stem.lower()))
        if align is not None:
            text = read_alignment_words(align) or text
        if speaker is None:
            speaker = clean_id(rel.parts[-2] if len(rel.parts) > 1 else "grid", p.stem)
        utts.append(
            Utterance(
                utt_id=clean_id(speaker, p.stem),
                speaker=speaker,
                audio=p,
                video=p,
                text=text,
            )
        )
    require_some(utts, root, "grid", LAYOUT)
    return utts


def split_grid(
    utts: list[Utterance],
    *,
    min_train_clips: int = MIN_TRAIN_CLIPS,
    seed: int = 0,
) -> dict[str, list[Utterance]]:
    """Split GRID clips into train/valid/test (rule: module docstring).

    Args:
        utts: The clips (:func:`list_grid`).
        min_train_clips: Speakers with fewer clips go to test.
        seed: Seed of the speaker or clip choice.

    Returns:
        Split name -> utterances.
    """
    clips = Counter(u.speaker for u in utts)
    few = {s for s, n in clips.items() if n < min_train_clips}
    test = [u for u in utts if u.speaker in few]
    rest = [u for u in utts if u.speaker not in few]
    speakers = sorted({u.speaker for u in rest})
    if len(speakers) >= MIN_SPEAKERS_TO_SPLIT:
        by = split_speakers(speakers, seed=seed)
        test += [u for u in rest if u.speaker in by["test"]]
        valid = [u for u in rest if u.speaker in by["valid"]]
        train = [u for u in rest if u.speaker in by["train"]]
    else:
        train, valid = hold_out_clips(rest, DEFAULT_HELD_OUT_FRACTION, seed)
        logger.info("valid: held-out clips %s", " ".join(u.utt_id for u in valid))
    if few:
        logger.info("test: %d clips of speakers with < %d clips", len(few), min_train_clips)
    return {"train": train, "valid": valid, "test": test}


def prepare_grid(
    corpus_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    valid_speakers: int | None = None,
    test_speakers: int | None = None,
    seed: int = 0,
    min_train_clips: int = MIN_TRAIN_CLIPS,
) -> dict[str, int]:
    """List GRID under ``corpus_dir``, split it and write ``output_dir/{train,valid,test}``.

    Args:
        corpus_dir: The GRID root or a folder of GRID clips.
        output_dir: Parent of the data dirs.
        valid_speakers: With ``test_speakers``: a plain speaker split instead of the GRID rule.
        test_speakers: See ``valid_speakers``.
        seed: Seed of the split.
        min_train_clips: Speakers with fewer clips go to test.

    Returns:
        Split name -> number of utterances.
    """
    utts = list_grid(corpus_dir)
    if valid_speakers is not None or test_speakers is not None:
        return write_data_dirs(
            utts, output_dir, valid_speakers=valid_speakers, test_speakers=test_speakers, seed=seed
        )
    return write_splits(split_grid(utts, min_train_clips=min_train_clips, seed=seed), output_dir)
