"""Files that ship with the package: the MediaPipe face model, the built-in CAUSE model and the
demo photo and speech.

Sources and licences are in ``NOTICE`` next to this file. The files are package data, so they are
found the same way in a checkout, an editable install and an installed wheel.

Example:
    >>> from espnet_cause import assets
    >>> assets.face_landmarker()  # Path to the packaged face_landmarker.task
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from espnet_cause.errors import CauseError

#: MediaPipe Face Landmarker, official float16 v1 (Apache-2.0).
FACE_LANDMARKER = "face_landmarker.task"
#: Demo photo: Grace Hopper, US Navy, public domain.
DEMO_IMAGE = "grace_hopper.jpg"
#: Demo speech: CMU ARCTIC a0007, 16 kHz, 4.0 s (CMU ARCTIC licence).
DEMO_WAV = "arctic_a0007.wav"
#: The built-in CAUSE model (speech -> 17 AUs), made by conf/cause_builtin.yaml; model card in the
#: README.
CAUSE_MODEL = "cause_builtin.zip"
#: Sources and licences of the files above.
NOTICE = "NOTICE"


def asset_path(name: str) -> Path:
    """Path of a packaged file.

    Args:
        name: File name in ``espnet_cause/assets`` (e.g. :data:`FACE_LANDMARKER`).

    Returns:
        The file on disk.

    Raises:
        CauseError: if the installed package does not contain it.
    """
    path = Path(str(files(__name__) / name))
    if not path.is_file():
        raise CauseError(
            "packaged file missing from the espnet_cause installation",
            path=path,
            fix="reinstall espnet-cause from a wheel or a full git clone",
        )
    return path


def face_landmarker() -> Path:
    """The packaged MediaPipe ``face_landmarker.task``."""
    return asset_path(FACE_LANDMARKER)


def demo_image() -> Path:
    """The packaged demo photo (``grace_hopper.jpg``, 512x600 RGB)."""
    return asset_path(DEMO_IMAGE)


def demo_wav() -> Path:
    """The packaged demo speech (``arctic_a0007.wav``, 16 kHz mono, 4.0 s)."""
    return asset_path(DEMO_WAV)


def cause_model() -> Path:
    """The packaged built-in CAUSE model zip (used when no model is given)."""
    return asset_path(CAUSE_MODEL)
