"""Files that ship with the package: the MediaPipe face model, the built-in CAUSE model and the
demo photo and speech.

Sources and licences are in ``NOTICE`` next to this file. The files are package data, so they are
found the same way in a checkout, an editable install and an installed wheel.

Example:
    >>> from espnet_cause import assets
    >>> assets.face_landmarker()  # Path to the packaged face_landmarker.task
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from espnet_cause.errors import CauseError

#: MediaPipe Face Landmarker, official float16 v1 (Apache-2.0).
FACE_LANDMARKER = "face_landmarker.task"
#: Demo photo: Grace Hopper, US Navy, public domain.
DEMO_IMAGE = "grace_hopper.jpg"
#: Demo speech: CMU ARCTIC a0007, 16 kHz, 4.0 s (CMU ARCTIC licence).
DEMO_WAV = "arctic_a0007.wav"
#: The built-in CAUSE models (speech -> 17 AUs) by name: what ``--model NAME`` and
#: ``Speech2AU(NAME)`` accept besides a path to a model.zip. Model cards: docs/model_builtin.md.
BUILTIN_MODELS: dict[str, str] = {
    "builtin": "cause_builtin.zip",  # offline: infer, render, export_tts_features, check_lipsync
    "builtin_live": "cause_builtin_live.zip",  # live: serve, Speech2AU.builtin(streaming=True)
    # the face shows the voice's emotion; trained on RAVDESS: CC BY-NC-SA 4.0. Live streams run
    # it on builtin_live's causal mouth (espnet_cause.inference.live_expression).
    # Model cards: docs/model_expressive.md, docs/live_expression.md
    "expressive": "cause_expressive.zip",
}
#: The licence of each built-in model (its training data's terms; see NOTICE).
BUILTIN_LICENCES: dict[str, str] = {
    "builtin": "Apache-2.0",
    "builtin_live": "Apache-2.0",
    "expressive": "CC BY-NC-SA 4.0 (trained on RAVDESS): non-commercial use only, share alike",
}
#: The model used when none is given, and the one the live service streams by default.
DEFAULT_MODEL = "builtin"
LIVE_MODEL = "builtin_live"
#: The default built-in model's file.
CAUSE_MODEL = BUILTIN_MODELS[DEFAULT_MODEL]
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


def cause_model(name: str = DEFAULT_MODEL) -> Path:
    """A packaged built-in CAUSE model zip (default: the one used when no model is given).

    Raises:
        CauseError: for a name that is not in :data:`BUILTIN_MODELS`.
    """
    if name not in BUILTIN_MODELS:
        raise CauseError(
            f"no built-in model {name!r}", fix=f"use one of {', '.join(BUILTIN_MODELS)} or a path"
        )
    return asset_path(BUILTIN_MODELS[name])


def resolve_model(model: str | os.PathLike | None, default: str = DEFAULT_MODEL) -> Path:
    """What a ``--model`` value names: a built-in model's name or a path (None: ``default``).

    Args:
        model: A name of :data:`BUILTIN_MODELS`, a path to a model.zip, or None.
        default: The built-in name used for None.

    Returns:
        The model file (a path is returned as given; the caller checks it exists).
    """
    if model is None:
        return cause_model(default)
    if isinstance(model, str) and model in BUILTIN_MODELS:
        return cause_model(model)
    return Path(model)
