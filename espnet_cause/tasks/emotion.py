"""EmotionTask: the ESPnet2 task that trains :class:`ESPnetEmotionModel` (speech -> 8 emotions).

Data names: ``speech`` (``sound``, 16 kHz mono) and ``emotion`` (``text_int``: one class index
into :data:`espnet_cause.emotion.EMOTIONS` per utterance, as ``bin/emotion_labels`` writes it).
The frontend, normaliser and encoder choices are CAUSE's (:mod:`espnet_cause.tasks.cause`), so a
recogniser with CAUSE's frontend config reuses CAUSE's stage-3 ``feats_stats.npz`` and shape
files: ``--normalize global_mvn --normalize_conf stats_file=exp/stats/train/feats_stats.npz``.
``model_conf: {classes: [...]}`` names the emotions the corpus has; the others are masked.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from espnet2.torch_utils.initialize import initialize

from espnet_cause.models.emotion_model import ESPnetEmotionModel
from espnet_cause.tasks.cause import (
    CAUSETask,
    encoder_choices,
    frontend_choices,
    normalize_choices,
)


class EmotionTask(CAUSETask):
    """Speech -> frame-level emotion posteriors (the recogniser of the AU-vs-emotion study)."""

    class_choices_list = [frontend_choices, normalize_choices, encoder_choices]

    model_class = ESPnetEmotionModel

    @classmethod
    def add_training_arguments(cls, group) -> None:
        """None: the recogniser trains on the speech as it is."""

    @classmethod
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Callable[[str, dict[str, np.ndarray]], dict[str, np.ndarray]] | None:
        return None

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        return ("speech",) if inference else ("speech", "emotion")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        return ("emotion",) if inference else ()

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetEmotionModel:
        frontend = frontend_choices.get_class(args.frontend)(**(args.frontend_conf or {}))
        normalize = None
        if getattr(args, "normalize", None) is not None and not getattr(
            args, "collect_stats", False
        ):
            normalize = normalize_choices.get_class(args.normalize)(**args.normalize_conf)
        encoder = encoder_choices.get_class(args.encoder)(
            input_size=frontend.output_size(), **(args.encoder_conf or {})
        )
        model = ESPnetEmotionModel(
            frontend=frontend, normalize=normalize, encoder=encoder, **(args.model_conf or {})
        )
        if getattr(args, "init", None) is not None:
            initialize(model, args.init)
        return model
