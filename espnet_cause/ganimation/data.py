"""GANimation training data: a folder of aligned face crops with one AU vector per crop.

Layout of a face directory (what :mod:`espnet_cause.ganimation.prepare` writes and what
:class:`FaceAUDataset` reads)::

    DIR/aus.csv        header "file,AU01_r,...,AU45_r"; one row per crop; AUs on the 0-5 scale
    DIR/faces/*.png    crops, aligned by the eyes (espnet_cause.face.align.align_crop)
    DIR/faces_report.tsv   per video/photo: key, status, reason, faces, no_face, no_label

``file`` is relative to DIR. Crops are found and aligned with the MediaPipe face landmarker, the
same alignment the renderer uses at inference time, so training and rendering see the same
framing.
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_INTENSITY_COLUMNS, AU_INTENSITY_MAX, AU_INTENSITY_MIN, NUM_AUS
from espnet_cause.emotion import NUM_EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.io.datadir import read_kaldi_map

logger = logging.getLogger(__name__)

#: The AU table of a face directory.
AU_TABLE = "aus.csv"
#: Sub-directory of a face directory holding the crops.
FACES_SUBDIR = "faces"
#: Column of ``aus.csv`` naming the crop file (relative to the face directory).
FILE_COLUMN = "file"
#: Default side of the training crops (the paper's 128 px).
DEFAULT_IMAGE_SIZE = 128
#: Half-width of the uniform noise added to the sampled target AUs (official code: 0.1 on the
#: normalised [0, 1] scale).
TARGET_AU_NOISE = 0.1


def normalize_aus(aus: np.ndarray) -> np.ndarray:
    """AUs on the 0..AU_INTENSITY_MAX scale -> the generator's [0, 1] scale (clipped)."""
    aus = np.clip(np.asarray(aus, dtype=np.float32), AU_INTENSITY_MIN, AU_INTENSITY_MAX)
    return aus / np.float32(AU_INTENSITY_MAX)


def read_au_table(source: str | os.PathLike) -> tuple[list[Path], np.ndarray]:
    """Read ``DIR/aus.csv`` (``source`` a face directory) or another CSV with its columns.

    File names are relative to the CSV's directory (absolute ones are kept).

    Returns:
        (crop paths, (N, 17) float32 AUs on the 0-5 scale).

    Raises:
        CauseError: naming the file and line for a missing table, missing columns, a bad number,
            NaN, or a crop file that does not exist.
    """
    table = Path(source)
    if table.is_dir():
        table = table / AU_TABLE
    directory = table.parent
    if not table.is_file():
        raise CauseError(
            "AU table not found",
            path=table,
            fix="prepare it with python -m espnet_cause.bin.prepare_faces",
        )
    files: list[Path] = []
    rows: list[list[float]] = []
    with open(table, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in (FILE_COLUMN, *AU_INTENSITY_COLUMNS) if c not in header]
        if missing:
            raise CauseError(
                f"missing columns {', '.join(missing)}",
                path=table,
                line=1,
                fix=f"the header must be {FILE_COLUMN},{','.join(AU_INTENSITY_COLUMNS)}",
            )
        for lineno, row in enumerate(reader, start=2):
            row = {k.strip(): v for k, v in row.items() if k is not None}
            try:
                values = [float(row[c]) for c in AU_INTENSITY_COLUMNS]
            except (TypeError, ValueError):
                raise CauseError("not a number in an AU column", path=table, line=lineno) from None
            if not np.all(np.isfinite(values)):
                raise CauseError(
                    "NaN or infinite AU value", path=table, line=lineno, fix="drop the row"
                )
            image = directory / row[FILE_COLUMN].strip()
            if not image.is_file():
                raise CauseError(f"face image {image} not found", path=table, line=lineno)
            files.append(image)
            rows.append(values)
    if not files:
        raise CauseError("no faces listed", path=table, fix="prepare the faces again")
    return files, np.asarray(rows, dtype=np.float32).reshape(-1, NUM_AUS)


def read_face(path: str | os.PathLike, image_size: int) -> np.ndarray:
    """Read a crop as (image_size, image_size, 3) uint8 RGB (resized when needed)."""
    import cv2

    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise CauseError("cannot read the face image", path=path, fix="re-create or remove it")
    if data.shape[:2] != (image_size, image_size):
        data = cv2.resize(data, (image_size, image_size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(data, cv2.COLOR_BGR2RGB)


class FaceAUDataset:
    """Map-style dataset of (face, its AUs, a random target AU vector) for GANimation.

    Target AUs are those of another random face plus uniform noise, as in the official code.
    Works with ``torch.utils.data.DataLoader`` (items are numpy arrays).

    Args:
        data_dir: A face directory (see the module docstring).
        image_size: Side of the square crops fed to the model.
        flip: Random horizontal flips (AUs are symmetric, so labels are unchanged).
        target_noise: Half-width of the uniform noise on the normalised target AUs.
        cache: Keep decoded crops in memory (small corpora).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        image_size: int = DEFAULT_IMAGE_SIZE,
        flip: bool = True,
        target_noise: float = TARGET_AU_NOISE,
        cache: bool = False,
    ) -> None:
        self.files, aus = read_au_table(data_dir)
        self.aus = normalize_aus(aus)
        self.image_size = image_size
        self.flip = flip
        self.target_noise = target_noise
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def _image(self, index: int) -> np.ndarray:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        image = read_face(self.files[index], self.image_size)
        if self._cache is not None:
            self._cache[index] = image
        return image

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        """One example.

        Returns:
            ``image`` (3, S, S) float32 in [-1, 1]; ``aus`` (17,) and ``target_aus`` (17,)
            float32 on the [0, 1] scale.
        """
        rng = np.random.default_rng()
        image = self._image(index)
        if self.flip and rng.random() < 0.5:
            image = image[:, ::-1]
        chw = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 127.5 - 1.0
        other = int(rng.integers(len(self.aus)))
        size = self.aus.shape[1]
        noise = rng.uniform(-self.target_noise, self.target_noise, size).astype(np.float32)
        target = np.clip(self.aus[other] + noise, 0.0, 1.0)
        return {"image": chw, "aus": self.aus[index].copy(), "target_aus": target}


def crop_key(file: str | os.PathLike) -> str:
    """The utterance a video crop came from: ``faces/<utt>_<frame:06d>.png`` -> ``<utt>``."""
    return Path(file).stem.rsplit("_", 1)[0]


def read_emotion_labels(path: str | os.PathLike) -> dict[str, int]:
    """``<utt> <class index>`` lines (the recogniser's ``dump/<set>/emotion``) -> utt -> index.

    Raises:
        CauseError: naming the file and line of an index outside the 8 classes.
    """

    out = {}
    for lineno, (key, value) in enumerate(read_kaldi_map(path).items(), start=1):
        if not value.isdigit() or int(value) >= NUM_EMOTIONS:
            raise CauseError(
                f"class index {value!r} is not 0..{NUM_EMOTIONS - 1}",
                path=path,
                line=lineno,
                fix="write it with python -m espnet_cause.bin.emotion_labels",
            )
        out[key] = int(value)
    return out


class FaceEmotionDataset(FaceAUDataset):
    """Face crops labelled with their utterance's emotion, for the emotion-conditioned GANimation.

    The crops of a face directory (its ``aus.csv`` file list) are labelled by the emotion of the
    utterance they came from (:func:`crop_key`); crops of unlabelled utterances are left out (the
    count is logged). Conditions are probability vectors over the 8 classes: the real one-hot,
    and as target the one-hot of another random face's class mixed with uniform noise of
    ``target_noise`` on the classes the labels use, renormalised.

    Args:
        data_dir: A face directory.
        emotion_labels: ``<utt> <class index>`` file (``dump/<set>/emotion``).
        image_size, flip, target_noise, cache: As :class:`FaceAUDataset`.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        emotion_labels: str | os.PathLike,
        image_size: int = DEFAULT_IMAGE_SIZE,
        flip: bool = True,
        target_noise: float = TARGET_AU_NOISE,
        cache: bool = False,
    ) -> None:

        super().__init__(data_dir, image_size, flip, target_noise, cache)
        labels = read_emotion_labels(emotion_labels)
        keep = [i for i, f in enumerate(self.files) if crop_key(f) in labels]
        if not keep:
            raise CauseError(
                "no face crop belongs to a labelled utterance",
                path=emotion_labels,
                fix=f"give the labels of the utterances the crops of {data_dir} came from",
            )
        if len(keep) < len(self.files):
            logger.warning("%d of %d crops have no emotion label; left out",
                           len(self.files) - len(keep), len(self.files))  # fmt: skip
        self.files = [self.files[i] for i in keep]
        self.labels = np.asarray([labels[crop_key(f)] for f in self.files])
        self.aus = np.eye(NUM_EMOTIONS, dtype=np.float32)[self.labels]
        self.present = np.zeros(NUM_EMOTIONS, dtype=np.float32)
        self.present[np.unique(self.labels)] = 1.0

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        """One example: ``image`` (3, S, S) in [-1, 1]; ``aus`` (8,) the one-hot class and
        ``target_aus`` (8,) a target probability vector (the generator's conditions)."""
        item = super().__getitem__(index)
        rng = np.random.default_rng()
        noise = rng.uniform(0.0, self.target_noise, len(self.present)).astype(np.float32)
        target = self.aus[int(rng.integers(len(self.aus)))] + noise * self.present
        item["target_aus"] = target / target.sum()
        return item
