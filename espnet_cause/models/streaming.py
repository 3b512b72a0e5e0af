"""Chunk-wise (streaming) CAUSE inference with the causal encoders.

:class:`StreamingSpeech2AU` takes audio in chunks of any size (e.g. 40 ms) and returns the AU
frames that became computable, on the 0-5 scale. After :meth:`~StreamingSpeech2AU.finish`, the
concatenated output equals ``model.inference`` on the whole signal (same causal model) up to
float rounding: the STFT keeps its look-ahead context buffer and reproduces the reflect padding
of ``torch.stft(center=True)`` at both ends, the global MVN is frame-wise, the ``avg`` frame-rate
conversion waits for its window, and the encoder carries its state (conv history or LSTM state).

ARKit frames for avatars: :meth:`StreamingSpeech2AU.accept_arkit` and
:meth:`~StreamingSpeech2AU.finish_arkit` return the same frames as (t, 52) numpy arrays of ARKit
blendshapes in 0..1, in :data:`~espnet_cause.arkit.ARKIT_NAMES` order (also
:attr:`StreamingSpeech2AU.arkit_names`), for AU models through the AU -> ARKit table and for
``target: arkit`` models directly.

Algorithmic latency (time between an AU frame's time ``k / au_fps`` and the moment the samples
it needs have arrived), for hop ``h``, ``n_fft`` ``N``, sample rate ``fs`` and rate ratio
``r = fs / h / au_fps``::

    latency = ((r - r // 2 - 1) * h + N // 2) / fs + lookahead_frames / au_fps

16 kHz, hop 160, n_fft 512, 25 fps (r = 4), no look-ahead: (1 * 160 + 256) / 16000 = 26 ms;
with the model's ``lookahead_frames`` 4 (the built-in model): 186 ms. A chunk of ``c`` ms adds
up to ``c`` ms of buffering.
"""

from __future__ import annotations

import numpy as np
import torch
from espnet2.asr.frontend.default import DefaultFrontend

from espnet_cause.arkit import ARKIT_NAMES, arkit_frames
from espnet_cause.errors import CauseError
from espnet_cause.io.audio import float_samples
from espnet_cause.io.timegrid import drop_pooled, num_frames_for_samples, pooled_rows
from espnet_cause.models.espnet_model import ESPnetCAUSEModel


def algorithmic_latency(model: ESPnetCAUSEModel) -> float:
    """Look-ahead of the streaming pipeline in seconds (see the module docstring)."""
    ratio = model.ratio
    n_fft = model.frontend.stft.n_fft
    lookahead = getattr(model, "lookahead_frames", 0) / model.au_fps
    return ((ratio - ratio // 2 - 1) * model.hop_length + n_fft // 2) / model.fs + lookahead


class StreamingSpeech2AU:
    """Stream audio through a causal CAUSE model.

    Args:
        model: A trained model with a causal encoder, the ``default`` (log-mel) frontend and
            ``feats_resample: avg``. Put in eval mode here.

    Raises:
        CauseError: when the model cannot stream.

    Attributes:
        target: The model's target space, ``au`` ((t, 17) frames on 0-5) or ``arkit`` ((t, 51)
            MediaPipe blendshapes on 0-1).
        arkit_names: The 52 ARKit names of the columns of :meth:`accept_arkit` frames.

    Example:
        >>> stream = StreamingSpeech2AU(model)
        >>> frames = [stream.accept(chunk) for chunk in chunks] + [stream.finish()]
        >>> aus = torch.cat(frames)  # (T, 17), T = ceil(duration * au_fps)

        For an avatar (a live service sends these to the browser, one row per frame at
        ``model.au_fps``):

        >>> stream.reset()
        >>> rows = [stream.accept_arkit(chunk) for chunk in chunks] + [stream.finish_arkit()]
        >>> shapes = np.concatenate(rows)  # (T, 52) ARKit weights, columns stream.arkit_names
    """

    arkit_names = ARKIT_NAMES

    def __init__(self, model: ESPnetCAUSEModel) -> None:
        if not model.encoder.is_causal:
            raise CauseError(
                f"the {type(model.encoder).__name__} of this model is not causal, it cannot stream",
                fix="train with encoder_conf causal: true (cnn, dcnn, rnn) or the mlp encoder",
            )
        if model.ratio is None:
            raise CauseError("streaming needs feats_resample: avg", fix="retrain with avg")
        frontend = model.frontend
        if not isinstance(frontend, DefaultFrontend) or frontend.stft is None:
            raise CauseError(
                f"streaming needs the default log-mel frontend, not {type(frontend).__name__}",
                fix="train with frontend: default",
            )
        stft = frontend.stft
        if not stft.center:
            raise CauseError("streaming expects a centred STFT (center: true)")
        self.model = model.eval()
        self.n_fft = stft.n_fft
        self.hop = stft.hop_length
        self.win_length = stft.win_length or stft.n_fft
        self.window_name = stft.window
        self.normalized = stft.normalized
        self.onesided = stft.onesided
        self.pad = self.n_fft // 2
        self.ratio = model.ratio
        self.target = getattr(model, "target", "au")
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self.num_samples = 0
        self._head = torch.zeros(0)  # first samples, until the left reflect pad can be made
        self._buf = torch.zeros(0)  # padded signal from frame _next_feat's first sample on
        self._next_feat = 0
        self._feats = torch.zeros(0, 0)  # normalised frames from _feat_base on
        self._feat_base = 0
        self._next_out = 0
        self._enc_state = self.model.encoder.init_state(1)
        # encoder outputs still to drop: the first lookahead_frames positions precede frame 0
        self._skip = getattr(self.model, "lookahead_frames", 0)
        self._last_row = None  # the last pooled feature row the encoder got
        self._finished = False

    # ------------------------------------------------------------------ features
    def _window(self) -> torch.Tensor | None:
        if self.window_name is None:
            return None
        return getattr(torch, f"{self.window_name}_window")(self.win_length)

    def _frames(self, padded: torch.Tensor) -> torch.Tensor:
        """Log-mel frames of a padded stretch that starts at a frame boundary -> (n, D)."""
        if padded.numel() < self.n_fft:
            return torch.zeros(0, self.model.frontend.output_size())
        spec = torch.stft(
            padded,
            n_fft=self.n_fft,
            hop_length=self.hop,
            win_length=self.win_length,
            window=self._window(),
            center=False,
            normalized=self.normalized,
            onesided=self.onesided,
            return_complex=True,
        ).transpose(0, 1)  # (n, F)
        power = spec.real**2 + spec.imag**2
        feats, _ = self.model.frontend.logmel(power[None])
        feats = feats[0]
        if self.model.normalize is not None:
            feats, _ = self.model.normalize(feats[None], None)
            feats = feats[0]
        return feats

    def _push_padded(self, samples: torch.Tensor) -> None:
        """Append padded-domain samples and turn every complete window into a feature frame."""
        self._buf = torch.cat([self._buf, samples])
        n_new = (
            0
            if self._buf.numel() < self.n_fft
            else (self._buf.numel() - self.n_fft) // self.hop + 1
        )
        if n_new == 0:
            return
        used = (n_new - 1) * self.hop + self.n_fft
        new = self._frames(self._buf[:used])
        self._buf = self._buf[n_new * self.hop :]
        self._next_feat += n_new
        if self._feats.numel() == 0:
            self._feats = new
        else:
            self._feats = torch.cat([self._feats, new])

    # ------------------------------------------------------------------ AU frames
    def _emit(self, last_k: int, num_feats: int | None) -> torch.Tensor:
        """Pool, encode and output AU frames ``_next_out .. last_k``.

        Args:
            last_k: Last AU frame to output.
            num_feats: Total feature frames of the finished stream (None while streaming).
        """
        ks = range(self._next_out, last_k + 1)
        rows = pooled_rows(self._feats, self._feat_base, ks, self.ratio, num_feats)
        if rows:
            self._last_row = rows[-1]
        if num_feats is not None and self._last_row is not None:
            # end of stream: the look-ahead frames repeat the last frame (as offline)
            rows += [self._last_row] * getattr(self.model, "lookahead_frames", 0)
        if not rows:
            return torch.zeros(0, self.model.num_aus)
        xs = torch.stack(rows)[None]  # (1, t, D)
        hs, self._enc_state = self.model.encoder.forward_chunk(xs, self._enc_state)
        skip = min(self._skip, hs.size(1))
        hs, self._skip = hs[:, skip:], self._skip - skip
        pred = self.model.output_layer(hs)
        lengths = torch.tensor([pred.size(1)])
        out = self.model.denormalize(pred, lengths)[0]
        self._next_out = last_k + 1
        if num_feats is None:
            self._feats, self._feat_base = drop_pooled(
                self._feats, self._feat_base, self._next_out, self.ratio
            )
        return out

    @torch.no_grad()
    def accept(self, chunk: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Feed the next samples (1-D, at the model's ``fs``).

        Samples follow the rule of offline inference
        (:func:`espnet_cause.io.audio.float_samples`): integer PCM is scaled (int16 by 1/32768),
        floats are taken as they are, NaN or infinite samples raise CauseError (the stream is
        left as it was).

        Returns:
            (t, 17) the AU frames that became computable (t may be 0).
        """
        if self._finished:
            raise CauseError("this stream is finished", fix="call reset() to start a new one")
        if isinstance(chunk, torch.Tensor):
            chunk = chunk.detach().cpu().numpy()
        x = torch.as_tensor(float_samples(chunk, "stream chunk")).reshape(-1)
        self.num_samples += x.numel()
        if self._next_feat == 0 and self._buf.numel() == 0:
            self._head = torch.cat([self._head, x])
            if self._head.numel() <= self.pad:
                return torch.zeros(0, self.model.num_aus)
            # reflect padding as torch.stft(center=True): x[pad], ..., x[1], then the signal
            left = self._head[1 : self.pad + 1].flip(0)
            x = torch.cat([left, self._head])
            self._head = torch.zeros(0)
        self._push_padded(x)
        r, half = self.ratio, self.ratio // 2
        # AU frame k needs feature frames up to k*r + r - half - 1
        last_k = (self._next_feat - 1 - (r - half - 1)) // r
        if last_k < self._next_out:
            return torch.zeros(0, self.model.num_aus)
        return self._emit(last_k, None)

    @torch.no_grad()
    def finish(self) -> torch.Tensor:
        """End the stream: the remaining AU frames, ``ceil(duration * au_fps)`` in total.

        Raises:
            CauseError: when the stream is shorter than the STFT's padding (n_fft / 2 + 1).
        """
        if self._finished:
            return torch.zeros(0, self.model.num_aus)
        self._finished = True
        if self._head.numel() > 0 or self.num_samples <= self.pad:
            raise CauseError(
                f"audio of {self.num_samples} samples is too short to stream "
                f"(at least {self.pad + 1} needed)"
            )
        # the stream's last pad samples before the end, reflected (as torch.stft center=True)
        tail_len = self.pad + 1
        signal_tail = self._signal_tail(tail_len)
        self._push_padded(signal_tail[:-1].flip(0)[: self.pad])
        num_feats = self.num_samples // self.hop + 1
        total = num_frames_for_samples(self.num_samples, self.model.fs, self.model.au_fps)
        return self._emit(total - 1, num_feats)

    def accept_arkit(self, chunk: np.ndarray | torch.Tensor) -> np.ndarray:
        """:meth:`accept`, as (t, 52) float32 ARKit blendshapes in 0..1 (``arkit_names``)."""
        return arkit_frames(self.accept(chunk).cpu().numpy())

    def finish_arkit(self) -> np.ndarray:
        """:meth:`finish`, as (t, 52) float32 ARKit blendshapes in 0..1 (``arkit_names``)."""
        return arkit_frames(self.finish().cpu().numpy())

    def _signal_tail(self, n: int) -> torch.Tensor:
        """The last ``n`` signal samples (they are still in the padded buffer)."""
        if self._buf.numel() < n:
            raise CauseError("internal: stream buffer shorter than the STFT padding")
        return self._buf[-n:]
