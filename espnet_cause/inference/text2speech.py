"""Synthesis with an AU-conditioned TTS model: text plus an AU stream or a reference utterance.

Example:
    >>> from espnet_cause.inference.text2speech import AUText2Speech
    >>> tts = AUText2Speech("exp/tts_fs2_au/config.yaml", "exp/tts_fs2_au/valid.loss.ave.pth",
    ...                     cause_model="exp/cause_cnn/model.zip")
    >>> out = tts("hello world", reference_speech=samples, reference_fs=16000)  # like the reference
    >>> out = tts("hello world", au=np.full((1, 17), 0.5, np.float32))  # a constant expression
    >>> out = tts("h @ l 'oU", tokens=True)                             # the model's own tokens
    >>> out["feat_gen_denorm"], out["wav"]                              # (T_feats, n_mels), (N,)

Text (:meth:`AUText2Speech.model_text`, the one rule of the library and ``bin/au_tts_infer``):
for a model trained on eSpeak phoneme tokens (``token_type: word`` without ``g2p``: stage 8's
voices) plain text is phonemised with eSpeak NG (:mod:`espnet_cause.tts.phonemes`), as stage 8
does; ``tokens=True`` takes the text as the model's own space-separated tokens. A model that
tokenises text itself (another ``token_type``, or a ``g2p``) gets the text as it is. Tokens the
model does not know are refused, not mapped to ``<unk>``.

The AU stream may have any length: FastSpeech2AU stretches it over the predicted durations.
When the model also takes the 35-dim AU embedding as ``spembs`` (``spk_embed_dim: 35``), the
embedding of the same stream is passed unless ``spembs`` is given.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.tts.features import AU_EMBED_DIM, au_embed
from espnet_cause.tts.phonemes import DEFAULT_VOICE, check_tokens, espeak_tokens
from espnet_cause.tts.world_vocoder import WorldVocoder, frame_f0

logger = logging.getLogger(__name__)

#: Default of ``AUText2Speech(max_au_z=...)``: AU input clipped to mean +- 4 SD of the training's.
MAX_AU_Z = 4.0


class AUText2Speech:
    """A trained ``AUTTSTask`` model (or stock ESPnet TTS with AU spembs) ready for synthesis.

    Args:
        train_config: The TTS run's ``config.yaml``.
        model_file: Its weights ``.pth``.
        cause_model: CAUSE ``model.zip`` (or a :class:`~espnet_cause.inference.speech2au.Speech2AU`) to
            turn reference speech into AU; only needed for ``reference_speech``.
        vocoder_config: ESPnet vocoder config; without ``vocoder_file`` Griffin-Lim is used.
        vocoder_file: A ParallelWaveGAN ``.pkl`` vocoder, or None.
        vocoder: ``"griffin_lim"`` (or the ``vocoder_file``) or ``"world"``: WORLD with the mel
            spectrogram as envelope and the model's predicted pitch as source
            (:mod:`espnet_cause.tts.world_vocoder`; FastSpeech2-family models). ``"auto"``:
            WORLD for a model with a pitch predictor (stage 8's voices: their Griffin-Lim speech
            has no pitch Praat can find), Griffin-Lim otherwise.
        device: Torch device.
        max_au_z: An AU stream is clipped per AU to the TTS's training range, its AU statistics'
            mean +- this many standard deviations (the model's ``au_normalize``; None: not
            clipped). A stream from another CAUSE model or another kind of speech (e.g. the
            expressive model on real emotional voices, where AUs move that barely moved in the
            TTS corpus) would otherwise ask the voice to extrapolate tens of deviations away.
    """

    def __init__(
        self,
        train_config: str | os.PathLike,
        model_file: str | os.PathLike,
        cause_model=None,
        vocoder_config: str | os.PathLike | None = None,
        vocoder_file: str | os.PathLike | None = None,
        vocoder: str = "auto",
        device: str = "cpu",
        max_au_z: float | None = MAX_AU_Z,
    ) -> None:
        # torch + espnet2, loaded when TTS is used
        from espnet_cause.tasks.au_tts import AUTTSTask

        model, train_args = AUTTSTask.build_model_from_file(train_config, model_file, device)
        #: The training config, named in errors about the text.
        self.train_config = str(train_config)
        self.model = model.eval()
        self.device = device
        self.preprocess = AUTTSTask.build_preprocess_fn(train_args, False)
        self.vocoder = AUTTSTask.build_vocoder_from_file(
            vocoder_config, vocoder_file, model, device
        )
        self.token_list = list(train_args.token_list)
        #: Whether text is given as the model's space-separated tokens (``token_type: word``
        #: without g2p, as stage 8's eSpeak phoneme voices) rather than tokenised by ESPnet.
        self.word_tokens = (
            getattr(train_args, "token_type", None) == "word"
            and getattr(train_args, "g2p", None) is None
        )
        self.world = None
        if vocoder == "auto":
            vocoder = "world" if _has_pitch(model) else "griffin_lim"
        if vocoder == "world":
            self.world = _world_vocoder(model)
        elif vocoder != "griffin_lim":
            raise CauseError(f"unknown vocoder {vocoder!r}", fix="use auto, griffin_lim or world")
        #: The vocoder in use: ``world`` or ``griffin_lim``.
        self.vocoder_name = vocoder
        self.spk_embed_dim = getattr(self.model.tts, "spk_embed_dim", None)
        self.takes_au = hasattr(self.model.tts, "au_predictor")
        if cause_model is not None and isinstance(cause_model, str | os.PathLike):
            cause_model = Speech2AU(cause_model, device=device)
        self.speech2au = cause_model
        self.max_au_z = max_au_z

    def model_text(self, text: str, tokens: bool = False, voice: str = DEFAULT_VOICE) -> str:
        """The text as the model takes it (the module docstring's rule).

        Args:
            text: Plain text (``"hello world"``), or with ``tokens`` the model's own tokens.
            tokens: ``text`` is the model's space-separated tokens (a phoneme-token model).
            voice: eSpeak voice (language) that phonemises plain text.

        Returns:
            The space-separated tokens of a phoneme-token model, else ``text`` as it is.

        Raises:
            CauseError: for tokens the model does not know, naming them.
        """
        if not self.word_tokens:
            return text
        words = text.split() if tokens else espeak_tokens(text, voice)
        if not tokens:
            logger.info("phonemised %r with eSpeak (%s): %s", text, voice, " ".join(words))
        check_tokens(words, self.token_list, self.train_config)
        return " ".join(words)

    def token_ids(self, text: str) -> np.ndarray:
        """(T_text,) token ids of ``text`` tokenised as in training (unknown tokens: ``<unk>``,
        unchecked; :meth:`model_text` checks them)."""
        return self.preprocess("<utt>", {"text": text})["text"]

    def __call__(
        self,
        text: str | np.ndarray,
        au: np.ndarray | None = None,
        reference_speech: np.ndarray | None = None,
        reference_fs: int | None = None,
        spembs: np.ndarray | None = None,
        alpha: float = 1.0,
        tokens: bool = False,
        voice: str = DEFAULT_VOICE,
    ) -> dict[str, np.ndarray]:
        """Synthesise one utterance.

        Args:
            text: Plain text, the model's tokens (``tokens``; :meth:`model_text`) or (T_text,)
                token ids.
            au: (T_ref, 17) AU stream on the 0..5 scale, any length; a single row is a constant
                expression. None with no reference: the model's own AU prediction.
            reference_speech: (N,) speech whose CAUSE AU stream is used instead of ``au``.
            reference_fs: Its sample rate.
            spembs: Explicit ``spembs`` (otherwise the AU embedding of the stream when the model
                takes a 35-dim ``spembs``).
            alpha: Speed control (FastSpeech2 durations are multiplied by it).
            tokens: ``text`` is the model's space-separated tokens, not plain text.
            voice: eSpeak voice (language) that phonemises plain text.

        Returns:
            ``feat_gen`` and ``feat_gen_denorm`` (T_feats, odim), ``duration``, ``au`` (token AU
            used, model scale) when the model has it, and ``wav`` (N,) when a vocoder is available.
        """
        import torch

        if reference_speech is not None:
            if self.speech2au is None or reference_fs is None:
                raise CauseError(
                    "reference speech needs a CAUSE model and its sample rate",
                    fix="pass cause_model= (a model.zip) and reference_fs=",
                )
            au = self.speech2au(reference_speech, reference_fs, name="reference")
            au = self.speech2au.to_aus(au)  # an ARKit model's blendshapes as AUs
        if isinstance(text, str):
            ids = self.token_ids(self.model_text(text, tokens, voice))
        else:
            ids = np.asarray(text)
        kwargs: dict = {}
        if au is not None:
            au = np.asarray(au, dtype=np.float32)
            if au.ndim != 2 or au.shape[1] != 17 or len(au) == 0:
                raise CauseError(f"AU stream has shape {au.shape}, expected (T>0, 17)")
            bounds = _au_bounds(self.model, self.max_au_z)
            if bounds is not None:
                au = np.clip(au, *bounds).astype(np.float32)
            if self.takes_au:
                kwargs["au"] = torch.from_numpy(au).to(self.device)
        if spembs is None and au is not None and self.spk_embed_dim == AU_EMBED_DIM:
            spembs = au_embed(au)
        if spembs is not None:
            kwargs["spembs"] = torch.as_tensor(np.asarray(spembs, np.float32)).to(self.device)
        if au is not None and not self.takes_au and "spembs" not in kwargs:
            logger.warning("this model takes neither a frame-level AU stream nor AU spembs")
        decode = {"use_teacher_forcing": False}
        if alpha != 1.0:
            decode["alpha"] = alpha
        with torch.no_grad():
            out = self.model.inference(
                torch.as_tensor(ids, dtype=torch.long).to(self.device), **kwargs, **decode
            )
            if self.world is not None:
                out["wav"] = torch.from_numpy(self._world_wav(ids, out, alpha))
            elif self.vocoder is not None:
                feats = out.get("feat_gen_denorm", out["feat_gen"])
                out["wav"] = self.vocoder(feats)
        return {k: v.detach().cpu().numpy() for k, v in out.items() if isinstance(v, torch.Tensor)}

    def _world_wav(self, ids: np.ndarray, out: dict, alpha: float) -> np.ndarray:
        """WORLD speech from the model's mel frames, token pitch and durations."""

        feats = out.get("feat_gen_denorm", out["feat_gen"]).cpu().numpy()
        pitch = out["pitch"].reshape(1, -1, 1)
        if self.model.pitch_normalize is not None:
            pitch = self.model.pitch_normalize.inverse(pitch.clone())[0]
        log_f0 = pitch.reshape(-1).cpu().numpy()
        durations = np.round(out["duration"].cpu().numpy().astype(np.float64) * alpha)
        r = getattr(self.model.tts, "reduction_factor", 1)
        tokens = [self.token_list[int(i)] for i in np.asarray(ids)] + ["_"]  # + <sos/eos>
        voiced = self.world.voiced(tokens)
        f0 = frame_f0(log_f0, durations * r, voiced, len(feats))
        return self.world(feats, f0)


def _has_pitch(model) -> bool:
    """A FastSpeech2-family model with a feature extractor: WORLD can voice it."""
    return model.feats_extract is not None and hasattr(model.tts, "pitch_predictor")


def _world_vocoder(model):
    """The :class:`~espnet_cause.tts.world_vocoder.WorldVocoder` of a FastSpeech2-family model."""

    if not _has_pitch(model):
        raise CauseError(
            "the WORLD vocoder needs a model with a feature extractor and a pitch predictor",
            fix="use a FastSpeech2 or FastSpeech2AU model, or vocoder griffin_lim",
        )
    params = model.feats_extract.get_parameters()
    return WorldVocoder(
        fs=params["fs"],
        n_fft=params["n_fft"],
        n_shift=params["n_shift"],
        n_mels=params["n_mels"],
        fmin=params.get("fmin"),
        fmax=params.get("fmax"),
    )


def _au_bounds(model, max_au_z: float | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(low, high) (17,) of the AU values the TTS was trained on (mean +- max_au_z SD of its
    ``au_normalize`` global MVN), or None without such statistics or bound."""
    norm = getattr(model, "au_normalize", None)
    mean, std = getattr(norm, "mean", None), getattr(norm, "std", None)
    if max_au_z is None or mean is None or std is None:
        return None
    mean, std = mean.detach().cpu().numpy(), std.detach().cpu().numpy()
    return mean - max_au_z * std, mean + max_au_z * std
