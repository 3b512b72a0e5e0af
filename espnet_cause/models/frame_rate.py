"""Feature frames (e.g. 100 fps) -> AU frames (e.g. 25 fps).

Convention (shared with :mod:`espnet_cause.io.timegrid`): AU frame ``k`` is at time
``k / au_fps``; a centred STFT feature frame ``j`` is at ``j / feat_fps``. An utterance of
``duration`` seconds has ``ceil(duration * au_fps)`` AU frames.

- ``avg`` (needs ``feat_fps / au_fps`` to be an integer ``r``): AU frame ``k`` is the mean of the
  feature frames ``r*k - r//2 .. r*k + r - r//2 - 1`` that exist (for r = 4: frames 4k-2 .. 4k+1,
  centred 5 ms before ``k / au_fps``). Causal in the sense that it needs feature frames only up
  to ``r*k + r - r//2 - 1``, which bounds the look-ahead of streaming.
- ``interp``: linear interpolation of the features at ``k / au_fps`` (any rate ratio).

Frames asked for past the end of the features repeat the last one that has data (edge padding).
"""

from __future__ import annotations

import torch

RESAMPLE_MODES = ("avg", "interp")
#: Tolerance when checking that a rate ratio is an integer.
RATIO_EPS = 1e-6


def pool_ratio(feat_fps: float, au_fps: float) -> int:
    """The integer ratio ``feat_fps / au_fps`` that ``avg`` pooling needs.

    Raises:
        ValueError: when the ratio is not an integer.
    """
    ratio = feat_fps / au_fps
    if abs(ratio - round(ratio)) > RATIO_EPS or round(ratio) < 1:
        raise ValueError(
            f"feature rate {feat_fps} fps is not an integer multiple of au_fps {au_fps}; "
            "use feats_resample: interp"
        )
    return int(round(ratio))


def avg_pool_frames(
    feats: torch.Tensor, feats_lengths: torch.Tensor, out_lengths: torch.Tensor, ratio: int
) -> torch.Tensor:
    """Average ``ratio`` feature frames around each AU frame (see the module docstring).

    Args:
        feats: (B, F, D) features, frame j at ``j / feat_fps``.
        feats_lengths: (B,) valid feature frames.
        out_lengths: (B,) wanted AU frames.
        ratio: ``feat_fps / au_fps``.

    Returns:
        (B, max(out_lengths), D), zero beyond each ``out_lengths``.
    """
    bsz, num_feats, dim = feats.shape
    num_out = int(out_lengths.max()) if len(out_lengths) else 0
    device = feats.device
    half = ratio // 2
    k = torch.arange(num_out, device=device)
    # last AU frame whose window still holds a feature frame
    last_k = torch.div(feats_lengths - 1 + half, ratio, rounding_mode="floor").clamp(min=0)
    kc = torch.minimum(k[None, :], last_k[:, None])  # (B, T)
    idx = kc[:, :, None] * ratio - half + torch.arange(ratio, device=device)  # (B, T, r)
    valid = (idx >= 0) & (idx < feats_lengths[:, None, None])
    gathered = torch.gather(
        feats, 1, idx.clamp(0, max(num_feats - 1, 0)).reshape(bsz, -1, 1).expand(-1, -1, dim)
    ).reshape(bsz, num_out, ratio, dim)
    w = valid.unsqueeze(-1).to(feats.dtype)
    out = (gathered * w).sum(2) / w.sum(2).clamp(min=1.0)
    keep = (k[None, :] < out_lengths[:, None]).unsqueeze(-1).to(feats.dtype)
    return out * keep


def interp_frames(
    feats: torch.Tensor,
    feats_lengths: torch.Tensor,
    out_lengths: torch.Tensor,
    feat_fps: float,
    au_fps: float,
) -> torch.Tensor:
    """Linearly interpolate features at the AU frame times ``k / au_fps``.

    Args:
        feats: (B, F, D) features.
        feats_lengths: (B,) valid feature frames.
        out_lengths: (B,) wanted AU frames.
        feat_fps: Feature frame rate.
        au_fps: AU frame rate.

    Returns:
        (B, max(out_lengths), D), zero beyond each ``out_lengths``.
    """
    bsz, num_feats, dim = feats.shape
    num_out = int(out_lengths.max()) if len(out_lengths) else 0
    k = torch.arange(num_out, device=feats.device, dtype=torch.float64)
    pos = (k * (feat_fps / au_fps))[None, :].expand(bsz, -1)
    pos = torch.minimum(pos, (feats_lengths[:, None] - 1).clamp(min=0).to(pos.dtype))
    left = pos.floor().long()
    right = torch.minimum(left + 1, (feats_lengths[:, None] - 1).clamp(min=0))
    w = (pos - left).to(feats.dtype).unsqueeze(-1)

    def take(i: torch.Tensor) -> torch.Tensor:
        return torch.gather(
            feats, 1, i.clamp(0, max(num_feats - 1, 0))[..., None].expand(-1, -1, dim)
        )

    out = take(left) * (1 - w) + take(right) * w
    keep = (k[None, :] < out_lengths[:, None]).unsqueeze(-1).to(feats.dtype)
    return out * keep
