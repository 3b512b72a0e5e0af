"""Helpers shared by the corpus preparers: the utterance record, speaker splits, data dir writing.

Every preparer lists its corpus as :class:`Utterance` records; :func:`write_data_dirs` splits them
by speaker into ``train``/``valid``/``test`` Kaldi data dirs and validates what it wrote.

In the data dirs written here, ``wav.scp`` points at the file that holds the utterance's audio:
a wav/m4a file when the corpus ships one, otherwise the video itself (stage 2 decodes the audio
track to 16 kHz mono wav). ``video.scp`` and ``au_csv.scp`` may cover a subset of the utterances.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from espnet_cause.errors import CauseError
from espnet_cause.io.datadir import validate_data_dir, write_kaldi_map, write_utt2spk_spk2utt

logger = logging.getLogger(__name__)

#: The split names, in the order speakers are assigned to them (test first, then valid).
SPLITS = ("train", "valid", "test")
#: Video file suffixes the preparers recognise.
VIDEO_SUFFIXES = (".mp4", ".flv", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg")
#: Default share of speakers held out for valid and for test when not given.
DEFAULT_HELD_OUT_FRACTION = 0.1

_ID_BAD = re.compile(r"[^A-Za-z0-9_.+-]+")


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One utterance of a corpus.

    Attributes:
        utt_id: Kaldi utterance id; starts with the speaker id so that sorting groups speakers.
        speaker: Speaker id.
        audio: File holding the audio (wav, m4a, or the video).
        video: Video file, if any.
        au_csv: OpenFace-style AU CSV, if any.
        text: Transcript, if known.
        emotion: Emotion class (:data:`espnet_cause.emotion.EMOTIONS`), if the corpus labels it.
        intensity: How strongly the emotion is acted (``normal`` or ``strong``), if labelled.
    """

    utt_id: str
    speaker: str
    audio: Path
    video: Path | None = None
    au_csv: Path | None = None
    text: str | None = None
    emotion: str | None = None
    intensity: str | None = None


def clean_id(*parts: str) -> str:
    """Join parts with ``-`` into a Kaldi-safe id (odd characters and white space become ``_``).

    ``-`` sorts before digits and letters, so ids that start with ``<speaker>-`` sort grouped by
    speaker even when one speaker id is a prefix of another (Kaldi's convention).
    """
    return "-".join(_ID_BAD.sub("_", p).strip("_") for p in parts if p)


def require_dir(path: str | os.PathLike, corpus: str, layout: str) -> Path:
    """The corpus directory, resolved; a :class:`CauseError` naming it if it is not a directory.

    Args:
        path: The ``--corpus_dir`` the user gave.
        corpus: Corpus name for the message.
        layout: One line describing the expected layout, for the fix.
    """
    path = Path(path)
    if not path.is_dir():
        raise CauseError(
            f"{corpus} corpus directory not found",
            path=path,
            fix=f"pass --corpus_dir pointing at the {corpus} root ({layout})",
        )
    return path.resolve()


def require_some(utts: Sequence[Utterance], root: Path, corpus: str, layout: str) -> None:
    """Raise a :class:`CauseError` naming ``root`` when no utterance was found in it."""
    if not utts:
        raise CauseError(
            f"no {corpus} utterances found",
            path=root,
            fix=f"check that the directory has the {corpus} layout: {layout}",
        )


def find_files(root: Path, suffixes: Iterable[str]) -> list[Path]:
    """All files below ``root`` with one of ``suffixes`` (case-insensitive), sorted."""
    suffixes = tuple(s.lower() for s in suffixes)
    out = []
    for dirpath, _, filenames in os.walk(root, followlinks=True):
        for name in filenames:
            if name.lower().endswith(suffixes) and not name.startswith("."):
                out.append(Path(dirpath) / name)
    return sorted(out)


def _speaker_order(speaker: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{speaker}".encode()).hexdigest()


def split_speakers(
    speakers: Iterable[str],
    *,
    valid_speakers: int | None = None,
    test_speakers: int | None = None,
    seed: int = 0,
) -> dict[str, list[str]]:
    """Assign speakers to ``train``/``valid``/``test``, deterministically.

    Speakers are ordered by a hash of ``seed`` and their id (so the split does not depend on
    listing order and adding a speaker moves no other); the first ``test_speakers`` go to test,
    the next ``valid_speakers`` to valid, the rest to train.

    Args:
        speakers: Speaker ids.
        valid_speakers: Speakers in valid; default 10% (at least 1).
        test_speakers: Speakers in test; default 10% (at least 1).
        seed: Changes the assignment.

    Returns:
        Split name -> sorted speaker ids.

    Raises:
        CauseError: when fewer than one training speaker would remain.
    """
    speakers = sorted(set(speakers))
    n = len(speakers)
    default = max(1, round(DEFAULT_HELD_OUT_FRACTION * n))
    n_valid = default if valid_speakers is None else valid_speakers
    n_test = default if test_speakers is None else test_speakers
    if n_valid < 0 or n_test < 0:
        raise CauseError("--valid_speakers and --test_speakers must be >= 0")
    if n_valid + n_test >= n:
        raise CauseError(
            f"the corpus has {n} speaker(s): cannot hold out {n_valid} for valid and {n_test} "
            "for test and keep one for train",
            fix="pass smaller --valid_speakers/--test_speakers (0 leaves that split out)",
        )
    order = sorted(speakers, key=lambda s: _speaker_order(s, seed))
    return {
        "test": sorted(order[:n_test]),
        "valid": sorted(order[n_test : n_test + n_valid]),
        "train": sorted(order[n_test + n_valid :]),
    }


def write_data_dir(directory: Path, utts: Sequence[Utterance]) -> None:
    """Write one Kaldi data dir for ``utts`` and validate it."""

    directory.mkdir(parents=True, exist_ok=True)
    ids = [u.utt_id for u in utts]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[0]
        raise CauseError(f"duplicate utterance id {dup!r} in the corpus listing", path=directory)
    optional = {
        "video.scp": {u.utt_id: u.video for u in utts if u.video is not None},
        "au_csv.scp": {u.utt_id: u.au_csv for u in utts if u.au_csv is not None},
        "text": {u.utt_id: u.text for u in utts if u.text},
        "emotion": {u.utt_id: u.emotion for u in utts if u.emotion},
        "intensity": {u.utt_id: u.intensity for u in utts if u.intensity},
    }
    if optional["text"] and len(optional["text"]) < len(utts):
        logger.warning(
            "%s: %d of %d utterances have no transcript; not writing text",
            directory, len(utts) - len(optional["text"]), len(utts),
        )  # fmt: skip
        optional["text"] = {}
    write_kaldi_map(directory / "wav.scp", {u.utt_id: u.audio for u in utts})
    for name, mapping in optional.items():
        if mapping:
            write_kaldi_map(directory / name, mapping)
        elif (directory / name).exists():
            (directory / name).unlink()  # stale from an earlier run
    write_utt2spk_spk2utt(directory, {u.utt_id: u.speaker for u in utts})
    validate_data_dir(directory)


def hold_out_clips(
    utts: Sequence[Utterance], fraction: float, seed: int = 0
) -> tuple[list[Utterance], list[Utterance]]:
    """Hold out a share of each speaker's clips, deterministically.

    Each speaker's utterances are ordered by a hash of ``seed`` and their id; the first
    ``max(1, round(fraction * n))`` are held out (none for a speaker with a single clip).

    Args:
        utts: The utterances.
        fraction: Share of each speaker's clips held out.
        seed: Changes the choice.

    Returns:
        ``(kept, held_out)``, each in the input order.
    """
    by_speaker: dict[str, list[Utterance]] = {}
    for u in utts:
        by_speaker.setdefault(u.speaker, []).append(u)
    held: set[str] = set()
    for speaker_utts in by_speaker.values():
        if len(speaker_utts) < 2:
            continue
        n = max(1, round(fraction * len(speaker_utts)))
        order = sorted(speaker_utts, key=lambda u: _speaker_order(u.utt_id, seed))
        held.update(u.utt_id for u in order[:n])
    return [u for u in utts if u.utt_id not in held], [u for u in utts if u.utt_id in held]


def write_splits(
    splits: dict[str, Sequence[Utterance]], output_dir: str | os.PathLike
) -> dict[str, int]:
    """Write ``output_dir/<split>`` for each non-empty split of :data:`SPLITS`.

    A split without utterances is not written (and an old one is left alone with a warning).

    Returns:
        Split name -> number of utterances written.
    """
    output_dir = Path(output_dir)
    counts = {}
    for split in SPLITS:
        chosen = list(splits.get(split, ()))
        if not chosen:
            if (output_dir / split).exists():
                logger.warning(
                    "%s: no speakers for this split; leaving the old dir", output_dir / split
                )
            continue
        write_data_dir(output_dir / split, chosen)
        counts[split] = len(chosen)
        logger.info(
            "%s: %d utterances, %d speakers",
            output_dir / split, len(chosen), len({u.speaker for u in chosen}),
        )  # fmt: skip
    return counts


#: Fewer speakers than this cannot be split by speaker by default: clips are held out instead.
MIN_SPEAKERS_TO_SPLIT = 3


def write_data_dirs(
    utts: Sequence[Utterance],
    output_dir: str | os.PathLike,
    *,
    valid_speakers: int | None = None,
    test_speakers: int | None = None,
    seed: int = 0,
    split: dict[str, list[str]] | None = None,
) -> dict[str, int]:
    """Split ``utts`` by speaker and write ``output_dir/{train,valid,test}``.

    Rewrites the data dirs from scratch each time (cheap), so re-running is idempotent. A split
    with no speakers is not written (and an old one is left alone with a warning). A corpus with
    fewer than :data:`MIN_SPEAKERS_TO_SPLIT` speakers and no split counts given is split by clip
    instead (:func:`hold_out_clips`, 10% of each speaker's clips for test, then for valid), with
    a warning: its valid and test speakers are also in train.

    Args:
        utts: The corpus listing.
        output_dir: Parent of the data dirs, e.g. ``data``.
        valid_speakers: Speakers held out for valid (default 10%, at least 1).
        test_speakers: Speakers held out for test (default 10%, at least 1).
        seed: Seed of the speaker assignment.
        split: A fixed assignment (split name -> speaker ids) instead of the hashed one.

    Returns:
        Split name -> number of utterances written.
    """
    speakers = {u.speaker for u in utts}
    if split is not None:  # a fixed assignment (ravdess: by actor)
        return write_splits(
            {name: [u for u in utts if u.speaker in set(split[name])] for name in SPLITS},
            output_dir,
        )
    if len(speakers) < MIN_SPEAKERS_TO_SPLIT and valid_speakers is None and test_speakers is None:
        logger.warning(
            "%d speaker(s): holding out %d%% of each speaker's clips for test and for valid "
            "(not speaker-independent; --valid_speakers/--test_speakers split by speaker)",
            len(speakers), round(100 * DEFAULT_HELD_OUT_FRACTION),
        )  # fmt: skip
        rest, test = hold_out_clips(utts, DEFAULT_HELD_OUT_FRACTION, seed)
        train, valid = hold_out_clips(rest, DEFAULT_HELD_OUT_FRACTION, seed + 1)
        if not (train and valid and test):
            raise CauseError(
                f"the corpus has {len(speakers)} speaker(s) and too few clips to hold out one "
                "for valid and one for test and keep one for train",
                fix="add clips or speakers",
            )
        return write_splits({"train": train, "valid": valid, "test": test}, output_dir)
    by_split = split_speakers(
        speakers, valid_speakers=valid_speakers, test_speakers=test_speakers, seed=seed
    )
    return write_splits(
        {split: [u for u in utts if u.speaker in set(by_split[split])] for split in SPLITS},
        output_dir,
    )
