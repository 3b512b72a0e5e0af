"""User-facing errors: each names the file (and line) at fault and how to fix it."""

from __future__ import annotations

import os


class CauseError(Exception):
    """An error caused by the user's input, reported without a traceback by the CLIs.

    Args:
        message: What is wrong.
        path: The file or directory at fault.
        line: 1-based line number in ``path``, when known.
        fix: What the user can do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        text = where + self.message
        if self.fix:
            text += f" (fix: {self.fix})"
        return text
