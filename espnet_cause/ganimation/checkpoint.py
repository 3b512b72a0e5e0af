"""GANimation checkpoint files: the training checkpoint and the exported generator.

Two kinds of ``.pth`` files (``torch.save`` dicts), both readable by :func:`load_generator`:

- ``checkpoint.pth``, written during training: ``{"kind": "ganimation_checkpoint", "step",
  "image_size", "generator_conf", "discriminator_conf", "generator", "discriminator",
  "optimizer_g", "optimizer_d", "config"}``;
- ``generator.pth``, what rendering needs: ``{"kind": "ganimation_generator", "image_size",
  "generator_conf", "generator"}``, written by :func:`save_generator` only.
"""

from __future__ import annotations

import os
from pathlib import Path

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

#: ``kind`` of a full training checkpoint.
CHECKPOINT_KIND = "ganimation_checkpoint"
#: ``kind`` of an exported generator.
GENERATOR_KIND = "ganimation_generator"
_KINDS = (CHECKPOINT_KIND, GENERATOR_KIND)


def save_generator(
    path: str | os.PathLike, generator, image_size: int, generator_conf: dict
) -> None:
    """Write ``generator.pth``: what rendering needs, nothing half-written.

    Args:
        path: Output file.
        generator: The ``GANimationGenerator`` (its ``state_dict`` is saved).
        image_size: Side of the square face crops it was trained on.
        generator_conf: The keyword arguments that rebuild it (``GANimationGenerator(**conf)``).
    """
    import torch

    data = {
        "kind": GENERATOR_KIND,
        "image_size": int(image_size),
        "generator_conf": dict(generator_conf),
        "generator": generator.state_dict(),
    }
    with atomic_write(path) as tmp:
        torch.save(data, tmp)


def read_checkpoint(path: str | os.PathLike, kinds: tuple[str, ...] = _KINDS) -> dict:
    """Load a GANimation ``.pth`` file onto the CPU and check its kind.

    Raises:
        CauseError: if the file is missing, not a torch file, or not one of ``kinds``.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CauseError(
            "GANimation model file not found",
            path=path,
            fix="train one (python -m espnet_cause.bin.ganimation_train) or check the path",
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle, zip and torch errors all mean "not a checkpoint"
        raise CauseError(
            f"not a PyTorch checkpoint ({type(e).__name__}: {str(e)[:200]})",
            path=path,
            fix="give the generator.pth or checkpoint.pth written by ganimation_train",
        ) from None
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in kinds:
        raise CauseError(
            f"not a GANimation file of kind {' or '.join(kinds)} (found kind {kind!r})",
            path=path,
            fix="give the generator.pth or checkpoint.pth written by ganimation_train",
        )
    return data


def load_state(module, state: dict, path: str | os.PathLike, what: str) -> None:
    """``module.load_state_dict(state)`` with a CauseError naming the mismatching tensors."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k} {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}" + (" ..." if len(missing) > 3 else ""))
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}")
        if shapes:
            parts.append(f"shape mismatch {'; '.join(shapes[:3])}")
        raise CauseError(
            f"{what} weights do not match the {what} configuration: {'; '.join(parts)}",
            path=path,
            fix="use the configuration the checkpoint was trained with, or another checkpoint",
        )
    module.load_state_dict(state)


def load_generator(path: str | os.PathLike):
    """Build the generator saved in ``path`` (either kind of file), in eval mode on the CPU.

    Returns:
        (GANimationGenerator, image_size).
    """
    # torch, loaded with a checkpoint
    from espnet_cause.ganimation.generator import GANimationGenerator

    data = read_checkpoint(path)
    try:
        generator = GANimationGenerator(**data["generator_conf"])
        image_size = int(data["image_size"])
        state = data["generator"]
    except (KeyError, TypeError, ValueError) as e:
        raise CauseError(
            f"GANimation file is incomplete or has a bad generator_conf: {e}", path=path
        ) from None
    load_state(generator, state, path, "generator")
    return generator.eval(), image_size
