"""AU streams on disk: OpenFace-style CSV, ``.npy`` and Kaldi ``.ark``/``.scp`` matrices.

``.npy`` and Kaldi matrices carry no frame rate; recipes keep it in an ``au_fps`` file beside the
``au.scp`` (see :func:`read_au_fps`), and single files take ``fps`` from the caller.

One reader per job: :func:`read_au` one file, :func:`read_au_source` a file, a directory or an
scp (every CLI that takes "an AU file or set"), :func:`read_au_frames` one file as gap-free frames
at a given rate; :class:`KaldiArkWriter`/:class:`AUArkWriter` write arks atomically.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.blendshapes import BLENDSHAPE_CSV_SUFFIX
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.openface import read_openface_csv, write_openface_csv
from espnet_cause.io.text import read_text_lines
from espnet_cause.io.track import AUTrack, check_au_values, fill_gaps

logger = logging.getLogger(__name__)
#: Name of the file beside an ``au.scp`` that holds the frame rate of its matrices.
AU_FPS_FILE = "au_fps"
#: File suffixes that hold one AU track.
SINGLE_SUFFIXES = (".csv", ".npy")


def read_au(
    path: str | os.PathLike, fps: float | None = None, face_id: int | None = None
) -> AUTrack:
    """Read one AU track from a ``.csv`` (OpenFace style) or ``.npy`` file.

    Args:
        path: The file.
        fps: Frame rate of a ``.npy`` array (default :data:`DEFAULT_AU_FPS`); ignored for CSV,
            whose timestamps say it.
        face_id: Face to read from a CSV with several faces.

    Values follow :func:`espnet_cause.io.track.check_au_values` (infinite values and tracks
    without a usable frame refused, out-of-range values clipped with a warning).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return check_au_values(read_openface_csv(path, face_id=face_id))
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise CauseError("file not found", path=path, fix="check the path") from None
        except (OSError, ValueError) as e:
            raise CauseError(f"not a readable .npy array: {e}", path=path) from None
        return track_from_matrix(array, fps or DEFAULT_AU_FPS, source=str(path))
    raise CauseError(
        f"unknown AU file type {suffix!r}",
        path=path,
        fix="use .csv (OpenFace style), .npy, or a Kaldi .scp",
    )


def track_from_matrix(array, fps: float, source: str) -> AUTrack:
    """A (T, 17) matrix read from a file (``.npy``, a Kaldi ark entry) as a checked track.

    Raises:
        CauseError: naming ``source`` for a wrong shape or values that
            :func:`espnet_cause.io.track.check_au_values` refuses.
    """
    array = np.asarray(array)
    if array.dtype.kind not in "fiu":
        raise CauseError(f"AU array has dtype {array.dtype}, expected numbers", path=source)
    _check_array(array, source)
    return check_au_values(AUTrack.from_array(array, fps, source=source))


def write_au(
    path: str | os.PathLike, track: AUTrack | np.ndarray, fps: float | None = None
) -> None:
    """Write one AU track as ``.csv`` or ``.npy`` (chosen by suffix), atomically.

    Args:
        path: Output file.
        track: An :class:`AUTrack`, or a (T, 17) array at ``fps``.
        fps: Frame rate of a plain array (default :data:`DEFAULT_AU_FPS`).
    """
    path = Path(path)
    if not isinstance(track, AUTrack):
        _check_array(np.asarray(track), path)
        track = AUTrack.from_array(track, fps or DEFAULT_AU_FPS)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_openface_csv(path, track)
    elif suffix == ".npy":
        with atomic_write(path) as tmp:
            np.save(tmp, track.intensities.astype(np.float32))
    else:
        raise CauseError(
            f"unknown AU file type {suffix!r}", path=path, fix="use .csv or .npy for one track"
        )


def read_au_scp(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the AU matrices of a Kaldi ``.scp`` (lazily, through kaldiio).

    Returns:
        A mapping from utterance id to its (T, 17) float32 array; values load on access.
    """
    import kaldiio

    path = Path(path)
    if not path.is_file():
        raise CauseError(
            "scp file not found", path=path, fix="check the path or run the stage that writes it"
        )
    read_text_lines(path, what="scp")  # names the line of a non-UTF-8 entry
    try:
        return kaldiio.load_scp(str(path))
    except Exception as e:  # kaldiio raises several types for malformed lines
        raise CauseError(f"not a Kaldi scp: {e}", path=path) from None


def read_au_fps(path: str | os.PathLike, default: float | None = DEFAULT_AU_FPS) -> float | None:
    """Frame rate from the ``au_fps`` file beside ``path`` (inside it, for a directory).

    Returns:
        The rate, or ``default`` when there is no ``au_fps`` file.
    """
    path = Path(path)
    f = path / AU_FPS_FILE if path.is_dir() else path.with_name(AU_FPS_FILE)
    if not f.is_file():
        return default
    try:
        return float(f.read_text().strip())
    except ValueError:
        raise CauseError(f"not a frame rate: {f.read_text()!r}", path=f) from None


def read_au_source(
    path: str | os.PathLike, fps: float | None = None, face_id: int | None = None
) -> dict[str, Callable[[], AUTrack]]:
    """Find the AU tracks of a file, a directory or an scp, without loading them.

    Args:
        path: A ``.csv``/``.npy`` file (key: its stem); a directory of them (or with only an
            ``au.scp``); a Kaldi ``.scp`` of matrices or of ``.csv``/``.npy`` paths.
        fps: Frame rate of ``.npy`` and matrix tracks (default: the ``au_fps`` file beside
            them, else :data:`DEFAULT_AU_FPS`); CSV timestamps give their own.
        face_id: Face to read from CSVs with several faces.

    Returns:
        ``key -> loader``; each loader returns the key's :class:`AUTrack`.

    Raises:
        CauseError: naming ``path`` when it is missing, empty or of an unknown kind.
    """

    path = Path(path)
    if not path.exists():
        raise CauseError("AU file or set not found", path=path, fix="check the path")
    rate = fps or read_au_fps(path)

    def files(mapping) -> dict[str, Callable[[], AUTrack]]:
        return {k: (lambda p=p: read_au(p, fps=rate, face_id=face_id)) for k, p in mapping}

    if path.is_dir():
        found = files(iter_au_dir(path))
        if not found and (path / "au.scp").is_file():
            return read_au_source(path / "au.scp", fps, face_id)
        if not found:
            raise CauseError(
                "directory has no .csv/.npy AU files and no au.scp", path=path, fix="check the path"
            )
        return found
    if path.suffix.lower() in SINGLE_SUFFIXES:
        return files([(path.stem, path)])
    if path.suffix.lower() != ".scp":
        raise CauseError(
            "unknown AU input type",
            path=path,
            fix="give a .csv, .npy, .scp or a directory of .csv/.npy",
        )
    values = read_kaldi_map(path, check_sorted=False)
    if values and all(v.lower().endswith(SINGLE_SUFFIXES) for v in list(values.values())[:5]):
        return files((k, Path(v)) for k, v in values.items())
    mats = read_au_scp(path)

    def matrix(key: str) -> AUTrack:
        try:
            array = np.asarray(mats[key])
        except (OSError, ValueError) as e:
            raise CauseError(f"cannot read utterance {key!r}: {e}", path=path) from None
        return track_from_matrix(array, rate, source=f"{path}:{key}")

    return {k: (lambda k=k: matrix(k)) for k in mats}


def read_au_frames(
    path: str | os.PathLike, fps: float | None = None, file_fps: float | None = None
) -> np.ndarray:
    """One AU file as gap-free frames: resampled by timestamp to ``fps``, missing values filled.

    Short gaps are interpolated by :meth:`AUTrack.resample`; the longer ones that stay missing
    are filled by :func:`espnet_cause.io.track.fill_gaps`, with a warning.

    Args:
        path: A ``.csv`` or ``.npy`` AU file.
        fps: The wanted frame rate; None keeps the file's (CSV timestamps, else ``file_fps``).
        file_fps: Frame rate of a ``.npy`` file (default :data:`DEFAULT_AU_FPS`).

    Returns:
        (T, 17) float32 AU intensities.

    Raises:
        CauseError: for a track without frames or without any valid frame.
    """
    track = read_au(path, fps=file_fps)
    if len(track) == 0:
        raise CauseError("the AU track has no frames", path=path, fix="give a non-empty track")
    if not track.valid_mask().any():
        raise CauseError("the AU track has no valid frame", path=path, fix="re-extract the AUs")
    resampled, report = track.resample(fps or track.fps or DEFAULT_AU_FPS)
    if report.flagged:
        logger.warning(
            "%s: %d of %d frames have no AU values (longest gap %.2f s); filling them",
            path, report.num_missing, report.num_frames, report.longest_gap,
        )  # fmt: skip
    return fill_gaps(resampled.intensities)


def align_aus(
    aus: np.ndarray, num_frames: int, source: str = "AU track", tolerance: int = 1
) -> np.ndarray:
    """Make an AU sequence (already at the video rate) exactly ``num_frames`` long.

    A longer track is cropped and a shorter one padded with its last frame; a warning says so
    when they differ by more than ``tolerance`` frames.

    Args:
        aus: (T, 17) AU intensities at the video frame rate.
        num_frames: Frames the speech needs.
        source: Name used in the warning.
        tolerance: Frame difference accepted silently (rounding of durations).

    Returns:
        (num_frames, 17) float32.
    """
    aus = np.asarray(aus, dtype=np.float32)
    if len(aus) == 0:
        raise CauseError("the AU track has no frames", path=source, fix="give a non-empty track")
    diff = len(aus) - num_frames
    if abs(diff) > tolerance:
        action = "cropped" if diff > 0 else "padded with its last frame"
        logger.warning(
            "%s has %d frames but the speech needs %d: %s to the speech duration",
            source, len(aus), num_frames, action,
        )  # fmt: skip
    if diff >= 0:
        return aus[:num_frames]
    return np.concatenate([aus, np.repeat(aus[-1:], -diff, axis=0)])


class KaldiArkWriter(contextlib.AbstractContextManager):
    """Write arrays to a Kaldi ark and its scp; both appear only when all writes succeeded.

    The one atomic ark writer: it writes into temporary files beside the outputs and renames
    them at the end (the scp sorted by key); on an error nothing is left behind.

    Args:
        ark_path: The ``.ark`` file.
        scp_path: The ``.scp`` index to write.

    Example:
        >>> with KaldiArkWriter("dump/train/au_embed.ark", "dump/train/au_embed.scp") as w:
        ...     w.write("utt1", vector)  # (D,) float32: a Kaldi float vector
    """

    def __init__(self, ark_path: str | os.PathLike, scp_path: str | os.PathLike):
        import kaldiio

        self.ark_path = Path(ark_path)
        self.scp_path = Path(scp_path)
        self.ark_path.parent.mkdir(parents=True, exist_ok=True)
        self.scp_path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp_scp = self.scp_path.with_name(f".{self.scp_path.name}.tmp{os.getpid()}")
        self._tmp_ark = self.ark_path.with_name(f".{self.ark_path.name}.tmp{os.getpid()}")
        self._writer = kaldiio.WriteHelper(f"ark,scp:{self._tmp_ark},{self._tmp_scp}")

    def write(self, key: str, array: np.ndarray) -> None:
        """Append one array under ``key``."""
        self._writer[key] = np.asarray(array, dtype=np.float32)

    def _finish(self) -> None:
        """Called once everything is written and renamed (subclasses add their files)."""

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.close()
        try:
            if exc_type is None:
                # The scp points into the temporary ark: rewrite it to the final name.
                lines = self._tmp_scp.read_text().splitlines() if self._tmp_scp.exists() else []
                fixed = [ln.replace(str(self._tmp_ark), str(self.ark_path), 1) for ln in lines]
                os.replace(self._tmp_ark, self.ark_path)
                with atomic_write(self.scp_path) as tmp:
                    tmp.write_text("".join(ln + "\n" for ln in sorted(fixed)))
                self._finish()
        finally:
            for f in (self._tmp_ark, self._tmp_scp):
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()


class AUArkWriter(KaldiArkWriter):
    """Write (T, 17) AU matrices to a Kaldi ark and its scp (see :class:`KaldiArkWriter`).

    Args:
        ark_path: The ``.ark`` file.
        scp_path: The ``.scp`` index to write.
        fps: If given, also write the ``au_fps`` file beside the scp.
        num_columns: Columns of every matrix: 17 AUs (default), or 51 for blendshape tracks.

    Example:
        >>> with AUArkWriter("dump/train/au.ark", "dump/train/au.scp", fps=25) as w:
        ...     w.write("utt1", array)  # (T, 17) float32
    """

    def __init__(
        self,
        ark_path: str | os.PathLike,
        scp_path: str | os.PathLike,
        fps: float | None = None,
        num_columns: int = NUM_AUS,
    ):
        super().__init__(ark_path, scp_path)
        self.num_columns = num_columns
        self.fps = fps

    def write(self, key: str, array: np.ndarray) -> None:
        """Append one (T, 17) matrix under ``key``."""
        array = np.asarray(array, dtype=np.float32)
        _check_array(array, self.ark_path, key=key, num_columns=self.num_columns)
        super().write(key, array)

    def _finish(self) -> None:
        if self.fps is not None:
            write_au_fps(self.scp_path.with_name(AU_FPS_FILE), self.fps)


def write_au_fps(path: str | os.PathLike, fps: float) -> None:
    """Write an ``au_fps`` file (the frame rate of the AU files beside it), atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(f"{fps:g}\n")


def iter_au_dir(directory: str | os.PathLike) -> Iterator[tuple[str, Path]]:
    """Yield ``(stem, path)`` for the ``.csv``/``.npy`` AU files of a directory, sorted.

    The ``<utt>.blendshapes.csv`` files that ``extract_au --extractor mediapipe`` writes beside
    each ``<utt>.csv`` are not AU files and are passed over.
    """
    for p in sorted(Path(directory).iterdir()):
        if p.name.startswith(".") or p.name.endswith(BLENDSHAPE_CSV_SUFFIX):
            continue
        if p.suffix.lower() in SINGLE_SUFFIXES:
            yield p.stem, p


def _check_array(
    array: np.ndarray, path: Path, key: str | None = None, num_columns: int = NUM_AUS
) -> None:
    what = f"utterance {key!r}: " if key else ""
    if array.ndim != 2 or array.shape[1] != num_columns:
        kind = "AU" if num_columns == NUM_AUS else "frame"
        raise CauseError(
            f"{what}{kind} array has shape {array.shape}, expected (T, {num_columns})",
            path=path,
            fix=f"store one row per frame and one column per AU ({NUM_AUS}, OpenFace order)"
            if num_columns == NUM_AUS
            else f"store one row per frame and {num_columns} columns",
        )
