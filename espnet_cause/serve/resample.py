"""Resample a stream chunk by chunk: the same output as ``scipy.signal.resample_poly`` on the whole.

The WebSocket stream may arrive at any sample rate; the model wants its own. Resampling each chunk
on its own would click at every chunk edge, so :class:`StreamResampler` keeps the filter history
across chunks. It uses scipy's filter design for ``resample_poly`` (Kaiser-windowed sinc, half
length ``10 * max(up, down)``) and the same output alignment, so concatenating the outputs of
:meth:`~StreamResampler.accept` and :meth:`~StreamResampler.finish` equals ``resample_poly`` on
the whole signal (float rounding aside). The look-ahead it adds is the filter's half length,
``10 * max(up, down) / up`` input samples (0.6 ms from 48 kHz to 16 kHz).
"""

from __future__ import annotations

import math

import numpy as np


class StreamResampler:
    """Polyphase resampling of a 1-D float stream from ``src_sr`` to ``dst_sr``.

    Args:
        src_sr: Input sample rate (Hz).
        dst_sr: Output sample rate (Hz).

    Example:
        >>> rs = StreamResampler(48000, 16000)
        >>> out = np.concatenate([rs.accept(c) for c in chunks] + [rs.finish()])
    """

    def __init__(self, src_sr: int, dst_sr: int) -> None:
        from scipy.signal import firwin

        if src_sr <= 0 or dst_sr <= 0:
            raise ValueError(f"sample rates must be positive, got {src_sr} and {dst_sr}")
        g = math.gcd(int(src_sr), int(dst_sr))
        self.up, self.down = int(dst_sr) // g, int(src_sr) // g
        if self.up == self.down:  # nothing to do: accept() passes samples through
            self.reset()
            return
        half_len = 10 * max(self.up, self.down)
        h = firwin(2 * half_len + 1, 1.0 / max(self.up, self.down), window=("kaiser", 5.0))
        h = h * self.up
        pre_pad = self.down - half_len % self.down
        h = np.concatenate([np.zeros(pre_pad), h])
        #: Raw outputs dropped at the start so the output is centred, as resample_poly does.
        self.skip = (half_len + pre_pad) // self.down
        self.taps = -(-len(h) // self.up)  # input samples per output sample
        poly = np.zeros(self.up * self.taps)
        poly[: len(h)] = h
        self.poly = poly.reshape(self.taps, self.up).T.astype(np.float64)  # (up, taps)
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self.num_in = 0
        self._done = False
        if self.up == self.down:
            return
        self._buf = np.zeros(self.taps - 1)  # zeros before the first sample
        self._base = -(self.taps - 1)  # input index of _buf[0]
        self._next = 0  # next raw output index

    def _emit(self, last: int) -> np.ndarray:
        """Raw outputs ``_next .. last`` (all their inputs are in the buffer)."""
        if last < self._next:
            return np.zeros(0, np.float32)
        n = np.arange(self._next, last + 1)
        t = n * self.down
        k0 = t // self.up
        phase = t - k0 * self.up
        idx = (k0 - self._base)[:, None] - np.arange(self.taps)[None, :]
        raw = np.einsum("nj,nj->n", self.poly[phase], self._buf[idx])
        drop = max(0, self.skip - self._next)
        self._next = last + 1
        keep_from = (self._next * self.down) // self.up - (self.taps - 1)
        if keep_from > self._base:
            self._buf = self._buf[keep_from - self._base :]
            self._base = keep_from
        return raw[drop:].astype(np.float32)

    def accept(self, chunk: np.ndarray) -> np.ndarray:
        """Feed (N,) input samples; return the output samples that became computable."""
        if self.up == self.down:
            x = np.asarray(chunk, np.float32).reshape(-1)
            self.num_in += x.size
            return x
        x = np.asarray(chunk, np.float64).reshape(-1)
        self._buf = np.concatenate([self._buf, x])
        self.num_in += x.size
        if self.num_in == 0:
            return np.zeros(0, np.float32)
        return self._emit(((self.num_in - 1) * self.up) // self.down)

    def finish(self) -> np.ndarray:
        """End the stream: the remaining outputs, ``ceil(num_in * up / down)`` in total."""
        if self.up == self.down or self._done:
            return np.zeros(0, np.float32)
        self._done = True
        n_out = -(-self.num_in * self.up // self.down)
        last = self.skip + n_out - 1
        need = (last * self.down) // self.up + 1  # inputs up to index need-1 (zeros past the end)
        if need > self.num_in:
            self._buf = np.concatenate([self._buf, np.zeros(need - self.num_in)])
        return self._emit(last)
