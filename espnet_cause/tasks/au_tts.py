"""``AUTTSTask``: ESPnet's TTS task plus the AU-conditioned models and the ``au`` data name.

Everything ``espnet2.bin.tts_train`` accepts works unchanged (the stock TTS models are still
in ``--tts``); on top of it:

- ``--tts fastspeech2_au`` (:class:`~espnet_cause.tts.fastspeech2_au.FastSpeech2AU`);
- ``au`` as optional data: ``--train_data_path_and_name_and_type dump/.../au.scp,au,kaldi_ark``
  (frame-level AU from ``export_tts_features`` on the feature grid);
- ``--au_normalize global_mvn --au_normalize_conf stats_file=.../au_stats.npz`` (written by
  ``--collect_stats``; default none).
"""

from __future__ import annotations

import argparse
import logging

from espnet2.tasks import tts as stock
from espnet2.tasks.tts import TTSTask
from espnet2.train.class_choices import ClassChoices
from espnet2.tts.abs_tts import AbsTTS

from espnet_cause.tasks.choices import mvn_choices
from espnet_cause.tts.espnet_model import ESPnetAUTTSModel
from espnet_cause.tts.fastspeech2_au import FastSpeech2AU

#: The data name of the frame-level AU stream.
AU_DATA_NAME = "au"

tts_choices = ClassChoices(
    "tts",
    classes=dict(**stock.tts_choices.classes, fastspeech2_au=FastSpeech2AU),
    type_check=AbsTTS,
    default="fastspeech2_au",
)
au_normalize_choices = mvn_choices("au_normalize")


class AUTTSTask(TTSTask):
    """TTS task whose models may take a frame-level AU stream (see the module docstring)."""

    class_choices_list = [
        stock.feats_extractor_choices,
        stock.normalize_choices,
        tts_choices,
        stock.pitch_extractor_choices,
        stock.pitch_normalize_choices,
        stock.energy_extractor_choices,
        stock.energy_normalize_choices,
        au_normalize_choices,
    ]

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        return tuple(super().optional_data_names(train, inference)) + (AU_DATA_NAME,)

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetAUTTSModel:
        """Build the ESPnet model from the parsed arguments (the same as TTSTask, plus AU)."""
        if isinstance(args.token_list, str):
            with open(args.token_list, encoding="utf-8") as f:
                token_list = [line[0] + line[1:].rstrip() for line in f]  # keeps a " " token
            args.token_list = list(token_list)  # saved in config.yaml: keeps the model portable
        elif isinstance(args.token_list, (tuple, list)):
            token_list = list(args.token_list)
        else:
            raise RuntimeError("token_list must be a file name or a list")
        logging.info("Vocabulary size: %d", len(token_list))

        if args.odim is None:
            feats_extract = stock.feats_extractor_choices.get_class(args.feats_extract)(
                **args.feats_extract_conf
            )
            odim = feats_extract.output_size()
        else:
            args.feats_extract, args.feats_extract_conf = None, None
            feats_extract, odim = None, args.odim

        def build(choices: ClassChoices, name: str, conf: dict | None):
            return None if name is None else choices.get_class(name)(**(conf or {}))

        reduction_factor = args.tts_conf.get("reduction_factor", 1)
        for extractor in ("pitch_extract", "energy_extract"):
            conf = getattr(args, f"{extractor}_conf", None)
            if getattr(args, extractor, None) is not None:
                conf.setdefault("reduction_factor", reduction_factor)
                if conf["reduction_factor"] != reduction_factor:
                    raise ValueError(f"{extractor}_conf.reduction_factor != tts_conf's")

        tts = tts_choices.get_class(args.tts)(idim=len(token_list), odim=odim, **args.tts_conf)
        return ESPnetAUTTSModel(
            feats_extract=feats_extract,
            pitch_extract=build(
                stock.pitch_extractor_choices, args.pitch_extract, args.pitch_extract_conf
            ),
            energy_extract=build(
                stock.energy_extractor_choices, args.energy_extract, args.energy_extract_conf
            ),
            normalize=build(stock.normalize_choices, args.normalize, args.normalize_conf),
            pitch_normalize=build(
                stock.pitch_normalize_choices, args.pitch_normalize, args.pitch_normalize_conf
            ),
            energy_normalize=build(
                stock.energy_normalize_choices, args.energy_normalize, args.energy_normalize_conf
            ),
            tts=tts,
            au_normalize=build(au_normalize_choices, args.au_normalize, args.au_normalize_conf),
            **args.model_conf,
        )
