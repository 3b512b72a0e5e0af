"""Kaldi CTM files of time-aligned tokens: ``<utt> <channel> <start_s> <duration_s> <token>``.

One line per token, in time order within an utterance (Kaldi's ``ali-to-phones --ctm-output``
and ``lattice-to-ctm-conf`` write this format; Montreal Forced Aligner TextGrids convert to it
one interval per line). Here it holds the phonemes eSpeak reports for the mini corpus.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.text import read_text_lines

#: One aligned token: (start in seconds, duration in seconds, token).
Segment = tuple[float, float, str]

_FIX = "each line must be '<utt> <channel> <start_s> <duration_s> <token>', in time order"


def write_ctm(path: str | os.PathLike, alignments: Mapping[str, Sequence[Segment]]) -> None:
    """Write utterances' segments (sorted by utterance id, channel 1), atomically."""
    lines = []
    for utt in sorted(alignments):
        for start, dur, token in alignments[utt]:
            if any(c.isspace() for c in token) or not token:
                raise CauseError(f"{utt}: token {token!r} is empty or has white space", path=path)
            lines.append(f"{utt} 1 {start:.5f} {dur:.5f} {token}\n")
    with atomic_write(path) as tmp:
        Path(tmp).write_text("".join(lines), encoding="utf-8")


def read_ctm(path: str | os.PathLike) -> dict[str, list[Segment]]:
    """Read a CTM file into utterance id -> segments in file order.

    Raises:
        CauseError: naming the file and line for a missing file, a malformed line, a negative
            or non-finite time, a start before the previous one, or an utterance whose lines
            are not together.
    """
    path = Path(path)
    if not path.is_file():
        raise CauseError("CTM file not found", path=path, fix="run the data preparation stage")
    out: dict[str, list[Segment]] = {}
    prev = None
    for lineno, raw in enumerate(read_text_lines(path, what=path.name), start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) < 5:
            raise CauseError(
                f"expected 5 fields, got {len(fields)}", path=path, line=lineno, fix=_FIX
            )
        utt, token = fields[0], fields[4]
        try:
            start, dur = float(fields[2]), float(fields[3])
        except ValueError:
            raise CauseError(
                f"start/duration {fields[2]!r} {fields[3]!r} are not numbers",
                path=path, line=lineno, fix=_FIX,
            ) from None  # fmt: skip
        if not (math.isfinite(start) and math.isfinite(dur) and start >= 0 and dur >= 0):
            raise CauseError(f"bad time {start} {dur}", path=path, line=lineno, fix=_FIX)
        if utt != prev and utt in out:
            raise CauseError(f"lines of {utt!r} are not together", path=path, line=lineno, fix=_FIX)
        segs = out.setdefault(utt, [])
        if segs and start < segs[-1][0]:
            raise CauseError(
                f"{utt}: start {start} is before the previous one {segs[-1][0]}",
                path=path, line=lineno, fix=_FIX,
            )  # fmt: skip
        segs.append((start, dur, token))
        prev = utt
    return out
