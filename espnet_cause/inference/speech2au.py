"""Speech -> AU intensity sequence with a trained CAUSE model, from Python.

Example:
    >>> from espnet_cause import Speech2AU
    >>> s2au = Speech2AU("exp/cause_cnn/model.zip")   # or Speech2AU() for the built-in model
    >>> aus = s2au(samples, fs)            # (T, 17) float32 at s2au.au_fps, 0-5 scale
    >>> grid = s2au.to_grid(aus, len(samples), fs, output_fs=22050, output_hop_length=256)
    >>> shapes = s2au.arkit(aus)           # (T, 52) ARKit blendshapes in 0..1 (Apple order)

A ``target: arkit`` model returns (T, 51) MediaPipe blendshapes in 0..1 instead
(:attr:`Speech2AU.target`, :attr:`Speech2AU.names`); :meth:`Speech2AU.arkit` turns the output
of either kind into the 52 ARKit blendshapes (through the AU -> ARKit table for an AU model).

Backends: ``torch`` (the ESPnet model) or ``onnx`` (ONNX Runtime and a numpy frontend, for a
``model.zip`` packed with its ONNX graph: no torch or espnet2 is imported, outputs equal within
1e-4). ``auto`` (default) takes ``onnx`` when the zip has a graph and onnxruntime is installed.

The input may have any sample rate (it is resampled to the model's) and one or more channels
(mixed down); both are logged. Audio no model can use (empty, NaN/Inf samples, shorter than one
AU frame, digital silence) raises :class:`CauseError`.

A model is checked when it is loaded: a zip is recognised (or refused) from its directory and
``meta.yaml`` before torch is imported (:func:`espnet_cause.inference.model_zip.open_zip`), and the loaded
graphs are run once on :data:`PROBE_SECONDS` of a fixed signal: a model whose output does not have
one frame per ``1 / au_fps`` seconds of audio (within :data:`FRAME_TOLERANCE` frames), the width of
its target, or only finite values is refused (a tampered graph can pass the sha256 checks when its
sums were recomputed). Every later output is checked the same way.
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.arkit import arkit_frames, blendshapes_to_aus
from espnet_cause.assets import DEFAULT_MODEL, LIVE_MODEL, resolve_model
from espnet_cause.emotion import NUM_EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import (
    SpeakerStats,
    expression_track,
    speaker_functionals,
)
from espnet_cause.inference.expressive_zip import load_recogniser
from espnet_cause.inference.model_zip import open_zip, unpack_model
from espnet_cause.inference.onnx.runtime import OnnxCAUSE, has_graph
from espnet_cause.inference.voice_functionals import voice_functionals
from espnet_cause.inference.windows import needs_windows, windowed_inference
from espnet_cause.io import timegrid
from espnet_cause.io.audio import (
    check_sample_rate,
    check_speech,
    float_samples,
    mix_down,
    resample,
)
from espnet_cause.models.weights import load_state_dict, remove_weight_norm
from espnet_cause.targets import get_target

logger = logging.getLogger(__name__)

#: Threads for CPU inference by default: small convolutional models do not gain from more, and
#: the recipes run several workers side by side.
DEFAULT_NUM_THREADS = 1
#: ``backend`` values: ``auto`` picks ``onnx`` where it can, else ``torch``.
BACKENDS = ("auto", "onnx", "torch")
#: Length of the signal every loaded model is run on once (seconds).
PROBE_SECONDS = 1.0
#: Frames an output may differ from ``ceil(seconds * au_fps)``.
FRAME_TOLERANCE = 1


def probe_signal(fs: int, seconds: float = PROBE_SECONDS) -> np.ndarray:
    """A fixed speech-like test signal: a 150 Hz buzz under a 3 Hz envelope, plus weak noise.

    Returns:
        (round(seconds * fs),) float32.
    """
    t = np.arange(int(round(seconds * fs))) / fs
    noise = np.random.default_rng(0).standard_normal(t.size)
    wav = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) * 0.2 * np.sin(2 * np.pi * 150 * t)
    return (wav + 0.01 * noise).astype(np.float32)


def check_output(
    values, num_samples: int, fs: int, au_fps: float, width: int, source: str, what: str
):
    """Refuse model output that cannot be right for ``num_samples`` of audio.

    Args:
        values: The model's output.
        num_samples: Input length at ``fs``.
        fs: The model's sample rate.
        au_fps: The frame rate the model declares.
        width: Columns of its target (17 AUs, 51 blendshapes).
        source: The model, named in the message (the zip path).
        what: The input, named in the message.

    Returns:
        ``values`` as a (T, width) float32 array.

    Raises:
        CauseError: for another shape, a frame count off by more than :data:`FRAME_TOLERANCE`
            from ``ceil(num_samples / fs * au_fps)``, or NaN/inf values.
    """
    values = np.asarray(values, dtype=np.float32)
    expected = timegrid.num_frames_for_samples(num_samples, fs, au_fps)
    fix = "re-pack the model from its training run (python -m espnet_cause.bin.pack_model)"
    if values.ndim != 2 or values.shape[1] != width:
        raise CauseError(
            f"model output for {what} has shape {values.shape}, expected ({expected}, {width})",
            path=source,
            fix=fix,
        )
    if abs(len(values) - expected) > FRAME_TOLERANCE:
        raise CauseError(
            f"model output for {what} has {len(values)} frames for {num_samples / fs:g} s of "
            f"audio, expected {expected} at its {au_fps:g} frames per second",
            path=source,
            fix=fix,
        )
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise CauseError(
            f"model output for {what} has {bad} NaN or infinite values", path=source, fix=fix
        )
    return values


def _supports_fast_path(net) -> bool:
    """True for the stock pipeline: ESPnet's log-mel frontend without enhancement, MVN or none."""
    from espnet2.asr.frontend.default import DefaultFrontend
    from espnet2.layers.global_mvn import GlobalMVN

    frontend = getattr(net, "frontend", None)
    return (
        type(frontend) is DefaultFrontend
        and frontend.stft is not None
        and frontend.frontend is None
        and (net.normalize is None or type(net.normalize) is GlobalMVN)
        and all(hasattr(net, a) for a in ("to_au_rate", "run_encoder", "num_frames", "denormalize"))
    )


def _is_module(model) -> bool:
    """True for a model object (not None, a path or a built-in name)."""
    return model is not None and not isinstance(model, str | os.PathLike)


def choose_backend(backend: str, model=None, device: str = "cpu") -> str:
    """``onnx`` or ``torch`` for a model given as :class:`Speech2AU` takes it.

    ``auto``: ``onnx`` for a zip path with an ONNX graph on the CPU when onnxruntime is
    installed, else ``torch``.

    Raises:
        CauseError: for an unknown backend, or ``onnx`` for a model that cannot use it.
    """
    if backend not in BACKENDS:
        raise CauseError(f"unknown backend {backend!r}", fix=f"use one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return "torch"
    is_path = isinstance(model, str | os.PathLike)
    cpu = str(device).startswith("cpu")
    if backend == "onnx":
        if not is_path:
            raise CauseError(
                "--backend onnx needs a packed model.zip (with its ONNX graph)",
                fix="pass --model MODEL.zip, or use --backend torch",
            )
        if not cpu:
            raise CauseError(f"--backend onnx runs on the CPU, not {device}", fix="drop --device")
        return "onnx"
    import importlib.util

    if is_path and cpu and has_graph(model) and importlib.util.find_spec("onnxruntime"):
        return "onnx"
    return "torch"


class Speech2AU:
    """A trained CAUSE model ready for inference.

    Args:
        model: A packed ``model.zip`` path, a built-in model's name
            (:data:`espnet_cause.assets.BUILTIN_MODELS`: ``builtin``, ``builtin_live``), or an
            already built ``ESPnetCAUSEModel``; None to build from ``train_config`` and
            ``model_file``, or, without those either, to use the default built-in model.
        train_config: The run's ``config.yaml`` (with ``model_file``).
        model_file: The weights ``.pth``.
        device: Torch device, e.g. ``"cpu"`` or ``"cuda:0"``.
        num_threads: Torch intra-op threads on CPU (None: leave torch's setting).
        optimize: Fold weight normalisation into the weights (identical outputs, faster).
        cache_dir: Where zips are unpacked (default :func:`espnet_cause.inference.model_zip.default_cache_dir`).
        backend: ``torch``, ``onnx`` (a zip with an ONNX graph, CPU) or ``auto`` (``onnx`` when
            possible). See :func:`choose_backend`.
    """

    def __init__(
        self,
        model=None,
        train_config: str | os.PathLike | None = None,
        model_file: str | os.PathLike | None = None,
        device: str = "cpu",
        num_threads: int | None = DEFAULT_NUM_THREADS,
        optimize: bool = True,
        cache_dir: str | os.PathLike | None = None,
        backend: str = "auto",
    ) -> None:
        if train_config is None and model_file is None and not _is_module(model):
            model = resolve_model(model)  # None: the default built-in; a name: that built-in
        #: The emotion recogniser of an expressive zip (:mod:`espnet_cause.inference.expressive_zip`),
        #: else None.
        self.emotion = None
        if isinstance(model, str | os.PathLike):
            open_zip(Path(model)).close()  # recognised or refused before torch is imported
            self.emotion = load_recogniser(model)
        self.backend = choose_backend(backend, model, device)
        self._streams_checked = False
        if self.backend == "onnx":
            self.onnx = OnnxCAUSE.from_zip(model, num_threads=num_threads)
            self.model = None
            self.device = "cpu"
            self.source = str(model)
            self.fs = self.onnx.fs
            self.au_fps = float(self.onnx.au_fps)
            self.hop_length = self.onnx.hop_length
            self._set_target(self.onnx.params.target)
            self._probe()
            return
        import torch

        self.onnx = None
        if num_threads is not None and str(device).startswith("cpu"):
            torch.set_num_threads(num_threads)
        self.device = device
        self.source = "model object"
        if model is not None and not isinstance(model, str | os.PathLike):
            # a copy: folding weight norm and eval() must not change the caller's model
            net = copy.deepcopy(model) if optimize else model
        else:
            if model is not None:
                self.source = str(model)
                train_config, model_file = unpack_model(model, cache_dir=cache_dir)
            if train_config is None or model_file is None:
                raise CauseError(
                    "no model given",
                    fix="pass --model MODEL.zip or --train_config and --model_file",
                )
            self.source = self.source if model is not None else str(model_file)
            net = self._build(
                Path(train_config),
                Path(model_file),
                device,
                source=str(model) if model is not None else None,
            )
        net.to(device).eval()
        if optimize:
            folded = remove_weight_norm(net)
            logger.debug("folded weight norm of %d layers", folded)
        self.model = net
        self._fast = optimize and _supports_fast_path(net)
        self.fs = int(net.fs)
        self.au_fps = float(net.au_fps)
        self.hop_length = int(getattr(net, "hop_length", 0)) or None
        self._set_target(getattr(net, "target", "au"))
        self._probe()

    def _probe(self) -> None:
        """Run the loaded model once on :func:`probe_signal`; see the module docstring.

        Raises:
            CauseError: naming the model when its output is refused by :func:`check_output` or
                the model fails on the probe.
        """
        wav = probe_signal(self.fs)
        what = f"a {PROBE_SECONDS:g} s test signal"
        self._check(self._run_probe(self.infer_whole, wav, what), len(wav), what)

    def _probe_stream(self) -> None:
        """:meth:`_probe` for the streaming graphs: the test signal in 40 ms chunks."""
        wav = probe_signal(self.fs)
        what = f"a streamed {PROBE_SECONDS:g} s test signal"

        def stream_all(x: np.ndarray) -> np.ndarray:
            stream = self._new_streamer()
            step = max(1, int(round(self.fs / self.au_fps)))
            rows = [stream.accept(x[i : i + step]) for i in range(0, len(x), step)]
            rows.append(stream.finish())
            rows = [r.detach().cpu().numpy() if hasattr(r, "detach") else r for r in rows]
            return np.concatenate(rows)

        self._check(self._run_probe(stream_all, wav, what), len(wav), what)

    def _run_probe(self, fn, wav: np.ndarray, what: str) -> np.ndarray:
        try:
            return fn(wav)
        except CauseError:
            raise
        except Exception as e:  # a foreign graph fails in the runtime's own exception types
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CauseError(
                f"model fails on {what}: {first}",
                path=self.source,
                fix="re-pack the model from its training run (python -m espnet_cause.bin."
                "pack_model)",
            ) from None

    def _check(self, values, num_samples: int, what: str) -> np.ndarray:
        return check_output(
            values, num_samples, self.fs, self.au_fps, len(self.names), self.source, what
        )

    def _set_target(self, name: str) -> None:

        #: The model's target space (:mod:`espnet_cause.targets`): ``au`` or ``arkit``.
        self.target = get_target(name).name
        #: Column names of the output (17 AUs or 51 blendshapes).
        self.names = get_target(self.target).names

    @classmethod
    def builtin(cls, streaming: bool = False, **kwargs) -> Speech2AU:
        """A built-in model: the offline one (same as ``Speech2AU()``), or with ``streaming`` the
        live one (causal, small look-ahead); ``kwargs`` as the constructor's."""
        return cls(LIVE_MODEL if streaming else DEFAULT_MODEL, **kwargs)

    @staticmethod
    def _build(train_config: Path, model_file: Path, device: str, source: str | None = None):
        """Build the network from its config and load the weights (tensors only, never code).

        Args:
            train_config: The run's ``config.yaml``.
            model_file: The weights ``.pth`` (a state dict).
            device: Torch device.
            source: What errors name (the packed zip the files came from); default the files.
        """
        # torch + espnet2: only the torch backend and training load them
        from espnet_cause.tasks.cause import CAUSETask

        for path, what in ((train_config, "training config"), (model_file, "model file")):
            if not path.is_file():
                raise CauseError(f"{what} not found", path=source or path, fix="check the path")
        where = source or str(model_file)
        member = f"{model_file.name} in the zip: " if source else ""
        state = load_state_dict(model_file, where=where, member=member)
        net, _ = CAUSETask.build_model_from_file(train_config, None, device)
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as e:
            first = str(e).strip().splitlines()
            detail = " ".join(line.strip() for line in first[:2])
            raise CauseError(
                f"{member}the weights do not fit the config: {detail}",
                path=where,
                fix="pass the .pth the training wrote for this config (or a packed model.zip)",
            ) from None
        return net

    @property
    def min_samples(self) -> int:
        """Shortest input (samples at the model's rate): one AU frame period."""
        return int(np.ceil(self.fs / self.au_fps))

    def prepare(self, speech: np.ndarray, fs: int, name: str = "input") -> np.ndarray:
        """Mono float32 at the model's rate, checked; see the module docstring.

        Raises:
            CauseError: naming ``name`` for unusable audio.
        """
        speech = mix_down(float_samples(speech, name), name)
        fs = check_sample_rate(fs, name)
        # check before resampling: NaNs and emptiness are easier to report on the original
        check_speech(speech, fs, 1.0 / self.au_fps, path=name)
        if fs != self.fs:
            logger.info("%s: resampling %d Hz -> %d Hz", name, fs, self.fs)
            speech = resample(speech, fs, self.fs)
        return speech.astype(np.float32, copy=False)

    def __call__(
        self,
        speech: np.ndarray,
        fs: int,
        name: str = "input",
        speaker: SpeakerStats | None = None,
        functionals: np.ndarray | None = None,
        emotion: np.ndarray | None = None,
    ) -> np.ndarray:
        """Estimate AUs.

        Args:
            speech: (N,) or (N, C) samples (float in [-1, 1] or integer PCM).
            fs: Their sample rate.
            name: How to call the input in messages (a file name or utterance id).
            speaker: For a model with an emotion recogniser (``expressive``): the speaker's
                statistics from several of their utterances (:meth:`speaker_stats`); None hears
                the utterance alone (a weaker fallback, see
                :mod:`espnet_cause.inference.emotion_recogniser`). Other models ignore it.
            functionals: The utterance's voice functionals when the caller has them already
                (:func:`~espnet_cause.inference.emotion_recogniser.speaker_functionals`), else
                computed here.
            emotion: For a model with an emotion recogniser: (8,) emotion probabilities
                (:data:`espnet_cause.emotion.EMOTIONS` order) known from elsewhere, shown
                instead of the heard ones (e.g. a labelled corpus's label, one-hot:
                :func:`espnet_cause.emotion.one_hot`); ``speaker`` is then unused. Other
                models ignore it.

        Returns:
            (ceil(N / fs * au_fps), 17) float32 on the 0-5 scale, frame k at k / au_fps
            ((..., 51) blendshapes in 0..1 for a ``target: arkit`` model). Audio longer than
            :data:`espnet_cause.inference.windows.WINDOW_SECONDS` (plus context) is inferred in
            overlapping windows, in bounded memory (see :mod:`espnet_cause.inference.windows`).
        """

        wav = self.prepare(speech, fs, name)
        if not needs_windows(len(wav), self.fs):
            out = self._check(self.infer_whole(wav), len(wav), name)
        else:
            logger.info("%s: %.0f s of audio, inferred in windows", name, len(wav) / self.fs)
            out = windowed_inference(
                self.infer_whole, wav, fs=self.fs, au_fps=self.au_fps, hop_length=self.hop_length
            )
            out = self._check(out, len(wav), name)
        if self.emotion is None or self.target != "au":
            return out
        if emotion is None:
            if functionals is None:
                functionals = voice_functionals(wav, self.fs)
            posteriors = self.emotion.posteriors(functionals, speaker)
        else:
            posteriors = np.asarray(emotion, dtype=np.float32)
            if posteriors.shape != (NUM_EMOTIONS,):
                raise CauseError(
                    f"{name}: emotion has shape {posteriors.shape}, expected ({NUM_EMOTIONS},)",
                    fix="give one probability per class of espnet_cause.emotion.EMOTIONS",
                )
        face = expression_track(posteriors, wav, self.fs, self.au_fps, len(out))
        return np.clip(out + face, 0.0, 5.0).astype(np.float32)

    def emotion_posteriors(
        self, speech: np.ndarray, fs: int, speaker: SpeakerStats | None = None, name: str = "input"
    ) -> np.ndarray:
        """(8,) the emotion heard in one utterance (:data:`espnet_cause.emotion.EMOTIONS`
        order), for a model with an emotion recogniser; ``speaker`` as :meth:`__call__`'s.

        Raises:
            CauseError: for a model without a recogniser.
        """
        if self.emotion is None:
            raise CauseError(
                f"{self.source} has no emotion recogniser", fix="use --model expressive"
            )
        wav = self.prepare(speech, fs, name)
        return self.emotion.posteriors(voice_functionals(wav, self.fs), speaker)

    def speaker_stats(self, utterances) -> SpeakerStats | None:
        """One speaker's statistics for the emotion recogniser (per-speaker CMVN of the voice
        functionals), from an iterable of ``(samples, fs)`` of their utterances, or
        ``(samples, fs, name)``. None for a model without a recogniser. The more utterances
        (and the more of the speaker's moods) the better; fewer than
        :data:`espnet_cause.inference.emotion_recogniser.MIN_SPEAKER_UTTERANCES` fall back to
        hearing each utterance alone. Unusable audio (silence, too short) is left out with a
        warning.

        Raises:
            CauseError: when no utterance is usable.
        """
        if self.emotion is None:
            return None

        def named(utt):
            samples, rate, *rest = utt
            name = rest[0] if rest else "input"
            return name, lambda: (self.prepare(samples, rate, name), self.fs)

        _, running = speaker_functionals(named(utt) for utt in utterances)
        return running.stats()

    def infer_whole(self, wav: np.ndarray) -> np.ndarray:
        """One model call on a whole (prepared) utterance, whatever its length.

        Args:
            wav: (N,) float32 at :attr:`fs` (see :meth:`prepare`).

        Returns:
            (ceil(N / fs * au_fps), D) float32. :meth:`__call__` uses this on windows of long
            audio (:mod:`espnet_cause.inference.windows`).
        """
        if self.onnx is not None:
            return self.onnx(wav)
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(wav)).to(self.device)
            out = self._fast_inference(x) if self._fast else self.model.inference(x)
        aus = out.detach().cpu().numpy().astype(np.float32)
        if aus.ndim != 2 or aus.shape[1] != len(self.names):
            raise RuntimeError(f"model returned shape {aus.shape}, expected (T, {len(self.names)})")
        return aus

    def to_aus(self, values: np.ndarray) -> np.ndarray:
        """The model's output as (T, 17) AUs on 0-5: a ``target: arkit`` model's blendshapes go
        through the blendshape -> AU table (:func:`espnet_cause.arkit.blendshapes_to_aus`), an AU
        model's output is returned as it is. For consumers of AUs (rendering, TTS features)."""
        if self.target == "au":
            return values

        return blendshapes_to_aus(values, self.names)

    def arkit(self, values: np.ndarray) -> np.ndarray:
        """The model's output (or any (T, 17) / (T, 51) stream) as (T, 52) ARKit blendshapes.

        AU streams go through the AU -> ARKit table (:func:`espnet_cause.arkit.aus_to_blendshapes`);
        blendshape streams are reordered to :data:`espnet_cause.arkit.ARKIT_NAMES` (``tongueOut``
        0).
        """

        return arkit_frames(values)

    def _fast_inference(self, speech):
        """``model.inference`` for one utterance without the padding masks of a batch.

        ESPnet's STFT, log-mel and global MVN build and apply a padding mask on every call
        (a third of the CPU time of the cnn model); with one unpadded utterance there is nothing
        to mask. Same modules and weights, same result up to float rounding (tested).
        """
        import torch

        net = self.model
        lengths = torch.tensor([speech.size(0)], device=speech.device)
        num_frames = net.num_frames(lengths)
        spec, _ = net.frontend.stft(speech[None], None)  # (1, F, bins, 2)
        power = spec[..., 0] ** 2 + spec[..., 1] ** 2
        feats, _ = net.frontend.logmel(power, None)  # (1, F, D)
        mvn = net.normalize
        if mvn is not None:
            if mvn.norm_means:
                feats = feats - mvn.mean.to(feats.dtype)
            if mvn.norm_vars:
                feats = feats / mvn.std.to(feats.dtype)
        feats_lengths = torch.tensor([feats.size(1)], device=speech.device)
        xs = net.to_au_rate(feats, feats_lengths, num_frames)
        hs = net.run_encoder(xs, num_frames)
        pred = net.output_layer(hs)
        return net.denormalize(pred, num_frames)[0]

    @property
    def algorithmic_latency(self) -> float:
        """Look-ahead of :meth:`streamer` in seconds (either backend)."""
        if self.onnx is not None:
            return self.onnx.algorithmic_latency
        # torch + espnet2: the ONNX backend returned above
        from espnet_cause.models.streaming import algorithmic_latency

        return algorithmic_latency(self.model)

    def streamer(self):
        """A stream on this model: :class:`~espnet_cause.models.streaming.StreamingSpeech2AU`
        (torch; returns tensors) or :class:`~espnet_cause.inference.onnx.runtime.OnnxStreamingSpeech2AU`
        (onnx; returns arrays), with the same ``accept(chunk)``/``finish()``/``reset()``.

        Feed it chunks at :attr:`fs` (mono float32); needs a causal encoder. The first call
        runs a stream on :func:`probe_signal` and checks it as :meth:`_probe` checks the offline
        graph.
        """
        if not self._streams_checked:
            self._probe_stream()
            self._streams_checked = True
        return self._new_streamer()

    def _new_streamer(self):
        if self.onnx is not None:
            return self.onnx.streamer()
        # torch + espnet2: the ONNX backend returned above
        from espnet_cause.models.streaming import StreamingSpeech2AU

        return StreamingSpeech2AU(self.model)

    def to_grid(
        self,
        aus: np.ndarray,
        num_samples: int,
        fs: int,
        *,
        output_fps: float | None = None,
        output_fs: int | None = None,
        output_hop_length: int | None = None,
    ) -> tuple[np.ndarray, float]:
        """Resample the model's output to another frame grid.

        Args:
            aus: (T, 17) output of :meth:`__call__`.
            num_samples: Length of the input audio in samples at ``fs``.
            fs: Sample rate of the input audio.
            output_fps: Frame rate wanted (frame k at k / output_fps; ceil(duration * fps)
                frames).
            output_fs: With ``output_hop_length``: the grid of a centred STFT feature extractor
                at this rate, ``1 + n // hop`` frames for the audio's ``n`` samples at
                ``output_fs``.
            output_hop_length: Hop of that extractor in samples.

        Returns:
            The resampled (T', 17) array and its frame rate. Without options: ``aus`` unchanged.
        """
        duration = num_samples / fs
        if output_fs is not None or output_hop_length is not None:
            if output_fs is None or output_hop_length is None:
                raise CauseError("--output_fs and --output_hop_length go together", fix="give both")
            if output_fps is not None:
                raise CauseError("give either --output_fps or --output_fs/--output_hop_length")
            n_out = int(round(num_samples * output_fs / fs))
            grid = timegrid.to_hop_grid(aus, self.au_fps, n_out, output_fs, output_hop_length)
            return grid, output_fs / output_hop_length
        if output_fps is not None and output_fps != self.au_fps:
            return timegrid.to_fps(aus, self.au_fps, output_fps, duration), float(output_fps)
        return aus, self.au_fps
