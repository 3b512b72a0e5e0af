"""LRS3-TED (Afouras et al., 2018): face-tracks of TED/TEDx talks with transcripts.

Expected layout under ``--corpus_dir`` (the official archives unpacked)::

    pretrain/<spkid>/<n>.mp4  with  pretrain/<spkid>/<n>.txt
    trainval/<spkid>/<n>.mp4  with  trainval/<spkid>/<n>.txt
    test/<spkid>/<n>.mp4      with  test/<spkid>/<n>.txt

``<spkid>`` is the talk's YouTube id, taken as the speaker; the utterance id is
``<spkid>_<n>`` (``_pretrain`` is appended for the pretrain part, whose numbering overlaps).
The transcript is the ``Text:`` line of the txt file (written to ``text`` when present). All
parts are pooled and split by speaker.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from espnet_cause.corpora.common import Utterance, clean_id, find_files, require_dir, require_some

logger = logging.getLogger(__name__)

LAYOUT = "pretrain|trainval|test/<spkid>/<n>.mp4 with <n>.txt"
PARTS = ("pretrain", "trainval", "test")
TEXT_PREFIX = "Text:"


def read_transcript(path: Path) -> str | None:
    """The ``Text:`` line of an LRS3 txt file, or None when the file is missing or has none."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(TEXT_PREFIX):
            return " ".join(line[len(TEXT_PREFIX) :].split()) or None
    return None


def list_lrs3(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """List the LRS3 face-tracks found under ``corpus_dir`` (layout: module docstring)."""
    root = require_dir(corpus_dir, "lrs3", LAYOUT)
    utts = []
    for part in PARTS:
        for p in find_files(root / part, (".mp4",)):
            rel = p.relative_to(root / part).parts
            if len(rel) != 2:
                continue
            spk = rel[0]
            suffix = "pretrain" if part == "pretrain" else ""
            text = read_transcript(p.with_suffix(".txt"))
            if text is None:
                logger.debug("%s: no transcript", p)
            utts.append(
                Utterance(
                    utt_id=clean_id(spk, p.stem, suffix),
                    speaker=clean_id(spk),
                    audio=p,
                    video=p,
                    text=text,
                )
            )
    require_some(utts, root, "lrs3", LAYOUT)
    return utts
