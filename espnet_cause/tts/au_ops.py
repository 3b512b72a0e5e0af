"""Tensor operations on AU streams for TTS models: token averaging and time stretching."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def token_average(au: torch.Tensor, durations: torch.Tensor) -> torch.Tensor:
    """Average a frame-level stream over each token's frames (FastPitch-style, as pitch/energy).

    Args:
        au: (B, T_feats, D) frame-level values; frames past a row's total duration are ignored.
        durations: (B, T_text) integer frames per token (0 for padding or skipped tokens).

    Returns:
        (B, T_text, D) token means; tokens with zero duration get 0.

    Raises:
        ValueError: if a row's durations add up to more frames than ``au`` has.
    """
    durations = durations.long().clamp(min=0)
    ends = durations.cumsum(dim=1)  # (B, T_text)
    if int(ends[:, -1].max()) > au.size(1):
        raise ValueError(
            f"durations cover {int(ends[:, -1].max())} frames but the AU stream has {au.size(1)}"
        )
    starts = ends - durations
    # prefix sums with a leading zero frame: sum over [s, e) = cs[e] - cs[s]
    cs = F.pad(au.float().cumsum(dim=1), (0, 0, 1, 0))  # (B, T_feats + 1, D)
    idx_e = ends.unsqueeze(-1).expand(-1, -1, au.size(2))
    idx_s = starts.unsqueeze(-1).expand(-1, -1, au.size(2))
    sums = cs.gather(1, idx_e) - cs.gather(1, idx_s)
    return (sums / durations.clamp(min=1).unsqueeze(-1)).to(au.dtype)


def stretch(au: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Linearly time-stretch one stream to ``num_frames`` frames, keeping its first and last frame.

    A one-frame target gets the stream's mean.

    Args:
        au: (T, D) stream with T >= 1 (a single row gives a constant stream).
        num_frames: Wanted length (>= 0).

    Returns:
        (num_frames, D) stream.
    """
    if au.dim() != 2 or au.size(0) == 0:
        raise ValueError(f"expected a (T>0, D) stream, got shape {tuple(au.shape)}")
    if num_frames == 0:
        return au.new_zeros(0, au.size(1))
    if au.size(0) == 1:
        return au.expand(num_frames, -1).clone()
    if num_frames == 1:
        return au.mean(dim=0, keepdim=True)
    out = F.interpolate(
        au.t().unsqueeze(0), size=num_frames, mode="linear", align_corners=True
    )  # (1, D, num_frames)
    return out[0].t()
