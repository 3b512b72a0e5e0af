"""Run by torchrun in test_ganimation_ddp.py: the real ganimation_train CLI, then each rank's weights.

Usage: torchrun --standalone --nproc_per_node N ddp_worker.py DUMP_DIR ganimation_train-args...
"""

import os
import sys
from pathlib import Path

import torch

from espnet_cause.bin import ganimation_train
from espnet_cause.ganimation.trainer import GANimationTrainer

dump_dir = Path(sys.argv[1])
train = GANimationTrainer.train


def train_and_dump(self):
    train(self)
    state = {
        "rank": self.rank,
        "world_size": self.world_size,
        "backend": torch.distributed.get_backend(),
        "step": self.step,
        "generator": self.generator.state_dict(),
        "discriminator": self.discriminator.state_dict(),
    }
    torch.save(state, dump_dir / f"rank{os.environ['RANK']}.pt")


GANimationTrainer.train = train_and_dump
ganimation_train.main(sys.argv[2:])
