"""ESPnet's log-mel frontend, global MVN and the AU frame-rate conversion in numpy.

The same arithmetic as the torch pipeline of :class:`~espnet_cause.models.espnet_model.
ESPnetCAUSEModel` with the ``default`` frontend:

1. ``torch.stft(center=True)``: reflect padding of ``n_fft // 2`` samples at both ends, frames
   every ``hop_length`` samples, the (periodic) window of ``win_length`` samples centred in
   ``n_fft``, one-sided FFT; power = re**2 + im**2;
2. log-mel: ``log(max(power @ melmat, 1e-10))`` (ESPnet's ``LogMel``, natural log unless
   ``log_base``);
3. global MVN: ``(x - mean) / std`` with the training statistics;
4. to the AU rate (:mod:`espnet_cause.models.frame_rate`): ``avg`` pooling of ``ratio`` frames
   (frames ``r*k - r//2 .. r*k + r - r//2 - 1`` that exist) or linear ``interp``.

The window and the mel matrix are the torch modules' own buffers, exported with the model
(:mod:`espnet_cause.inference.onnx.export`), so nothing is recomputed from formulas. Works on blocks of
frames, so memory stays bounded on long audio.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.timegrid import num_frames_for_samples

#: ESPnet's LogMel floor before the log.
MEL_FLOOR = 1e-10
#: STFT frames computed at a time (bounds memory on long audio: ~8 MB of float64 per block).
FRAMES_PER_BLOCK = 2048
#: Version of the ``frontend.json`` layout.
FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class FrontendParams:
    """Everything the numpy (and JavaScript) frontend needs; stored as ``onnx/frontend.json``.

    Attributes:
        fs: Sample rate of the model.
        n_fft: FFT size.
        hop_length: Frame hop in samples.
        window: (n_fft,) float32 analysis window, already centred and zero-padded to ``n_fft``.
        melmat: (n_fft // 2 + 1, n_mels) float32 mel filterbank (``power @ melmat``).
        log_base: None for the natural log, else 2.0, 10.0 or another base.
        feats_mean: (n_mels,) float32 MVN mean, or None (no mean normalisation).
        feats_std: (n_mels,) float32 MVN std, or None (no variance normalisation).
        au_fps: AU frame rate of the output.
        feats_resample: ``avg`` or ``interp``.
        ratio: ``fs / hop_length / au_fps`` for ``avg`` (None for ``interp``).
        au_mean: (num_aus,) float32 AU mean (the model's outputs are z-scores), or None.
        au_std: (num_aus,) float32 AU std, or None.
        au_min: Lowest output value (the target's scale: AUs 0-5, blendshapes 0-1).
        au_max: Highest output value.
        causal: True when the encoder streams (the streaming graphs exist).
        target: The model's target space (:mod:`espnet_cause.targets`): ``au`` or ``arkit``.
        lookahead_frames: AU frames a causal encoder sees past its output frame (the offline
            graph includes it; a stream drops that many first outputs and ends with as many
            copies of its last frame, as the torch ``StreamingSpeech2AU``).
    """

    fs: int
    n_fft: int
    hop_length: int
    window: np.ndarray
    melmat: np.ndarray
    log_base: float | None
    feats_mean: np.ndarray | None
    feats_std: np.ndarray | None
    au_fps: float
    feats_resample: str
    ratio: int | None
    au_mean: np.ndarray | None
    au_std: np.ndarray | None
    au_min: float
    au_max: float
    causal: bool
    target: str
    lookahead_frames: int = 0

    @property
    def n_mels(self) -> int:
        return int(self.melmat.shape[1])

    @property
    def num_aus(self) -> int:
        return int(self.au_mean.shape[0]) if self.au_mean is not None else 0

    @property
    def feat_fps(self) -> float:
        return self.fs / self.hop_length

    def to_json(self) -> str:
        """The ``frontend.json`` text (float32 values written exactly)."""
        out: dict[str, Any] = {"format": FORMAT_VERSION}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value = {"shape": list(value.shape), "data": value.astype(np.float32).ravel()}
                value["data"] = [float(v) for v in value["data"]]
            out[field.name] = value
        return json.dumps(out, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes, name: str = "frontend.json") -> FrontendParams:
        """Parse ``frontend.json``.

        Raises:
            CauseError: naming ``name`` when the text is not a frontend description.
        """
        fix = "re-pack the model with python -m espnet_cause.bin.pack_model"
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise CauseError(f"not valid JSON: {e}", path=name, fix=fix) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise CauseError(
                f"unknown frontend format {data.get('format') if isinstance(data, dict) else None}"
                f" (expected {FORMAT_VERSION})",
                path=name,
                fix=fix,
            )
        kwargs = {}
        try:
            for field in dataclasses.fields(cls):
                if field.name not in data and field.default is not dataclasses.MISSING:
                    continue
                value = data[field.name]
                if isinstance(value, dict):
                    value = np.asarray(value["data"], dtype=np.float32).reshape(value["shape"])
                kwargs[field.name] = value
            params = cls(**kwargs)
        except (KeyError, TypeError, ValueError) as e:
            raise CauseError(f"incomplete frontend description ({e})", path=name, fix=fix) from None
        params.check(name)
        return params

    def check(self, name: str = "frontend.json") -> None:
        """Refuse inconsistent parameters (a damaged or hand-edited file)."""
        problems = []
        if self.window.shape != (self.n_fft,):
            problems.append(f"window has shape {self.window.shape}, expected ({self.n_fft},)")
        if self.melmat.ndim != 2 or self.melmat.shape[0] != self.n_fft // 2 + 1:
            problems.append(f"melmat has shape {self.melmat.shape}")
        for what in ("feats_mean", "feats_std"):
            v = getattr(self, what)
            if v is not None and v.shape != (self.n_mels,):
                problems.append(f"{what} has shape {v.shape}, expected ({self.n_mels},)")
        if self.feats_resample not in ("avg", "interp"):
            problems.append(f"feats_resample is {self.feats_resample!r}")
        if self.feats_resample == "avg" and not (isinstance(self.ratio, int) and self.ratio >= 1):
            problems.append(f"avg pooling needs an integer ratio, got {self.ratio!r}")
        if problems:
            raise CauseError(
                "bad frontend description: " + "; ".join(problems),
                path=name,
                fix="re-pack the model with python -m espnet_cause.bin.pack_model",
            )


def reflect_pad(samples: np.ndarray, pad: int) -> np.ndarray:
    """``pad`` reflected samples at both ends (as ``torch.stft(center=True)``)."""
    return np.pad(samples, (pad, pad), mode="reflect")


class LogMelFrontend:
    """Waveform -> normalised log-mel frames -> AU-rate features, and the AU scale back.

    Args:
        params: The exported frontend description.
    """

    def __init__(self, params: FrontendParams) -> None:
        self.params = params
        self._window = params.window.astype(np.float64)
        self._melmat = np.ascontiguousarray(params.melmat, dtype=np.float32)

    def frames(self, padded: np.ndarray) -> np.ndarray:
        """Normalised log-mel frames of an already padded stretch that starts at a frame.

        Args:
            padded: (N,) float32 samples (padded domain); frame j covers
                ``padded[j * hop : j * hop + n_fft]``.

        Returns:
            (max(0, (N - n_fft) // hop + 1), n_mels) float32.
        """
        p = self.params
        n = 0 if len(padded) < p.n_fft else (len(padded) - p.n_fft) // p.hop_length + 1
        out = np.empty((n, p.n_mels), dtype=np.float32)
        if n == 0:
            return out
        view = np.lib.stride_tricks.sliding_window_view(padded, p.n_fft)[:: p.hop_length]
        for lo in range(0, n, FRAMES_PER_BLOCK):
            block = view[lo : lo + FRAMES_PER_BLOCK]
            spec = np.fft.rfft(block * self._window, axis=1)
            power = (spec.real**2 + spec.imag**2).astype(np.float32)
            out[lo : lo + len(block)] = self._log_mel(power)
        return self._normalize(out)

    def _log_mel(self, power: np.ndarray) -> np.ndarray:
        mel = np.maximum(power @ self._melmat, np.float32(MEL_FLOOR))
        base = self.params.log_base
        if base is None:
            return np.log(mel)
        if base == 2.0:
            return np.log2(mel)
        if base == 10.0:
            return np.log10(mel)
        return np.log(mel) / np.float32(math.log(base))

    def _normalize(self, feats: np.ndarray) -> np.ndarray:
        p = self.params
        if p.feats_mean is not None:
            feats -= p.feats_mean
        if p.feats_std is not None:
            feats /= p.feats_std
        return feats

    def features(self, wav: np.ndarray) -> np.ndarray:
        """(N,) float32 waveform -> (1 + N // hop, n_mels) normalised log-mel frames."""
        pad = self.params.n_fft // 2
        if len(wav) <= pad:
            raise CauseError(
                f"audio of {len(wav)} samples is shorter than the STFT padding ({pad + 1} needed)"
            )
        return self.frames(reflect_pad(np.asarray(wav, dtype=np.float32), pad))

    def num_frames(self, num_samples: int) -> int:
        """AU frames of a signal: ``ceil(num_samples / fs * au_fps)``."""
        return num_frames_for_samples(num_samples, self.params.fs, self.params.au_fps)

    def to_au_rate(self, feats: np.ndarray, num_out: int) -> np.ndarray:
        """(F, D) features -> (num_out, D) at ``au_fps`` (see the module docstring)."""
        p = self.params
        if p.feats_resample == "avg":
            return avg_pool(feats, num_out, p.ratio)
        return interp(feats, num_out, p.feat_fps, p.au_fps)

    def denormalize(self, pred: np.ndarray) -> np.ndarray:
        """Normalised predictions (T, num_aus) -> the 0-5 scale, clipped, float32."""
        p = self.params
        out = np.array(pred, dtype=np.float32)
        if p.au_std is not None:
            out *= p.au_std
        if p.au_mean is not None:
            out += p.au_mean
        return np.clip(out, p.au_min, p.au_max)


def avg_pool(feats: np.ndarray, num_out: int, ratio: int) -> np.ndarray:
    """Mean of the ``ratio`` frames ``r*k - r//2 .. r*k + r - r//2 - 1`` that exist, per AU frame.

    AU frames past the last one with data repeat it (edge padding), as
    :func:`espnet_cause.models.frame_rate.avg_pool_frames`.

    Args:
        feats: (F, D) frames.
        num_out: AU frames wanted.
        ratio: Feature frames per AU frame.

    Returns:
        (num_out, D) float32.
    """
    num_feats, dim = feats.shape
    half = ratio // 2
    last_k = max((num_feats - 1 + half) // ratio, 0)
    k = np.minimum(np.arange(num_out), last_k)
    idx = k[:, None] * ratio - half + np.arange(ratio)[None, :]  # (T, r)
    valid = (idx >= 0) & (idx < num_feats)
    gathered = feats[np.clip(idx, 0, max(num_feats - 1, 0))]  # (T, r, D)
    w = valid[..., None].astype(np.float32)
    return ((gathered * w).sum(1) / np.maximum(w.sum(1), 1.0)).astype(np.float32)


def interp(feats: np.ndarray, num_out: int, feat_fps: float, au_fps: float) -> np.ndarray:
    """Features linearly interpolated at ``k / au_fps`` (edge padding past the end).

    Args:
        feats: (F, D) frames at ``feat_fps``.
        num_out: AU frames wanted.
        feat_fps: Feature frame rate.
        au_fps: AU frame rate.

    Returns:
        (num_out, D) float32.
    """
    last = max(len(feats) - 1, 0)
    pos = np.minimum(np.arange(num_out, dtype=np.float64) * (feat_fps / au_fps), last)
    left = np.floor(pos).astype(np.int64)
    right = np.minimum(left + 1, last)
    w = (pos - left).astype(np.float32)[:, None]
    return (feats[left] * (1 - w) + feats[right] * w).astype(np.float32)
