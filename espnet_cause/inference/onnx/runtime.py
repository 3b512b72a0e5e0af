"""CAUSE inference with ONNX Runtime and the numpy frontend: no torch, no espnet2.

Example:
    >>> model = OnnxCAUSE.from_zip("model.zip")
    >>> aus = model(wav)                     # (T, 17) on the 0-5 scale, wav at model.fs
    >>> stream = model.streamer()            # causal models
    >>> frames = [stream.accept(c) for c in chunks] + [stream.finish()]

Normally used through :class:`espnet_cause.inference.speech2au.Speech2AU` (``backend="onnx"``), which
adds the checks of the input audio and resampling.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES, arkit_frames
from espnet_cause.errors import CauseError
from espnet_cause.inference.model_zip import open_zip, verify_members
from espnet_cause.inference.onnx.frontend import FrontendParams, LogMelFrontend, reflect_pad
from espnet_cause.io.timegrid import drop_pooled, pooled_rows

logger = logging.getLogger(__name__)

OFFLINE = "onnx/offline.onnx"
STREAM_FIRST = "onnx/stream_first.onnx"
STREAM = "onnx/stream.onnx"
FRONTEND = "onnx/frontend.json"
#: Key of the ONNX section in the zip's ``meta.yaml``.
META_KEY = "onnx"
REPACK = "re-pack the model with python -m espnet_cause.bin.pack_model (or use --backend torch)"


def has_graph(zip_path: str | os.PathLike) -> bool:
    """True when ``zip_path`` is a model zip with an ONNX graph (cheap: reads the directory)."""
    import zipfile

    try:
        with zipfile.ZipFile(zip_path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return OFFLINE in names and FRONTEND in names


def read_graphs(zip_path: str | os.PathLike) -> dict[str, bytes]:
    """The ``onnx/`` members of a ``model.zip``, checked against the sha256 in its ``meta.yaml``.

    Raises:
        CauseError: naming the zip (and member) when it is not a model zip, has no graph (with
            the reason ``pack_model`` recorded), or a member is damaged.
    """

    zip_path = Path(zip_path)
    with open_zip(zip_path) as zf:
        meta = verify_members(zf, zip_path)
        names = set(zf.namelist())
        graphs = {n: zf.read(n) for n in (OFFLINE, STREAM_FIRST, STREAM, FRONTEND) if n in names}
    section = meta.get(META_KEY)
    if not isinstance(section, dict) or OFFLINE not in graphs:
        reason = section.get("skipped") if isinstance(section, dict) else None
        why = f": {reason}" if reason else ""
        raise CauseError(f"model has no ONNX graph{why}", path=zip_path, fix=REPACK)
    return graphs


def _session(data: bytes, name: str, num_threads: int | None):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if num_threads:
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types (InvalidProtobuf, Fail)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CauseError(f"not a usable ONNX graph: {first}", path=name, fix=REPACK) from None


def _check_io(session, name: str, inputs: list[str], outputs: list[str], dims: dict) -> None:
    """Refuse a graph whose inputs/outputs are not the ones this runtime feeds and reads."""
    got_in = [i.name for i in session.get_inputs()]
    got_out = [o.name for o in session.get_outputs()]
    if got_in != inputs or got_out != outputs:
        raise CauseError(
            f"graph has inputs {got_in} and outputs {got_out}, expected {inputs} and {outputs}",
            path=name,
            fix=REPACK,
        )
    for arg in (*session.get_inputs(), *session.get_outputs()):
        if arg.name in dims:
            shape = arg.shape
            want = dims[arg.name]
            if len(shape) != 3 or (isinstance(shape[2], int) and shape[2] != want):
                raise CauseError(
                    f"graph {arg.name} has shape {shape}, expected (1, frames, {want})",
                    path=name,
                    fix=REPACK,
                )


class OnnxCAUSE:
    """A packed CAUSE model on ONNX Runtime.

    Args:
        graphs: Member name -> bytes of the ``onnx/`` members of a model zip.
        source: How to name the model in messages (the zip path).
        num_threads: ONNX Runtime intra-op threads (None: its default).
    """

    def __init__(
        self, graphs: dict[str, bytes], source: str = "model", num_threads: int | None = 1
    ) -> None:
        self.source = source
        self.num_threads = num_threads
        missing = [m for m in (OFFLINE, FRONTEND) if m not in graphs]
        if missing:
            raise CauseError(
                f"model has no ONNX graph (missing {', '.join(missing)})", path=source, fix=REPACK
            )
        self.params = FrontendParams.from_json(graphs[FRONTEND], name=f"{source}:{FRONTEND}")
        self.frontend = LogMelFrontend(self.params)
        self._graphs = graphs
        self._dims = {"feats": self.params.n_mels, "au": self.params.num_aus}
        self._offline = _session(graphs[OFFLINE], f"{source}:{OFFLINE}", num_threads)
        _check_io(self._offline, f"{source}:{OFFLINE}", ["feats"], ["au"], self._dims)
        self._stream_sessions = None

    @classmethod
    def from_zip(cls, zip_path: str | os.PathLike, num_threads: int | None = 1) -> OnnxCAUSE:
        """Load the graphs of a ``model.zip`` (see :func:`read_graphs`)."""
        return cls(read_graphs(zip_path), source=str(zip_path), num_threads=num_threads)

    @property
    def fs(self) -> int:
        return self.params.fs

    @property
    def au_fps(self) -> float:
        return self.params.au_fps

    @property
    def hop_length(self) -> int:
        return self.params.hop_length

    @property
    def algorithmic_latency(self) -> float:
        """Look-ahead of streaming in seconds, as
        :func:`espnet_cause.models.streaming.algorithmic_latency` (needs ``avg`` pooling)."""
        p = self.params
        r = p.ratio or 1
        return ((r - r // 2 - 1) * p.hop_length + p.n_fft // 2) / p.fs + (
            p.lookahead_frames / p.au_fps
        )

    @property
    def can_stream(self) -> bool:
        return self.params.causal and STREAM_FIRST in self._graphs and STREAM in self._graphs

    def __call__(self, wav: np.ndarray, num_frames: int | None = None) -> np.ndarray:
        """(N,) float32 at :attr:`fs` -> (T, num_aus) float32 on the 0-5 scale.

        ``T = ceil(N / fs * au_fps)`` unless ``num_frames`` is given.
        """
        fe = self.frontend
        feats = fe.features(wav)
        t = fe.num_frames(len(wav)) if num_frames is None else num_frames
        xs = fe.to_au_rate(feats, t)[None]
        (pred,) = self._offline.run(None, {"feats": xs})
        return fe.denormalize(pred[0])

    def stream_sessions(self):
        """The (first chunk, later chunks) sessions and the state's input names; loaded once."""
        if not self.can_stream:
            fix = "train with encoder_conf causal: true (cnn, dcnn, rnn) or the mlp encoder"
            if self.params.feats_resample != "avg":
                why, fix = "streaming needs feats_resample: avg", "retrain with avg"
            elif not self.params.causal:
                why = "the encoder of this model is not causal, it cannot stream"
            else:
                why, fix = "the model was packed without its streaming graphs", REPACK
            raise CauseError(why, path=self.source, fix=fix)
        if self._stream_sessions is None:
            first = _session(self._graphs[STREAM_FIRST], f"{self.source}:{STREAM_FIRST}",
                             self.num_threads)  # fmt: skip
            nxt = _session(self._graphs[STREAM], f"{self.source}:{STREAM}", self.num_threads)
            n = len(first.get_outputs()) - 1  # the first chunk's graph defines the state
            state_in = [f"state_in_{i}" for i in range(n)]
            state_out = [f"state_out_{i}" for i in range(n)]
            for sess, name, ins in (
                (first, STREAM_FIRST, ["feats"]),
                (nxt, STREAM, ["feats", *state_in]),
            ):
                _check_io(sess, f"{self.source}:{name}", ins, ["au", *state_out], self._dims)
            self._stream_sessions = (first, nxt, state_in)
        return self._stream_sessions

    def streamer(self) -> OnnxStreamingSpeech2AU:
        """A new stream (see :class:`OnnxStreamingSpeech2AU`)."""
        return OnnxStreamingSpeech2AU(self)


class OnnxStreamingSpeech2AU:
    """Chunk-wise inference, the numpy/ONNX twin of
    :class:`espnet_cause.models.streaming.StreamingSpeech2AU` (same buffering, padding, pooling
    and look-ahead; frames equal to offline inference within float rounding after
    :meth:`finish`). Returns numpy arrays.

    Args:
        model: A loaded model whose :attr:`~OnnxCAUSE.can_stream` is True.
    """

    arkit_names = ARKIT_NAMES

    def __init__(self, model: OnnxCAUSE) -> None:
        self._first, self._next, self._state_names = model.stream_sessions()
        self.model = model
        self.target = model.params.target
        p = model.params
        self.fe = model.frontend
        self.n_fft = p.n_fft
        self.hop = p.hop_length
        self.pad = p.n_fft // 2
        self.ratio = p.ratio
        self.num_aus = p.num_aus
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self.num_samples = 0
        self._head = np.zeros(0, np.float32)
        self._buf = np.zeros(0, np.float32)
        self._next_feat = 0
        self._feats = np.zeros((0, self.model.params.n_mels), np.float32)
        self._feat_base = 0
        self._next_out = 0
        self._state = None
        # encoder outputs still to drop: the first lookahead_frames positions precede frame 0
        self._skip = self.model.params.lookahead_frames
        self._last_row = None  # the last pooled feature row the encoder got
        self._finished = False

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.num_aus), np.float32)

    def _push_padded(self, samples: np.ndarray) -> None:
        self._buf = np.concatenate([self._buf, samples])
        if self._buf.size < self.n_fft:
            return
        n_new = (self._buf.size - self.n_fft) // self.hop + 1
        used = (n_new - 1) * self.hop + self.n_fft
        new = self.fe.frames(self._buf[:used])
        self._buf = self._buf[n_new * self.hop :]
        self._next_feat += n_new
        self._feats = np.concatenate([self._feats, new])

    def _encode(self, xs: np.ndarray) -> np.ndarray:
        feed = {"feats": xs[None]}
        if self._state is None:
            out = self._first.run(None, feed)
        else:
            feed.update(zip(self._state_names, self._state))
            out = self._next.run(None, feed)
        self._state = out[1:]
        return self.fe.denormalize(out[0][0])

    def _emit(self, last_k: int, num_feats: int | None) -> np.ndarray:
        ks = range(self._next_out, last_k + 1)
        rows = pooled_rows(self._feats, self._feat_base, ks, self.ratio, num_feats)
        if rows:
            self._last_row = rows[-1]
        if num_feats is not None and self._last_row is not None:
            # end of stream: the look-ahead frames repeat the last frame (as offline)
            rows += [self._last_row] * self.model.params.lookahead_frames
        if not rows:
            return self._empty()
        out = self._encode(np.stack(rows).astype(np.float32))
        skip = min(self._skip, len(out))
        out, self._skip = out[skip:], self._skip - skip
        self._next_out = last_k + 1
        if num_feats is None:
            self._feats, self._feat_base = drop_pooled(
                self._feats, self._feat_base, self._next_out, self.ratio
            )
        return out

    def accept(self, chunk: np.ndarray) -> np.ndarray:
        """Feed the next samples (1-D float32 at the model's ``fs``).

        Returns:
            (t, num_aus) float32: the AU frames that became computable (t may be 0).
        """
        if self._finished:
            raise CauseError("this stream is finished", fix="call reset() to start a new one")
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self.num_samples += x.size
        if self._next_feat == 0 and self._buf.size == 0:
            self._head = np.concatenate([self._head, x])
            if self._head.size <= self.pad:
                return self._empty()
            x = reflect_pad(self._head, self.pad)[: self.pad + self._head.size]
            self._head = np.zeros(0, np.float32)
        self._push_padded(x)
        r, half = self.ratio, self.ratio // 2
        last_k = (self._next_feat - 1 - (r - half - 1)) // r
        if last_k < self._next_out:
            return self._empty()
        return self._emit(last_k, None)

    def finish(self) -> np.ndarray:
        """End the stream: the remaining frames, ``ceil(duration * au_fps)`` in total.

        Raises:
            CauseError: when the stream is shorter than the STFT padding (n_fft / 2 + 1).
        """
        if self._finished:
            return self._empty()
        self._finished = True
        if self._head.size > 0 or self.num_samples <= self.pad:
            raise CauseError(
                f"audio of {self.num_samples} samples is too short to stream "
                f"(at least {self.pad + 1} needed)"
            )
        tail = self._buf[-(self.pad + 1) :]
        self._push_padded(tail[:-1][::-1][: self.pad])
        num_feats = self.num_samples // self.hop + 1
        total = self.fe.num_frames(self.num_samples)
        return self._emit(total - 1, num_feats)

    def accept_arkit(self, chunk: np.ndarray) -> np.ndarray:
        """:meth:`accept`, as (t, 52) float32 ARKit blendshapes in 0..1 (``arkit_names``)."""
        return arkit_frames(self.accept(chunk))

    def finish_arkit(self) -> np.ndarray:
        """:meth:`finish`, as (t, 52) float32 ARKit blendshapes in 0..1 (``arkit_names``)."""
        return arkit_frames(self.finish())
