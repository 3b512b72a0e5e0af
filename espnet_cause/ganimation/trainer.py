"""GANimation training loop: WGAN-GP critic steps, a generator step every ``n_critic`` steps.

One *step* is one discriminator update on a batch; every ``n_critic``-th step the generator is
also updated on that batch (the official code's schedule, 5 critic steps per generator step).
The learning rate is constant, then decays linearly to 0 over the last ``lr_decay_steps``.

Multi-GPU: under ``torchrun --nproc_per_node N`` (``WORLD_SIZE`` > 1) each process trains on its
shard of the data (DistributedSampler) and gradients are averaged across processes with
``all_reduce`` after every backward pass (explicit averaging, because the gradient penalty's
double backward does not mix well with DDP's bucketed hooks). Only rank 0 logs and saves.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from espnet_cause.emotion import NUM_EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.ganimation.checkpoint import (
    CHECKPOINT_KIND,
    load_state,
    read_checkpoint,
    save_generator,
)
from espnet_cause.ganimation.data import FaceAUDataset, FaceEmotionDataset
from espnet_cause.ganimation.discriminator import GANimationDiscriminator
from espnet_cause.ganimation.generator import GANimationGenerator
from espnet_cause.ganimation.losses import (
    AttentionLoss,
    AURegressionLoss,
    CycleLoss,
    EmotionClassificationLoss,
    WassersteinCriticLoss,
    WassersteinGeneratorLoss,
)
from espnet_cause.io.atomic import atomic_write

logger = logging.getLogger(__name__)

#: File names inside the output directory.
CHECKPOINT_FILE = "checkpoint.pth"
GENERATOR_FILE = "generator.pth"
TENSORBOARD_DIR = "tensorboard"
#: Faces shown in each logged image grid.
GRID_FACES = 4


def lr_factor(step: int, max_steps: int, lr_decay_steps: int) -> float:
    """Constant 1 until ``max_steps - lr_decay_steps``, then linear down to 0 at ``max_steps``."""
    start = max_steps - lr_decay_steps
    if lr_decay_steps <= 0 or step < start:
        return 1.0
    return max(0.0, (max_steps - step) / lr_decay_steps)


class ScalarAndImageLogger:
    """Scalars and image grids to TensorBoard, in ``output_dir/tensorboard``.

    Args:
        output_dir: Experiment directory.
    """

    def __init__(self, output_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(output_dir / TENSORBOARD_DIR))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)

    def image(self, step: int, grid: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB grid."""
        self.writer.add_image("faces", grid, step, dataformats="HWC")

    def close(self) -> None:
        self.writer.close()


def image_grid(rows: list[torch.Tensor]) -> np.ndarray:
    """Tile (B, C, H, W) tensors in [-1, 1] (C = 1 or 3; 1 is shown as gray in [0, 1]) into one
    (rows * H, B * W, 3) uint8 image: one row per tensor, one column per face."""
    tiles = []
    for row in rows:
        row = row.detach().float().cpu()
        if row.size(1) == 1:
            row = row.expand(-1, 3, -1, -1) * 2 - 1
        row = ((row.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        tiles.append(torch.cat(list(row.permute(0, 2, 3, 1)), dim=1))
    return torch.cat(tiles, dim=0).numpy()


@dataclasses.dataclass
class TrainingSchedule:
    """How long GANimation trains and how often it logs and saves (flat keys in the YAML).

    Attributes:
        batch_size: Faces per batch (per process).
        n_critic: Discriminator steps per generator step.
        max_steps: Total discriminator steps.
        lr_decay_steps: Linear learning-rate decay over the last this many steps.
        num_workers: DataLoader worker processes.
        log_interval: Steps between scalar logs.
        image_interval: Steps between image grids.
        save_interval: Steps between checkpoints.
        seed: Random seed.
    """

    batch_size: int = 25
    n_critic: int = 5
    max_steps: int = 240000
    lr_decay_steps: int = 80000
    num_workers: int = 2
    log_interval: int = 100
    image_interval: int = 1000
    save_interval: int = 2000
    seed: int = 0


#: The flat YAML keys that make up a :class:`TrainingSchedule`.
SCHEDULE_KEYS = tuple(f.name for f in dataclasses.fields(TrainingSchedule))


class GANimationTrainer:
    """Builds the GANimation networks, losses and optimisers, and trains them.

    The YAML configuration (``conf/ganimation.yaml``) maps onto these arguments one to one, its
    flat schedule keys onto ``schedule`` (see :meth:`from_config`).

    Args:
        train_dir: Face directory (``aus.csv`` + crops), see ``espnet_cause.ganimation.data``.
        output_dir: Where checkpoints, ``generator.pth`` and logs go.
        image_size: Side of the training crops (the paper's 128).
        generator_conf: ``GANimationGenerator`` kwargs.
        discriminator_conf: ``GANimationDiscriminator`` kwargs (``image_size`` is added).
        critic_loss_conf: ``WassersteinCriticLoss`` kwargs.
        adversarial_loss_conf: ``WassersteinGeneratorLoss`` kwargs.
        au_loss_conf: ``AURegressionLoss`` kwargs.
        cycle_loss_conf: ``CycleLoss`` kwargs.
        attention_loss_conf: ``AttentionLoss`` kwargs.
        optim_conf: ``torch.optim.Adam`` kwargs, for both networks.
        dataset_conf: ``FaceAUDataset`` kwargs (``image_size`` is added).
        condition: ``au`` (the paper: 17 AUs, AU regression head) or ``emotion`` (8 emotion
            probabilities, the discriminator's head classifies the emotion instead; the
            condition size in ``generator_conf``/``discriminator_conf`` defaults to 8 and must be
            8).
        emotion_labels: ``condition: emotion``: the ``<utt> <class index>`` file that labels
            the crops (``FaceEmotionDataset``).
        emotion_loss_conf: ``EmotionClassificationLoss`` kwargs (``condition: emotion``).
        schedule: Steps, batch size, intervals and seed (default :class:`TrainingSchedule`).
        device: Torch device; default ``cuda:LOCAL_RANK`` when CUDA is available, else CPU.
    """

    def __init__(
        self,
        train_dir: str | os.PathLike,
        output_dir: str | os.PathLike,
        image_size: int = 128,
        generator_conf: dict | None = None,
        discriminator_conf: dict | None = None,
        critic_loss_conf: dict | None = None,
        adversarial_loss_conf: dict | None = None,
        au_loss_conf: dict | None = None,
        cycle_loss_conf: dict | None = None,
        attention_loss_conf: dict | None = None,
        optim_conf: dict | None = None,
        dataset_conf: dict | None = None,
        condition: str = "au",
        emotion_labels: str | os.PathLike | None = None,
        emotion_loss_conf: dict | None = None,
        schedule: TrainingSchedule | None = None,
        device: str | None = None,
    ) -> None:
        self.schedule = schedule = schedule or TrainingSchedule()
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device is None:
            device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if self.world_size > 1 and not torch.distributed.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            torch.distributed.init_process_group(backend)
        # Every rank builds the same initial networks (the seed without the rank), so that with
        # averaged gradients they stay identical; data order and noise then differ by rank.
        torch.manual_seed(schedule.seed)

        self.train_dir = Path(train_dir)
        self.output_dir = Path(output_dir)
        self.image_size = image_size
        self.generator_conf = dict(generator_conf or {})
        self.discriminator_conf = dict(discriminator_conf or {})
        self.condition = condition
        self.emotion_labels = emotion_labels
        if condition == "emotion":
            for name, conf in (("generator", self.generator_conf),
                               ("discriminator", self.discriminator_conf)):  # fmt: skip
                if conf.setdefault("condition_size", NUM_EMOTIONS) != NUM_EMOTIONS:
                    raise CauseError(
                        f"{name}_conf condition_size {conf['condition_size']} with condition "
                        f"emotion (needs {NUM_EMOTIONS})",
                        fix=f"set condition_size: {NUM_EMOTIONS} or leave it out",
                    )
            if emotion_labels is None:
                raise CauseError(
                    "condition: emotion needs the emotion labels of the crops",
                    fix="pass --emotion_labels dump/<set>/emotion",
                )
        elif condition != "au":
            raise CauseError(f"unknown GANimation condition {condition!r}", fix="use au or emotion")
        self.generator = GANimationGenerator(**self.generator_conf).to(self.device)
        self.discriminator = GANimationDiscriminator(
            image_size=image_size, **self.discriminator_conf
        ).to(self.device)
        torch.manual_seed(schedule.seed + self.rank)
        np.random.seed(schedule.seed + self.rank)
        self.critic_loss = WassersteinCriticLoss(**(critic_loss_conf or {}))
        self.adversarial_loss = WassersteinGeneratorLoss(**(adversarial_loss_conf or {}))
        # the discriminator's condition head: AU regression or emotion classification
        if condition == "emotion":
            self.au_loss = EmotionClassificationLoss(**(emotion_loss_conf or {}))
        else:
            self.au_loss = AURegressionLoss(**(au_loss_conf or {}))
        self.cycle_loss = CycleLoss(**(cycle_loss_conf or {}))
        self.attention_loss = AttentionLoss(**(attention_loss_conf or {}))
        optim_conf = dict(optim_conf or {"lr": 1e-4, "betas": (0.5, 0.999)})
        if "betas" in optim_conf:
            optim_conf["betas"] = tuple(optim_conf["betas"])
        self.base_lr = float(optim_conf.get("lr", 1e-3))
        self.optimizer_g = torch.optim.Adam(self.generator.parameters(), **optim_conf)
        self.optimizer_d = torch.optim.Adam(self.discriminator.parameters(), **optim_conf)
        self.dataset_conf = dict(dataset_conf or {})
        self.step = 0
        self.config: dict = {}

    @classmethod
    def from_config(
        cls, train_dir: str | os.PathLike, output_dir: str | os.PathLike, config: dict
    ) -> GANimationTrainer:
        """A trainer from the flat YAML configuration (schedule keys go to ``schedule``)."""
        config = dict(config)
        schedule = TrainingSchedule(**{k: config.pop(k) for k in SCHEDULE_KEYS if k in config})
        return cls(train_dir=train_dir, output_dir=output_dir, schedule=schedule, **config)

    @classmethod
    def config_keys(cls) -> set[str]:
        """The keys a YAML configuration may hold."""
        args = set(inspect.signature(cls).parameters) - {"train_dir", "output_dir", "schedule"}
        return args | set(SCHEDULE_KEYS)

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict:
        return {
            "kind": CHECKPOINT_KIND,
            "step": self.step,
            "image_size": self.image_size,
            "generator_conf": self.generator_conf,
            "discriminator_conf": self.discriminator_conf,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            "config": self.config,
        }

    def save(self) -> None:
        """Write ``checkpoint.pth`` (everything) and ``generator.pth`` (for rendering)."""
        if self.rank != 0:
            return
        with atomic_write(self.output_dir / CHECKPOINT_FILE) as tmp:
            torch.save(self.state(), tmp)
        save_generator(
            self.output_dir / GENERATOR_FILE, self.generator, self.image_size, self.generator_conf
        )
        logger.info("step %d: saved %s", self.step, self.output_dir / CHECKPOINT_FILE)

    def load(self, path: str | os.PathLike) -> None:
        """Resume networks, optimisers and step from a training checkpoint.

        Raises:
            CauseError: naming the file if it is missing, of another kind, or made with another
                image size or network configuration.
        """
        data = read_checkpoint(path, kinds=(CHECKPOINT_KIND,))
        if int(data.get("image_size", -1)) != self.image_size:
            raise CauseError(
                f"checkpoint image_size {data.get('image_size')} != configured {self.image_size}",
                path=path,
                fix="use the same configuration, or a new --output_dir without --resume",
            )
        load_state(self.generator, data["generator"], path, "generator")
        load_state(self.discriminator, data["discriminator"], path, "discriminator")
        try:
            self.optimizer_g.load_state_dict(data["optimizer_g"])
            self.optimizer_d.load_state_dict(data["optimizer_d"])
        except (KeyError, ValueError) as e:
            raise CauseError(f"optimizer state does not match: {e}", path=path) from None
        self.step = int(data["step"])
        logger.info("resumed from %s at step %d", path, self.step)

    # ------------------------------------------------------------------ training

    def _loader(self):
        from torch.utils.data import DataLoader, DistributedSampler

        if self.condition == "emotion":
            dataset = FaceEmotionDataset(
                self.train_dir, self.emotion_labels, image_size=self.image_size, **self.dataset_conf
            )
        else:
            dataset = FaceAUDataset(self.train_dir, image_size=self.image_size, **self.dataset_conf)
        sampler = None
        if self.world_size > 1:
            sampler = DistributedSampler(dataset, seed=self.schedule.seed, drop_last=True)
        drop_last = len(dataset) // self.world_size >= self.schedule.batch_size
        loader = DataLoader(
            dataset,
            batch_size=self.schedule.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            num_workers=self.schedule.num_workers,
            drop_last=drop_last,
            pin_memory=self.device.type == "cuda",
            persistent_workers=self.schedule.num_workers > 0,
        )
        logger.info("%d training faces in %s", len(dataset), self.train_dir)
        return loader, sampler

    def _average_gradients(self, module: nn.Module) -> None:
        if self.world_size == 1:
            return
        for p in module.parameters():
            if p.grad is not None:
                torch.distributed.all_reduce(p.grad)
                p.grad /= self.world_size

    def _set_lr(self) -> float:
        lr = self.base_lr * lr_factor(
            self.step, self.schedule.max_steps, self.schedule.lr_decay_steps
        )
        for opt in (self.optimizer_g, self.optimizer_d):
            for group in opt.param_groups:
                group["lr"] = lr
        return lr

    def train_discriminator(self, real, real_aus, target_aus) -> dict[str, float]:
        """One critic step. Returns the loss parts."""
        with torch.no_grad():
            fake = self.generator(real, target_aus)[0]
        real_score, real_pred = self.discriminator(real)
        fake_score, _ = self.discriminator(fake)
        critic, parts = self.critic_loss(self.discriminator, real, fake, real_score, fake_score)
        au = self.au_loss(real_pred, real_aus)
        loss = critic + au
        self.optimizer_d.zero_grad(set_to_none=True)
        loss.backward()
        self._average_gradients(self.discriminator)
        self.optimizer_d.step()
        return {
            "d/loss": loss.item(),
            "d/wasserstein": parts["wasserstein"].item(),
            "d/gradient_penalty": parts["gradient_penalty"].item(),
            "d/au": au.item(),
        }

    def train_generator(self, real, real_aus, target_aus):
        """One generator step. Returns the loss parts and the tensors for the image grid."""
        fake, color, attention = self.generator(real, target_aus)
        fake_score, fake_pred = self.discriminator(fake)
        adversarial = self.adversarial_loss(fake_score)
        au = self.au_loss(fake_pred, target_aus)
        recon, _, recon_attention = self.generator(fake, real_aus)
        cycle = self.cycle_loss(recon, real)
        att1, parts = self.attention_loss(attention)
        att2, _ = self.attention_loss(recon_attention)
        loss = adversarial + au + cycle + att1 + att2
        self.optimizer_g.zero_grad(set_to_none=True)
        loss.backward()
        self._average_gradients(self.generator)
        self.optimizer_g.step()
        scalars = {
            "g/loss": loss.item(),
            "g/adversarial": adversarial.item(),
            "g/au": au.item(),
            "g/cycle": cycle.item(),
            "g/attention_saturation": parts["saturation"].item(),
            "g/attention_smoothness": parts["smoothness"].item(),
        }
        return scalars, [real, fake, attention, color, recon]

    def train(self) -> None:
        """Train until ``max_steps``, saving every ``save_interval`` steps and at the end."""
        from tqdm import tqdm

        if self.step >= self.schedule.max_steps:
            logger.info(
                "already trained to step %d (max_steps %d)", self.step, self.schedule.max_steps
            )
            if self.rank == 0 and not (self.output_dir / GENERATOR_FILE).exists():
                self.save()
            return
        self.output_dir.mkdir(parents=True, exist_ok=True)
        loader, sampler = self._loader()
        log = ScalarAndImageLogger(self.output_dir) if self.rank == 0 else None
        self.generator.train()
        self.discriminator.train()
        epoch = self.step // max(1, len(loader))
        progress = tqdm(
            total=self.schedule.max_steps,
            initial=self.step,
            desc="ganimation",
            disable=self.rank != 0,
        )
        start, sums, counts, count = time.time(), {}, {}, 0
        while self.step < self.schedule.max_steps:
            if sampler is not None:
                sampler.set_epoch(epoch)
            for batch in loader:
                real = batch["image"].to(self.device, non_blocking=True)
                real_aus = batch["aus"].to(self.device)
                target_aus = batch["target_aus"].to(self.device)
                lr = self._set_lr()
                scalars = self.train_discriminator(real, real_aus, target_aus)
                grid_rows = None
                if (self.step + 1) % self.schedule.n_critic == 0:
                    g_scalars, grid_rows = self.train_generator(real, real_aus, target_aus)
                    scalars.update(g_scalars)
                self.step += 1
                progress.update(1)
                for k, v in scalars.items():
                    sums[k] = sums.get(k, 0.0) + v
                    counts[k] = counts.get(k, 0) + 1
                count += 1
                if log is not None and self.step % self.schedule.log_interval == 0:
                    means = {k: v / counts[k] for k, v in sums.items()}
                    means["lr"] = lr
                    means["steps_per_second"] = count / max(time.time() - start, 1e-9)
                    log.scalars(self.step, means)
                    logger.info(
                        "step %d: %s",
                        self.step,
                        " ".join(f"{k}={v:.4g}" for k, v in sorted(means.items())),
                    )
                    start, sums, counts, count = time.time(), {}, {}, 0
                if (
                    log is not None
                    and grid_rows is not None
                    and (self.step % self.schedule.image_interval < self.schedule.n_critic)
                ):
                    log.image(self.step, image_grid([r[:GRID_FACES] for r in grid_rows]))
                if (
                    self.step % self.schedule.save_interval == 0
                    or self.step >= self.schedule.max_steps
                ):
                    self.save()
                if self.step >= self.schedule.max_steps:
                    break
            epoch += 1
        progress.close()
        if log is not None:
            log.close()
