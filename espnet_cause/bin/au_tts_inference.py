#!/usr/bin/env python3
"""The old name of :mod:`espnet_cause.bin.au_tts_infer` (kept for one release; says so on stderr).

Every CLI that runs a trained model is named ``<model>_infer`` (``emotion_infer``,
``au_tts_infer``) beside its ``<model>_train``; use ``python -m espnet_cause.bin.au_tts_infer``.
"""

from __future__ import annotations

import sys

from espnet_cause.bin import au_tts_infer
from espnet_cause.bin.au_tts_infer import get_parser

__all__ = ["get_parser", "main"]

#: The deprecation note printed on every run.
NOTE = (
    "au_tts_inference: warning: this name is deprecated and goes in the next release; "
    "use python -m espnet_cause.bin.au_tts_infer"
)


def main(cmd: list[str] | None = None) -> None:
    """Print the deprecation note, then run :func:`espnet_cause.bin.au_tts_infer.main`."""
    print(NOTE, file=sys.stderr)
    au_tts_infer.main(cmd)


if __name__ == "__main__":
    main()
