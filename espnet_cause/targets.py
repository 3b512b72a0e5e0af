"""The two spaces a CAUSE model can learn: FACS AUs (``au``) or ARKit blendshapes (``arkit``).

========  ==========================  ===========  ==================  =========================
target    columns                     scale        stage-2 labels      from MediaPipe video
========  ==========================  ===========  ==================  =========================
au        17 AUs, OpenFace order      0..5         ``au.scp``          blendshapes -> AU table
arkit     51 blendshapes, MediaPipe   0..1         ``blendshapes.scp`` the blendshapes as scored
          order (no ``tongueOut``)
========  ==========================  ===========  ==================  =========================

A model's target is its ``model_conf: {target: ...}`` (default ``au``); every stream of frame
values in the project is one of these two, and the column count (17 or 51) tells which.
"""

from __future__ import annotations

import dataclasses

from espnet_cause.arkit import BLENDSHAPE_MAX, BLENDSHAPE_MIN, BLENDSHAPE_NAMES
from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN, AU_NAMES
from espnet_cause.errors import CauseError


@dataclasses.dataclass(frozen=True)
class Target:
    """One target space.

    Attributes:
        name: ``au`` or ``arkit``.
        names: Column names.
        low: Smallest value on the scale.
        high: Largest value on the scale.
        label_scp: The stage-2 label file of this space in a dump dir.
    """

    name: str
    names: tuple[str, ...]
    low: float
    high: float
    label_scp: str

    @property
    def size(self) -> int:
        """Number of columns."""
        return len(self.names)


AU = Target("au", AU_NAMES, AU_INTENSITY_MIN, AU_INTENSITY_MAX, "au.scp")
ARKIT = Target("arkit", BLENDSHAPE_NAMES, BLENDSHAPE_MIN, BLENDSHAPE_MAX, "blendshapes.scp")
#: The target spaces by name.
TARGETS: dict[str, Target] = {t.name: t for t in (AU, ARKIT)}


def get_target(name: str) -> Target:
    """The target space called ``name``.

    Raises:
        CauseError: for an unknown name.
    """
    if name not in TARGETS:
        raise CauseError(f"unknown target {name!r}", fix=f"use one of {', '.join(TARGETS)}")
    return TARGETS[name]


def target_for_width(width: int) -> Target:
    """The target space whose streams have ``width`` columns (17: au, 51: arkit).

    Raises:
        CauseError: for any other width.
    """
    for target in TARGETS.values():
        if target.size == width:
            return target
    sizes = ", ".join(f"{t.size} ({t.name})" for t in TARGETS.values())
    raise CauseError(f"frame values have {width} columns, expected {sizes}")
