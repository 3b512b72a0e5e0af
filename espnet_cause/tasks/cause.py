"""CAUSETask: the ESPnet2 task that trains :class:`ESPnetCAUSEModel` (speech -> 17 AUs).

Data names: ``speech`` (``sound``, 16 kHz mono) and ``au`` (``kaldi_ark``, (T, 17) float32 at
``au_fps`` on the 0-5 scale); optional ``au_weight`` (``npy``, ``au_weight.scp`` lines
``<utt> <path.npy>``, (17,) float32 per-AU loss weights of the utterance, 0 = this AU does not
teach; every utterance of a set needs one when the set has the file). With ``model_conf: {target: arkit}`` the ``au`` data are the 51
MediaPipe ARKit blendshapes on 0-1 instead (stage 2's ``blendshapes.scp``; see
:mod:`espnet_cause.targets`), with their own ``au_stats.npz``. Stage 3 runs this task with ``--collect_stats true`` to write the
shape files, ``feats_stats.npz`` and ``au_stats.npz``; stage 4 trains with
``--normalize global_mvn --normalize_conf stats_file=.../feats_stats.npz --au_normalize global_mvn
--au_normalize_conf stats_file=.../au_stats.npz``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import torch
import yaml
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.frontend.default import DefaultFrontend
from espnet2.tasks.abs_task import AbsTask
from espnet2.torch_utils.initialize import initialize
from espnet2.train.class_choices import ClassChoices
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.trainer import Trainer
from espnet2.utils.get_default_kwargs import get_default_kwargs
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import int_or_none, str_or_none

from espnet_cause.errors import CauseError
from espnet_cause.models.augment import SpeechAugmenter
from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder
from espnet_cause.models.encoders.cnn import CNNEncoder, DilatedCNNEncoder
from espnet_cause.models.encoders.conformer import ConformerCAUSEEncoder
from espnet_cause.models.encoders.expressive import ExpressiveCNNEncoder
from espnet_cause.models.encoders.mlp import MLPEncoder
from espnet_cause.models.encoders.rnn import RNNEncoder
from espnet_cause.models.espnet_model import ESPnetCAUSEModel
from espnet_cause.models.frontend import ProsodyFrontend
from espnet_cause.tasks.choices import mvn_choices

logger = logging.getLogger(__name__)

#: The ``*_conf`` keys whose ``stats_file`` is resolved when a model is loaded from a file.
STATS_CONF_KEYS = ("normalize_conf", "au_normalize_conf")

frontend_choices = ClassChoices(
    name="frontend",
    classes=dict(default=DefaultFrontend, prosody=ProsodyFrontend),
    type_check=AbsFrontend,
    default="default",
)
normalize_choices = mvn_choices("normalize")
au_normalize_choices = mvn_choices("au_normalize")
encoder_choices = ClassChoices(
    name="encoder",
    classes=dict(
        cnn=CNNEncoder,
        dcnn=DilatedCNNEncoder,
        rnn=RNNEncoder,
        mlp=MLPEncoder,
        conformer=ConformerCAUSEEncoder,
        expressive=ExpressiveCNNEncoder,
    ),
    type_check=AbsCAUSEEncoder,
    default="cnn",
)


class CAUSETask(AbsTask):
    """Speech -> facial action unit sequence (CAUSE)."""

    num_optimizers: int = 1
    class_choices_list = [
        frontend_choices,
        normalize_choices,
        au_normalize_choices,
        encoder_choices,
    ]
    trainer = Trainer

    #: The model whose keyword arguments ``--model_conf`` takes.
    model_class = ESPnetCAUSEModel

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group(description="Task related")
        group.add_argument(
            "--init",
            type=str_or_none,
            default=None,
            help="Parameter initialisation (ESPnet's initialize(); None: PyTorch defaults)",
        )
        group.add_argument(
            "--model_conf",
            action=NestedDictAction,
            default=get_default_kwargs(cls.model_class),
            help=f"Keyword arguments of {cls.model_class.__name__}",
        )
        cls.add_training_arguments(group)
        group.add_argument(
            "--num_threads",
            type=int_or_none,
            default=None,
            help="torch intra-op threads per process (None: torch's default). 1 is much faster "
            "on a busy CPU-only machine, where extra threads only spin",
        )
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)

    @classmethod
    def add_training_arguments(cls, group) -> None:
        """The task's own training options (CAUSE: ``--augment_conf``)."""
        group.add_argument(
            "--augment_conf",
            action=NestedDictAction,
            default=None,
            help="Keyword arguments of espnet_cause.models.augment.SpeechAugmenter: acoustic augmentation "
            "of the training speech (None: no augmentation; {} for the defaults)",
        )

    @classmethod
    def main_worker(cls, args: argparse.Namespace) -> None:
        if getattr(args, "num_threads", None):
            torch.set_num_threads(args.num_threads)
        super().main_worker(args)

    @classmethod
    def build_collate_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Callable[
        [Collection[tuple[str, dict[str, np.ndarray]]]],
        tuple[list[str], dict[str, torch.Tensor]],
    ]:
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=0)

    @classmethod
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Callable[[str, dict[str, np.ndarray]], dict[str, np.ndarray]] | None:
        conf = getattr(args, "augment_conf", None)
        if not train or conf is None:
            return None

        fs = int((args.frontend_conf or {}).get("fs", 16000))
        au_fps = float((args.model_conf or {}).get("au_fps", 25.0))
        return AugmentPreprocessor(SpeechAugmenter(fs=fs, au_fps=au_fps, **conf))

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        return ("speech",) if inference else ("speech", "au")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> tuple[str, ...]:
        # au_weight: per-utterance loss weights of the outputs (au_weight.scp, npy vectors);
        # emotion: class index in EMOTIONS (text_int; -1 unlabelled) for model_conf.emotion_weight
        return ("au",) if inference else ("au_weight", "emotion")

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetCAUSEModel:
        frontend = frontend_choices.get_class(args.frontend)(**(args.frontend_conf or {}))
        # collect_stats computes the statistics the normalisers would load: build without them
        collecting = bool(getattr(args, "collect_stats", False))
        normalize = None
        if getattr(args, "normalize", None) is not None and not collecting:
            normalize = normalize_choices.get_class(args.normalize)(**args.normalize_conf)
        au_normalize = None
        if getattr(args, "au_normalize", None) is not None and not collecting:
            au_normalize = au_normalize_choices.get_class(args.au_normalize)(
                **args.au_normalize_conf
            )
        encoder = encoder_choices.get_class(args.encoder)(
            input_size=frontend.output_size(), **(args.encoder_conf or {})
        )
        model = ESPnetCAUSEModel(
            frontend=frontend,
            normalize=normalize,
            au_normalize=au_normalize,
            encoder=encoder,
            **(args.model_conf or {}),
        )
        if getattr(args, "init", None) is not None:
            initialize(model, args.init)
        return model

    @classmethod
    def build_model_from_file(
        cls,
        config_file: str | Path | None = None,
        model_file: str | Path | None = None,
        device: str = "cpu",
    ) -> tuple[ESPnetCAUSEModel, argparse.Namespace]:
        """Build a trained model from its ``config.yaml`` and weights.

        Stats files named in the config are found as written, or else relative to the config's
        directory (and by file name next to it), so a copied experiment directory still loads.
        Unlike ESPnet's loader, the weights must match the model exactly.

        Args:
            config_file: The training ``config.yaml`` (default: next to ``model_file``).
            model_file: ``*.pth`` weights; None builds an untrained model.
            device: Torch device.

        Raises:
            CauseError: naming the file when the config, a stats file or the weights are
                missing, unreadable or do not fit.
        """
        if config_file is None:
            if model_file is None:
                raise CauseError("neither a config file nor a model file was given")
            config_file = Path(model_file).parent / "config.yaml"
        config_file = Path(config_file)
        if not config_file.is_file():
            raise CauseError("config file not found", path=config_file, fix="pass --train_config")
        try:
            with config_file.open(encoding="utf-8") as f:
                conf = yaml.safe_load(f)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise CauseError(f"not a YAML config: {exc}", path=config_file) from exc
        if not isinstance(conf, dict) or "encoder" not in conf:
            raise CauseError("not a CAUSE training config (no 'encoder')", path=config_file)
        for key in STATS_CONF_KEYS:
            sub = conf.get(key)
            if isinstance(sub, dict) and sub.get("stats_file"):
                sub["stats_file"] = str(resolve_stats_file(sub["stats_file"], config_file))
        args = argparse.Namespace(**conf)
        try:
            model = cls.build_model(args)
        except (TypeError, ValueError, KeyError) as exc:
            raise CauseError(f"cannot build the model: {exc}", path=config_file) from exc
        model.to(device)
        if model_file is not None:
            load_weights(model, model_file, device)
        return model, args


class AugmentPreprocessor:
    """ESPnet preprocess function: augments ``speech`` (and stretches ``au``) of a training item.

    Its generator is drawn from NumPy's global state, which ESPnet seeds before every epoch
    (the trainer process with ``seed + epoch``, data-loader workers with ``seed + epoch + worker
    id``), so training stays reproducible.
    """

    def __init__(self, augmenter) -> None:
        self.augmenter = augmenter

    def __call__(self, uid: str, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
        speech, au = self.augmenter(data["speech"], data.get("au"), rng)
        out = dict(data, speech=speech)
        if au is not None:
            out["au"] = au
        return out


def resolve_stats_file(stats_file: str, config_file: Path) -> Path:
    """Find a stats file named in a config: as written, relative to the config, or beside it.

    Raises:
        CauseError: when none of the candidates exists.
    """
    path = Path(stats_file)
    base = config_file.parent
    candidates = [path, base / path, base / path.name]
    candidates += [base / p for p in ("stats", "..") for p in [Path(p) / path.name]]
    for cand in candidates:
        if cand.is_file():
            return cand
    raise CauseError(
        f"statistics file {stats_file} named in the config was not found",
        path=config_file,
        fix=f"put {path.name} next to the config or edit its stats_file entries",
    )


def load_weights(model: torch.nn.Module, model_file: str | Path, device: str = "cpu") -> None:
    """Load a state dict strictly, turning every failure into a :class:`CauseError`."""
    model_file = Path(model_file)
    if not model_file.is_file():
        raise CauseError("model file not found", path=model_file, fix="pass an existing *.pth")
    try:
        state = torch.load(model_file, map_location=device, weights_only=True)
    except Exception as exc:  # truncated or foreign files raise many kinds of errors
        raise CauseError(f"cannot read model weights: {exc}", path=model_file) from exc
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]  # a checkpoint.pth
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CauseError(
            f"weights do not fit the model of the config: {str(exc).splitlines()[0]}",
            path=model_file,
            fix="use the config.yaml the weights were trained with",
        ) from exc
