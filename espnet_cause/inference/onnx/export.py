"""A trained CAUSE model -> ONNX graphs of its encoder + output layer, and its frontend numbers.

Written by ``pack_model`` into ``model.zip`` (:data:`MEMBERS`):

``onnx/offline.onnx``
    ``feats`` (1, T, D) normalised features at the AU rate -> ``au`` (1, T, 17) normalised AUs:
    the model's own ``encoder.forward`` and ``output_layer``, traced (opset :data:`OPSET`).
``onnx/stream_first.onnx``, ``onnx/stream.onnx`` (causal encoders only)
    the encoder's ``forward_chunk``: the first chunk of a stream from the encoder's
    ``init_state``, then ``feats`` + ``state_in_<i>`` -> ``au`` + ``state_out_<i>`` (the state
    flattened into its tensors: conv histories, LSTM h and c). Whatever ``init_state`` and
    ``forward_chunk`` do (zeros, replicated first frames) is what the graphs do.
``onnx/frontend.json``
    :class:`~espnet_cause.inference.onnx.frontend.FrontendParams`: STFT window, mel matrix, MVN and AU
    statistics as the torch modules hold them.

Only models with ESPnet's ``default`` log-mel frontend (no enhancement front-end) and global
(or no) MVN export; the Praat prosody frontend does not (pitch tracking is not ported): such
models raise :class:`NotExportable` and keep the torch backend. Every graph is checked against
the torch module on random input of several lengths before it is accepted.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

import numpy as np
import torch
from torch import nn
from torch.utils import _pytree as pytree

from espnet_cause.errors import CauseError
from espnet_cause.inference.onnx.frontend import FrontendParams

logger = logging.getLogger(__name__)

OPSET = 17
OFFLINE = "onnx/offline.onnx"
STREAM_FIRST = "onnx/stream_first.onnx"
STREAM = "onnx/stream.onnx"
FRONTEND = "onnx/frontend.json"
MEMBERS = (OFFLINE, STREAM_FIRST, STREAM, FRONTEND)
#: Largest difference to torch accepted when checking an exported graph.
CHECK_ATOL = 1e-4
#: Lengths (AU frames) of the random inputs the graphs are checked on.
CHECK_LENGTHS = (1, 7, 60)


class NotExportable(CauseError):
    """The model has parts that the ONNX backend does not cover."""


def frontend_params(net) -> FrontendParams:
    """The numbers of ``net``'s frontend, MVN and AU statistics.

    Raises:
        NotExportable: for frontends or normalisations other than ESPnet's ``default`` log-mel
            (without enhancement) and ``global_mvn``.
    """
    from espnet2.asr.frontend.default import DefaultFrontend
    from espnet2.layers.global_mvn import GlobalMVN

    fix = "keep --backend torch for this model (or train it with frontend: default)"
    frontend = net.frontend
    if type(frontend) is not DefaultFrontend:
        why = "the Praat prosody features are not ported to numpy/ONNX"
        if type(frontend).__name__ != "ProsodyFrontend":
            why = "only ESPnet's default log-mel frontend is"
        raise NotExportable(f"cannot export the {type(frontend).__name__} to ONNX: {why}", fix=fix)
    stft = frontend.stft
    if stft is None or frontend.frontend is not None:
        raise NotExportable("cannot export a frontend without STFT or with enhancement", fix=fix)
    if not stft.center or stft.normalized or not stft.onesided:
        raise NotExportable(
            "cannot export an STFT that is not centred, one-sided and unnormalised", fix=fix
        )
    win_length = stft.win_length or stft.n_fft
    window = torch.zeros(stft.n_fft)
    left = (stft.n_fft - win_length) // 2
    if stft.window is None:
        window[left : left + win_length] = 1.0
    else:
        window[left : left + win_length] = getattr(torch, f"{stft.window}_window")(win_length)

    def mvn(module, what: str):
        if module is None:
            return None, None
        if type(module) is not GlobalMVN:
            raise NotExportable(
                f"cannot export {what} {type(module).__name__} (global_mvn only)", fix=fix
            )
        mean = module.mean.float().numpy() if module.norm_means else None
        std = module.std.float().numpy() if module.norm_vars else None
        return mean, std

    feats_mean, feats_std = mvn(net.normalize, "normalize")
    au_mean, au_std = mvn(net.au_normalize, "au_normalize")
    num_aus = int(net.num_aus)
    low, high = getattr(net, "output_range", (0.0, 5.0))
    return FrontendParams(
        fs=int(net.fs),
        n_fft=int(stft.n_fft),
        hop_length=int(stft.hop_length),
        window=window.numpy().astype(np.float32),
        melmat=np.ascontiguousarray(frontend.logmel.melmat.float().numpy()),
        log_base=frontend.logmel.log_base,
        feats_mean=feats_mean,
        feats_std=feats_std,
        au_fps=float(net.au_fps),
        feats_resample=str(net.feats_resample),
        ratio=None if net.ratio is None else int(net.ratio),
        au_mean=au_mean if au_mean is not None else np.zeros(num_aus, np.float32),
        au_std=au_std if au_std is not None else np.ones(num_aus, np.float32),
        au_min=float(low),
        au_max=float(high),
        causal=bool(net.encoder.is_causal and net.ratio is not None),
        target=str(getattr(net, "target", "au")),
        lookahead_frames=int(getattr(net, "lookahead_frames", 0)),
    )


def _flatten(state) -> tuple[list[torch.Tensor], object]:
    """The tensors of an encoder state (list, tuple, nested; None: stateless) and its structure."""
    if state is None:
        return [], None
    return pytree.tree_flatten(state)


def _unflatten(leaves, spec):
    return None if spec is None else pytree.tree_unflatten(list(leaves), spec)


class _Offline(nn.Module):
    """(1, T, D) features -> (1, T, A) normalised AUs: the model's encoder step (its
    ``run_encoder`` with the look-ahead where it has one) + output_layer."""

    def __init__(self, net) -> None:
        super().__init__()
        self.net = net

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        ilens = torch.ones(feats.size(0), dtype=torch.long) * feats.size(1)
        run_encoder = getattr(self.net, "run_encoder", None)
        if run_encoder is not None:
            hs = run_encoder(feats, ilens)
        else:
            hs, _ = self.net.encoder(feats, ilens)
        return self.net.output_layer(hs)


class _StreamFirst(nn.Module):
    """The first chunk of a stream: ``forward_chunk`` from ``init_state(1)``."""

    def __init__(self, net) -> None:
        super().__init__()
        self.encoder = net.encoder
        self.output_layer = net.output_layer

    def forward(self, feats: torch.Tensor):
        hs, state = self.encoder.forward_chunk(feats, self.encoder.init_state(1))
        return (self.output_layer(hs), *_flatten(state)[0])


class _Stream(nn.Module):
    """A later chunk: ``forward_chunk`` with the state given as flat tensors."""

    def __init__(self, net, spec) -> None:
        super().__init__()
        self.encoder = net.encoder
        self.output_layer = net.output_layer
        self.spec = spec

    def forward(self, feats: torch.Tensor, *leaves: torch.Tensor):
        state = _unflatten(leaves, self.spec)
        hs, new_state = self.encoder.forward_chunk(feats, state)
        return (self.output_layer(hs), *_flatten(new_state)[0])


@contextlib.contextmanager
def _export_errors(what: str, fix: str):
    """The tracer's and exporter's own errors (many types) as :class:`NotExportable`."""
    try:
        yield
    except Exception as e:
        raise NotExportable(f"torch.onnx.export failed for {what}: {e}", fix=fix) from None


def _to_onnx(module: nn.Module, args: tuple, input_names, output_names, dynamic) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter
        torch.onnx.export(
            module,
            args,
            buf,
            dynamo=False,
            opset_version=OPSET,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic,
        )
    return buf.getvalue()


def _check(graph: bytes, name: str, torch_fn, inputs: list[dict[str, np.ndarray]]) -> None:
    """Run the graph and the torch function on the same inputs; refuse any difference.

    NaN equals NaN: a state may hold "no frame yet" rows (the causal mean norm's history).
    """
    import onnxruntime as ort

    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    for feed in inputs:
        got = session.run(None, feed)
        with torch.no_grad():
            want = torch_fn(*[torch.from_numpy(v) for v in feed.values()])
        want = [w.numpy() for w in (want if isinstance(want, tuple) else (want,))]
        for g, w in zip(got, want, strict=True):
            if g.shape != w.shape or not np.allclose(g, w, atol=CHECK_ATOL, rtol=0, equal_nan=True):
                diff = float(np.abs(g - w).max()) if g.shape == w.shape else None
                raise NotExportable(
                    f"the exported {name} differs from the torch model "
                    f"(shape {g.shape} vs {w.shape}, max diff {diff})",
                    fix="keep --backend torch for this model and report the encoder type",
                )


def export_graphs(net) -> dict[str, bytes]:
    """The ``onnx/`` members of ``model.zip`` for a model in eval mode, weight norm folded.

    Args:
        net: An ``ESPnetCAUSEModel`` (e.g. ``Speech2AU(...).model``).

    Returns:
        Member name -> bytes: :data:`FRONTEND`, :data:`OFFLINE` and, for causal encoders with
        ``avg`` pooling, :data:`STREAM_FIRST` and :data:`STREAM`.

    Raises:
        NotExportable: when the frontend is not covered or a graph does not reproduce torch.
    """
    net = net.eval()
    params = frontend_params(net)
    dim = params.n_mels
    rng = np.random.default_rng(0)
    samples = [rng.normal(size=(1, t, dim)).astype(np.float32) for t in CHECK_LENGTHS]
    members = {FRONTEND: params.to_json().encode()}
    offline = _Offline(net).eval()
    with _export_errors(f"the {type(net.encoder).__name__}", "keep --backend torch for this model"):
        graph = _to_onnx(
            offline,
            (torch.from_numpy(samples[1]),),
            ["feats"],
            ["au"],
            {"feats": {1: "frames"}, "au": {1: "frames"}},
        )
    _check(graph, OFFLINE, offline, [{"feats": s} for s in samples])
    members[OFFLINE] = graph
    if params.causal:
        members.update(_export_stream(net, samples))
    return members


def _export_stream(net, samples: list[np.ndarray]) -> dict[str, bytes]:
    first = _StreamFirst(net).eval()
    with torch.no_grad():
        _, state = net.encoder.forward_chunk(
            torch.from_numpy(samples[1]), net.encoder.init_state(1)
        )
    leaves_t, spec = _flatten(state)
    leaves = [v.numpy() for v in leaves_t]
    n = len(leaves)
    ins = [f"state_in_{i}" for i in range(n)]
    outs_names = ["au"] + [f"state_out_{i}" for i in range(n)]
    dyn = {"feats": {1: "frames"}, "au": {1: "frames"}}
    what = f"the streaming {type(net.encoder).__name__}"
    with _export_errors(what, "keep --backend torch for streaming with this model"):
        g_first = _to_onnx(first, (torch.from_numpy(samples[1]),), ["feats"], outs_names, dyn)
        nxt = _Stream(net, spec).eval()
        args = (torch.from_numpy(samples[0]), *[torch.from_numpy(v) for v in leaves])
        g_next = _to_onnx(nxt, args, ["feats", *ins], outs_names, dyn)
    _check(g_first, STREAM_FIRST, first, [{"feats": s} for s in samples])
    feeds = [{"feats": s, **dict(zip(ins, leaves))} for s in samples]
    _check(g_next, STREAM, nxt, feeds)
    return {STREAM_FIRST: g_first, STREAM: g_next}
