"""Text files in: UTF-8 lines, with a decoding error that names the file and the line."""

from __future__ import annotations

import os
from pathlib import Path

from espnet_cause.errors import CauseError


def read_text_lines(path: str | os.PathLike, *, what: str = "file") -> list[str]:
    """The lines of a UTF-8 text file (a leading byte-order mark is dropped), without newlines.

    Args:
        path: The file.
        what: How to call it in messages (e.g. ``"wav.scp"``).

    Raises:
        CauseError: naming the file when it is missing or unreadable, and the file and line
            (with the offending bytes) when a line is not UTF-8.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CauseError(f"{what} not found", path=path, fix="check the path") from None
    except IsADirectoryError:
        raise CauseError(f"{what} is a directory", path=path, fix="give a text file") from None
    except OSError as e:
        raise CauseError(f"cannot read {what}: {e.strerror or e}", path=path) from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    lines = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError as e:
            bad = raw[e.start : e.end + 3]
            raise CauseError(
                f"{what} is not UTF-8 text: bytes {bad!r} at column {e.start + 1}",
                path=path,
                line=lineno,
                fix="convert it to UTF-8 (iconv -f LATIN1 -t UTF-8) or rename the offending "
                "file names",
            ) from None
    if lines and lines[-1] == "":
        lines.pop()
    return lines
