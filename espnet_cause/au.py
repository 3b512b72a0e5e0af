"""The action unit (AU) vocabulary shared by every part of espnet-cause.

An AU stream is a float32 array of shape (T, 17): one column per intensity AU in OpenFace 2.x
order, on the FACS-derived 0 (absent) .. 5 (maximum) scale that OpenFace reports.
"""

from __future__ import annotations

#: The 17 intensity AUs that OpenFace 2.x estimates (``AUxx_r`` columns), in its column order.
AU_NAMES: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)  # fmt: skip

#: Number of intensity AUs in a stream (the last dimension of every AU array).
NUM_AUS: int = len(AU_NAMES)

#: The 18 presence AUs that OpenFace 2.x classifies (``AUxx_c`` columns); AU28 has no intensity.
AU_PRESENCE_NAMES: tuple[str, ...] = AU_NAMES[:-1] + ("AU28", "AU45")

#: FACS names of the AUs.
AU_FACS_NAMES: dict[str, str] = {
    "AU01": "Inner brow raiser",
    "AU02": "Outer brow raiser",
    "AU04": "Brow lowerer",
    "AU05": "Upper lid raiser",
    "AU06": "Cheek raiser",
    "AU07": "Lid tightener",
    "AU09": "Nose wrinkler",
    "AU10": "Upper lip raiser",
    "AU12": "Lip corner puller",
    "AU14": "Dimpler",
    "AU15": "Lip corner depressor",
    "AU17": "Chin raiser",
    "AU20": "Lip stretcher",
    "AU23": "Lip tightener",
    "AU25": "Lips part",
    "AU26": "Jaw drop",
    "AU28": "Lip suck",
    "AU45": "Blink",
}

#: Lowest intensity on the OpenFace scale (AU absent).
AU_INTENSITY_MIN: float = 0.0
#: Highest intensity on the OpenFace scale (FACS level E, maximum).
AU_INTENSITY_MAX: float = 5.0

#: Default frame rate of AU tracks in recipes (frames per second).
DEFAULT_AU_FPS: float = 25.0

#: OpenFace column suffixes: ``_r`` intensity regression, ``_c`` presence classification.
INTENSITY_SUFFIX = "_r"
PRESENCE_SUFFIX = "_c"

#: The OpenFace intensity column names, ``AU01_r`` .. ``AU45_r``.
AU_INTENSITY_COLUMNS: tuple[str, ...] = tuple(n + INTENSITY_SUFFIX for n in AU_NAMES)


def au_index(name: str) -> int:
    """Column of an AU in a (T, 17) stream.

    Args:
        name: ``"AU12"``, ``"au12"``, ``"AU12_r"`` or ``"12"``.

    Returns:
        The index into :data:`AU_NAMES`.

    Raises:
        KeyError: if the name is not one of the 17 intensity AUs.
    """
    key = name.strip().upper().removesuffix("_R")
    if key.isdigit():
        key = f"AU{int(key):02d}"
    if key not in AU_NAMES:
        raise KeyError(f"unknown AU {name!r}; intensity AUs are {', '.join(AU_NAMES)}")
    return AU_NAMES.index(key)


def describe(name: str) -> str:
    """Human-readable label, e.g. ``"AU12 (Lip corner puller)"``."""
    key = AU_NAMES[au_index(name)]
    return f"{key} ({AU_FACS_NAMES[key]})"
