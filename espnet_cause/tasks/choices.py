"""Class choices the plugin's ESPnet tasks share."""

from __future__ import annotations

from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.layers.global_mvn import GlobalMVN
from espnet2.train.class_choices import ClassChoices


def mvn_choices(name: str) -> ClassChoices:
    """``--<name> global_mvn`` (with ``--<name>_conf stats_file=...``) or none (the default)."""
    return ClassChoices(
        name=name,
        classes=dict(global_mvn=GlobalMVN),
        type_check=AbsNormalize,
        default=None,
        optional=True,
    )
