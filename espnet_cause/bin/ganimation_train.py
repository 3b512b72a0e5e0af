#!/usr/bin/env python3
"""Train GANimation (AU-conditioned face expression synthesis) on a face directory.

Example:
    python -m espnet_cause.bin.ganimation_train --config conf/ganimation.yaml \
        --train_dir dump/faces --output_dir exp/ganimation --resume

The YAML keys are the keyword arguments of ``GANimationTrainer`` one to one; command-line flags
override them. Multi-GPU: ``torchrun --nproc_per_node N -m espnet_cause.bin.ganimation_train
...`` (each process takes ``--batch_size`` faces; gradients are averaged across processes).
The emotion-conditioned variant (8 emotion probabilities instead of 17 AUs, an emotion
classification head instead of the AU regression head; ``conf/ganimation_emotion_ci.yaml``)::

    python -m espnet_cause.bin.ganimation_train --config conf/ganimation_emotion_ci.yaml \
        --train_dir dump/faces --emotion_labels dump/train/emotion --output_dir exp/ganimation_emotion

Outputs in ``--output_dir``: ``checkpoint.pth`` (networks + optimisers, for ``--resume``),
``generator.pth`` (for ``render --generator``), TensorBoard scalars and image grids in
``tensorboard/`` (rows: input, output, attention, colour, reconstruction).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

#: Scalar settings that can be given on the command line (they override the YAML).
_OVERRIDES = {
    "image_size": int,
    "batch_size": int,
    "n_critic": int,
    "max_steps": int,
    "lr_decay_steps": int,
    "num_workers": int,
    "log_interval": int,
    "image_interval": int,
    "save_interval": int,
    "seed": int,
    "device": str,
    "condition": str,  # au | emotion
    "emotion_labels": str,  # condition emotion: dump/<set>/emotion (<utt> <class index>)
}


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Train GANimation on aligned face crops with AU labels.")
    parser.add_argument("--config", type=Path, help="YAML file (conf/ganimation.yaml)")
    parser.add_argument("--train_dir", type=Path, required=True, help="face directory")
    parser.add_argument("--output_dir", type=Path, required=True, help="experiment directory")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUTPUT_DIR/checkpoint.pth when it exists",
    )
    parser.add_argument("--init_checkpoint", type=Path, help="start from this checkpoint.pth")
    for name, kind in _OVERRIDES.items():
        parser.add_argument(f"--{name}", type=kind, default=None, help="overrides the YAML")
    return parser


def load_config(path: Path | None) -> dict:
    """Read the YAML configuration and check its keys against the trainer's arguments."""
    import yaml

    # torch, loaded when training runs
    from espnet_cause.ganimation.trainer import GANimationTrainer

    if path is None:
        return {}
    if not path.is_file():
        raise CauseError("config file not found", path=path, fix="check --config")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise CauseError(f"not valid YAML: {e}", path=path) from None
    if not isinstance(config, dict):
        raise CauseError("the config must be a mapping of settings", path=path)
    allowed = GANimationTrainer.config_keys()
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise CauseError(
            f"unknown setting(s) {', '.join(unknown)}",
            path=path,
            fix=f"use only {', '.join(sorted(allowed))}",
        )
    return config


@reports_errors
def main(cmd=None) -> None:
    """Train GANimation."""
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    # torch, loaded when training runs
    from espnet_cause.ganimation.trainer import CHECKPOINT_FILE, GANimationTrainer

    config = load_config(args.config)
    for name in _OVERRIDES:
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    trainer = GANimationTrainer.from_config(args.train_dir, args.output_dir, config)
    trainer.config = {k: v for k, v in config.items()}
    checkpoint = args.output_dir / CHECKPOINT_FILE
    if args.init_checkpoint is not None:
        trainer.load(args.init_checkpoint)
    elif args.resume and checkpoint.exists():
        trainer.load(checkpoint)
    elif args.resume:
        logger.info("--resume: no %s yet, starting from scratch", checkpoint)
    elif checkpoint.exists():
        logger.warning("%s exists and --resume is not set: training from scratch", checkpoint)
    trainer.train()
    logger.info("generator for rendering: %s", args.output_dir / "generator.pth")


if __name__ == "__main__":
    main()
