"""Weights of a trained model: loaded safely (tensors only) and weight norm folded away."""

from __future__ import annotations

from pathlib import Path

from espnet_cause.errors import CauseError


def remove_weight_norm(module) -> int:
    """Fold weight normalisation into plain weights (same outputs, less work per call).

    Handles both ``torch.nn.utils.parametrizations.weight_norm`` and the older hook-based
    ``torch.nn.utils.weight_norm``.

    Returns:
        The number of layers changed.
    """
    import torch
    from torch.nn.utils import parametrize

    count = 0
    for sub in module.modules():
        if parametrize.is_parametrized(sub, "weight"):
            parametrize.remove_parametrizations(sub, "weight", leave_parametrized=True)
            count += 1
        else:
            for hook in list(sub._forward_pre_hooks.values()):
                if type(hook).__name__ == "WeightNorm":
                    torch.nn.utils.remove_weight_norm(sub)
                    count += 1
                    break
    return count


def load_state_dict(model_file: Path, *, where: str, member: str = "") -> dict:
    """A ``.pth`` state dict read with ``torch.load(weights_only=True)``: tensors, never code.

    A file that pickles other Python objects is refused (loading it could run code); unlike
    PyTorch's message, the error never suggests loading it unsafely.

    Args:
        model_file: The weights file.
        where: The file errors name (the zip it came from, or the file itself).
        member: Prefix naming the member inside a zip (``"model.pth in the zip: "``).

    Returns:
        The state dict (unwrapped from ``{"module": ...}`` / ``{"state_dict": ...}``).
    """
    import pickle
    import zipfile

    import torch

    fix = "pass the .pth the training wrote for this config (or a packed model.zip)"
    try:
        state = torch.load(model_file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CauseError(
            f"{member}the weights file holds Python objects besides tensors; refused, because "
            "loading it could run code",
            path=where,
            fix="use a state dict saved with torch.save(model.state_dict(), path), or re-pack "
            "the model from its training run",
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CauseError(f"{member}cannot load the weights: {first}", path=where, fix=fix) from None
    for wrapper in ("module", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CauseError(f"{member}the weights file is not a state dict", path=where, fix=fix)
    return state
