"""Shared command-line plumbing: logging set-up and user-facing error reporting."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable

from espnet_cause.errors import CauseError


def setup_logging(verbose: int = 1) -> None:
    """Log to stderr in ESPnet's format; ``verbose`` 0 warnings, 1 info, 2 debug."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
        force=True,
    )


def reports_errors[F: Callable](main: F) -> F:
    """Turn a :class:`CauseError` raised by ``main`` into one line on stderr and exit code 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except CauseError as e:
            module = main.__module__
            if module == "__main__":  # python -m espnet_cause.bin.X: name the CLI, not __main__
                spec = getattr(sys.modules["__main__"], "__spec__", None)
                module = spec.name if spec is not None else sys.argv[0]
            prog = module.rsplit(".", 1)[-1].removesuffix(".py")
            print(f"{prog}: error: {e}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper  # type: ignore[return-value]
