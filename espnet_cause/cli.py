"""Shared command-line plumbing: parsers and their common options, logging set-up and
user-facing error reporting."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Callable

from espnet_cause.errors import CauseError
from espnet_cause.jobs.batch import DEFAULT_MAX_FAIL_FRACTION

#: ``--help`` of every ``--model`` option (a CAUSE model): files and the built-in names.
MODEL_HELP = (
    "packed model.zip, or a built-in model by name (espnet_cause.assets.BUILTIN_MODELS): "
    "'builtin' (the default; Apache-2.0), 'builtin_live' (causal, 80 ms look-ahead: the model "
    "that serve streams; Apache-2.0) or 'expressive' (the face shows the voice's emotion; "
    "live in serve as builtin_live's causal mouth with the emotion recogniser over the stream, "
    "docs/live_expression.md; trained on RAVDESS, so licensed CC BY-NC-SA 4.0: non-commercial "
    "use only, share alike; model card docs/model_expressive.md)"
)


def cli_name(module: str) -> str:
    """The name a CLI's messages give it: ``infer`` for ``espnet_cause.bin.infer``, also when it
    runs as ``python -m espnet_cause.bin.infer`` (module ``__main__``) or as a script file."""
    if module == "__main__":
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        if spec is None:  # python path/to/script.py
            return os.path.basename(sys.argv[0]).removesuffix(".py")
        module = spec.name
    return module.rsplit(".", 1)[-1]


def make_parser(
    description: str,
    *,
    parallel: bool = False,
    face_landmarker: bool = False,
    download: bool = False,
    prog: str | None = None,
) -> argparse.ArgumentParser:
    """An argument parser whose ``--help`` shows the defaults, with the options every CLI shares.

    Args:
        description: The CLI's one-line description.
        parallel: Add ``--parallel_config`` and ``--max_fail_fraction`` (batch CLIs).
        face_landmarker: Add ``--face_landmarker_path`` (CLIs that find faces).
        download: Also add ``--download`` (fetch the official model into the cache).
        prog: The CLI's name in usage, warnings and errors (None: :func:`cli_name` of the
            calling module, ``infer`` for ``espnet_cause.bin.infer``, not ``infer.py``).

    Returns:
        The parser, with ``--verbose`` (0 warnings, 1 info, 2 debug; see :func:`setup_logging`).
    """
    if prog is None:
        prog = cli_name(sys._getframe(1).f_globals.get("__name__", "__main__"))
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--verbose", type=int, default=1, help="0 warnings, 1 info, 2 debug.")
    if parallel:
        add_parallel_arg(parser)
    if face_landmarker or download:
        add_face_landmarker_args(parser, download=download)
    return parser


class _RenamedOption(argparse._StoreAction):
    """A store action that also answers to old option names, with a note on stderr when used."""

    old_names: tuple[str, ...] = ()

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string in self.old_names:
            print(
                f"{parser.prog.removesuffix('.py')}: warning: {option_string} is deprecated "
                f"and goes in the next release; use {self.option_strings[0]}",
                file=sys.stderr,
            )
        super().__call__(parser, namespace, values, option_string)


def add_renamed_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    name: str,
    *old_names: str,
    **kwargs,
) -> argparse.Action:
    """``parser.add_argument(name, ...)`` that also accepts ``old_names`` for one release.

    The value lands in ``name``'s ``dest`` whichever spelling was used; an old spelling prints a
    deprecation note on stderr.

    Args:
        parser: The parser or argument group.
        name: The option's name (``--model``).
        *old_names: Its former names (``--cause_model``).
        **kwargs: As for ``add_argument`` (a storing option: ``default``, ``type``, ``help``...).

    Returns:
        The argparse action.
    """
    if old_names:
        note = "; ".join(old_names) + (" is" if len(old_names) == 1 else " are")
        kwargs["help"] = f"{kwargs.get('help', '')} ({note} deprecated)".lstrip()
    action = parser.add_argument(name, *old_names, action=_RenamedOption, **kwargs)
    action.old_names = old_names
    return action


def add_parallel_arg(parser: argparse.ArgumentParser) -> None:
    """The options of every batch CLI: ``--parallel_config`` (a ``conf/parallel/*.yaml`` for
    Dask; none runs in-process) and ``--max_fail_fraction`` (the failure rule of
    :mod:`espnet_cause.jobs.batch`; a CLI may change its default with ``set_defaults``)."""
    parser.add_argument(
        "--parallel_config",
        default=None,
        help="conf/parallel/*.yaml to spread the items over Dask workers (default: in-process).",
    )
    add_fail_fraction_arg(parser)


def add_fail_fraction_arg(parser: argparse.ArgumentParser) -> None:
    """``--max_fail_fraction``: the failure rule of :mod:`espnet_cause.jobs.batch` (every batch CLI)."""
    parser.add_argument(
        "--max_fail_fraction",
        type=float,
        default=DEFAULT_MAX_FAIL_FRACTION,
        help="exit non-zero (after writing the report) when more than this fraction of the "
        "items is skipped",
    )


def add_feature_grid_args(parser: argparse.ArgumentParser) -> None:
    """``--fs``, ``--hop_length``, ``--n_fft``: the frame grid of a TTS model's feature extractor
    (its ``feats_extract_conf``); see :func:`espnet_cause.io.timegrid.num_frames_for_hop`."""
    parser.add_argument("--fs", type=int, required=True, help="feats_extract_conf.fs")
    parser.add_argument(
        "--hop_length", type=int, required=True, help="feats_extract_conf.hop_length"
    )
    parser.add_argument(
        "--n_fft", type=int, default=None, help="feats_extract_conf.n_fft (only matters if odd)"
    )


def add_avatar_motion_args(parser: argparse.ArgumentParser, blink_rate: float) -> None:
    """``--head_motion``, ``--blink_rate``, ``--seed``: the avatar's head, gaze and blinks
    (:mod:`espnet_cause.avatar.head`), the same names as ``render``'s."""
    parser.add_argument(
        "--head_motion",
        type=float,
        default=1.0,
        help="Head motion and gaze shifts following the speech (nods on stressed syllables, "
        "seeded drifts): 1 = natural, 0 = a still head looking ahead.",
    )
    parser.add_argument(
        "--blink_rate",
        type=float,
        default=blink_rate,
        help="Blinks per minute added where the AU stream has none (0 = only the stream's).",
    )
    parser.add_argument("--seed", type=int, default=0, help="Seed of head motion, gaze, blinks.")


def add_face_landmarker_args(parser: argparse.ArgumentParser, download: bool = False) -> None:
    """``--face_landmarker_path`` (and, with ``download``, ``--download``); see
    :func:`espnet_cause.face.model_file.resolve_face_landmarker`."""
    parser.add_argument(
        "--face_landmarker_path",
        default=None,
        help="MediaPipe face_landmarker.task (default: the model that ships with espnet-cause).",
    )
    if download:
        parser.add_argument(
            "--download",
            action="store_true",
            help="Fetch the official face_landmarker.task into the cache if it is not there.",
        )


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
            print(f"{cli_name(main.__module__)}: error: {e}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper  # type: ignore[return-value]
