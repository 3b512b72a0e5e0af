"""Write files so that they appear whole or not at all, and check outputs before the work."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

_WRITE_FIX = "choose a writable location (check permissions, free space and read-only mounts)"


def _cannot_write(path: Path, error: OSError) -> CauseError:
    reason = error.strerror or str(error) or type(error).__name__
    return CauseError(f"cannot write the output: {reason}", path=path, fix=_WRITE_FIX)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps ``path``'s suffix so that writers which choose a format by suffix
    (numpy, PyAV, matplotlib) still work. On error it is removed and ``path`` is untouched. A
    failure to create the directory, to write the temporary file or to rename it becomes a
    :class:`CauseError` naming ``path``; removing the temporary file never hides that error.
    """
    path = Path(path)
    if path.is_dir():
        raise CauseError(
            "the output path is a directory", path=path, fix="give a file name, not a directory"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _cannot_write(path, e) from None
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        if e.filename in (str(tmp), str(path)) or getattr(e, "filename2", None) == str(path):
            raise _cannot_write(path, e) from None
        raise
    finally:
        try:
            if os.path.lexists(tmp):
                tmp.unlink()
        except OSError as e:  # e.g. a read-only file system: the error above is the one to see
            logger.debug("could not remove %s: %s", tmp, e)


def _nearest_existing(path: Path) -> Path:
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _check_directory(directory: Path, path: Path) -> None:
    """CauseError naming ``path`` unless new files can be made in ``directory``.

    Asks the kernel (``access(2)``), which writes nothing and also reports read-only file
    systems and immutable directories (even to root).
    """
    if not directory.is_dir():
        raise CauseError(f"{directory} is not a directory", path=path, fix="fix the output path")
    if not os.access(directory, os.W_OK | os.X_OK):
        import errno

        try:
            read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        code = errno.EROFS if read_only else errno.EACCES
        raise _cannot_write(path, OSError(code, os.strerror(code))) from None


def check_output(
    path: str | os.PathLike,
    *,
    inputs: Mapping[str, str | os.PathLike | None] | None = None,
    suffixes: Sequence[str] | None = None,
    what: str = "output",
) -> Path:
    """Refuse, before any work, an output file that could not be written or would hit an input.

    Checks that ``path`` is not a directory, has one of ``suffixes`` (lower case, with the dot),
    is not the same file as any of ``inputs``, is not a read-only or immutable file, and that its
    directory (or the nearest existing ancestor, which would hold it) accepts a new file.
    Nothing is written.

    Args:
        path: The output file.
        inputs: Option name -> input path of the same run (None values are ignored).
        suffixes: Accepted suffixes, e.g. ``(".mp4",)``; None accepts any.
        what: How to call the output in messages (e.g. ``"--output"``).

    Returns:
        ``path`` as a Path.

    Raises:
        CauseError: naming ``path`` and what is wrong.
    """
    path = Path(path)
    if path.is_dir():
        raise CauseError(
            f"{what} is a directory", path=path, fix="give a file name, not a directory"
        )
    for name, source in (inputs or {}).items():
        if source is None:
            continue
        source = Path(source)
        same = path.exists() and source.exists() and os.path.samefile(path, source)
        if same or path.absolute() == source.absolute():
            raise CauseError(
                f"{what} is the same file as {name}; refusing to overwrite an input",
                path=path,
                fix="write the output to another file",
            )
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise CauseError(
            f"{what} must end in {' or '.join(suffixes)}, not {path.suffix or 'no suffix'!r}",
            path=path,
            fix=f"name it like out{suffixes[0]}",
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise CauseError(
            f"{what} exists and is read-only or immutable",
            path=path,
            fix="remove it, make it writable (chmod u+w / chattr -i) or choose another name",
        )
    _check_directory(_nearest_existing(path), path)
    return path


def check_output_dir(directory: str | os.PathLike, *, what: str = "--output_dir") -> Path:
    """Refuse, before any work, an output directory that is a file or does not accept files.

    Returns:
        ``directory`` as a Path (not created).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CauseError(
            f"{what} exists and is not a directory", path=directory, fix="give a directory"
        )
    target = directory if directory.is_dir() else _nearest_existing(directory / "x")
    _check_directory(target, directory)
    return directory
