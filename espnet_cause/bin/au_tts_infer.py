#!/usr/bin/env python3
"""Synthesise speech from text with an AU-conditioned TTS model and write a wav.

The expression comes from an AU file, from the CAUSE AUs of a reference utterance, or (given
neither) from the model's own AU prediction.

Text: plain text is phonemised with eSpeak NG into the tokens stage 8's voices are trained on
(:meth:`espnet_cause.inference.text2speech.AUText2Speech.model_text`, the library's rule;
``--voice`` picks eSpeak's language); ``--tokens`` takes ``--text`` as the model's own
space-separated tokens. A model that tokenises text itself (ESPnet's ``token_type`` other than
``word``, or a ``g2p``) gets the text as it is. Tokens the model does not know are refused, not
mapped to ``<unk>``.

Vocoder: ``auto`` (default) is WORLD for FastSpeech2-family models (the mel spectrogram as
envelope, the predicted pitch as source: voiced speech from the recipe's voices, whose
Griffin-Lim output has no pitch Praat finds) and Griffin-Lim otherwise. Griffin-Lim starts from
random phases (librosa), so its samples differ slightly from run to run.

Examples:
    python -m espnet_cause.bin.au_tts_infer --train_config exp/tts/config.yaml \\
        --model_file exp/tts/valid.loss.ave.pth --text "hello world" --au smile.csv \\
        --output smile.wav
    python -m espnet_cause.bin.au_tts_infer --train_config exp/tts/config.yaml \\
        --model_file exp/tts/valid.loss.ave.pth --text "hello world" \\
        --reference_wav ref.wav --model exp/cause/model.zip --output like_ref.wav \\
        --feats_output like_ref_feats.npy
"""

from __future__ import annotations

import argparse
import logging
import math
import pickle
import zipfile
from pathlib import Path

import numpy as np

from espnet_cause.cli import (
    MODEL_HELP,
    add_renamed_argument,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.errors import CauseError
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.inference.text2speech import AUText2Speech
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.au_files import read_au_frames
from espnet_cause.io.audio import load_audio, write_wav
from espnet_cause.tts.features import AU_EMBED_DIM
from espnet_cause.tts.phonemes import DEFAULT_VOICE

logger = logging.getLogger(__name__)

#: Warn when more than this fraction of the synthesised samples is clipped to [-1, 1].
CLIP_WARN_FRACTION = 0.01


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Text (+ AU file or reference speech) -> speech with an AU-conditioned TTS."
    )
    parser.add_argument("--train_config", required=True, help="The TTS run's config.yaml.")
    parser.add_argument("--model_file", required=True, help="Its weights (.pth).")
    parser.add_argument(
        "--text", required=True, help="Plain text (phonemised with eSpeak), or tokens (--tokens)."
    )
    parser.add_argument(
        "--tokens",
        action="store_true",
        help="--text is the model's own tokens separated by spaces (as in its training text).",
    )
    parser.add_argument(
        "--voice", default=DEFAULT_VOICE, help="eSpeak voice (language) that phonemises --text."
    )
    parser.add_argument(
        "--au", default=None, help="AU stream (.csv OpenFace style or .npy), any length."
    )
    parser.add_argument(
        "--reference_wav", default=None, help="Speech whose CAUSE AUs set the expression."
    )
    add_renamed_argument(
        parser,
        "--model",
        "--cause_model",
        default=None,
        help="CAUSE model for --reference_wav: " + MODEL_HELP,
    )
    parser.add_argument("--alpha", type=float, default=1.0, help="Duration scale (>1 slower).")
    parser.add_argument(
        "--vocoder",
        choices=("auto", "griffin_lim", "world"),
        default="auto",
        help="world: WORLD from the mel envelope and the model's predicted pitch (FastSpeech2); "
        "auto: world when the model predicts pitch, else griffin_lim",
    )
    parser.add_argument("--output", required=True, help="Output .wav (16-bit PCM).")
    parser.add_argument(
        "--feats_output", default=None, help="Also save the (T_feats, n_mels) features (.npy)."
    )
    parser.add_argument("--device", default="cpu", help="Torch device.")
    return parser


def load_tts(
    train_config: str,
    model_file: str,
    cause_model: str | None,
    device: str,
    vocoder: str = "auto",
):
    """The :class:`AUText2Speech` of a config and weights, or a CauseError saying what is wrong."""

    for path, what in (
        (train_config, "training config"),
        (model_file, "model file"),
        (cause_model, "CAUSE model"),
    ):
        if path is not None and not Path(path).is_file():
            raise CauseError(f"{what} not found", path=path, fix="check the path")
    try:
        tts = AUText2Speech(train_config, model_file, vocoder=vocoder, device=device)
    except (RuntimeError, KeyError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
        # a state dict that does not fit the config, or a truncated/foreign file
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        detail = " ".join(lines[:2]) if lines else type(e).__name__  # e.g. the first mismatch
        raise CauseError(
            f"cannot load the TTS model: {detail}",
            path=model_file,
            fix="pass the .pth that the training with this --train_config wrote",
        ) from None
    if tts.vocoder is None and tts.world is None:
        raise CauseError(
            "the model has no feature extractor settings for Griffin-Lim",
            path=train_config,
            fix="use a config with feats_extract (fs, n_fft, hop_length)",
        )
    if cause_model is not None:
        tts.speech2au = Speech2AU(cause_model, device=device)
    return tts


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if args.au is not None and args.reference_wav is not None:
        raise CauseError("give --au or --reference_wav (with --model), not both")
    if (args.reference_wav is None) != (args.model is None):
        raise CauseError("--reference_wav and --model go together: give both or neither")
    if not args.text.strip():
        raise CauseError("--text is empty", fix="give the sentence to speak")
    if not (args.alpha > 0 and math.isfinite(args.alpha)):
        raise CauseError(f"--alpha must be positive, got {args.alpha}")

    au = read_au_frames(args.au) if args.au is not None else None  # bad file: fail before loading
    speech, sample_rate = None, None
    if args.reference_wav is not None:
        speech, sample_rate = load_audio(args.reference_wav)

    tts = load_tts(args.train_config, args.model_file, args.model, args.device, args.vocoder)
    if args.tokens and not tts.word_tokens:
        logger.info("this model tokenises text itself; --tokens is not needed")
    text = tts.model_text(args.text, args.tokens, args.voice)  # unknown tokens: before synthesis

    if au is not None or speech is not None:
        if not tts.takes_au and tts.spk_embed_dim != AU_EMBED_DIM:
            raise CauseError(
                "this TTS model takes no AU input (neither a frame-level stream nor AU spembs)",
                path=args.train_config,
                fix="drop --au/--reference_wav, or use a FastSpeech2AU or AU-spembs model",
            )
    out = tts(
        text,
        tokens=True,
        au=au,
        reference_speech=speech,
        reference_fs=sample_rate,
        alpha=args.alpha,
    )
    wav = out["wav"]
    fs = int(tts.world.fs if tts.world is not None else tts.vocoder.fs)
    clipped = float(np.mean(np.abs(wav) > 1.0)) if len(wav) else 0.0
    if clipped > CLIP_WARN_FRACTION:
        logger.warning("%.1f%% of the samples exceed [-1, 1] and are clipped", 100 * clipped)

    write_wav(args.output, wav, fs)
    if args.feats_output is not None:
        feats = out.get("feat_gen_denorm", out["feat_gen"])
        with atomic_write(args.feats_output) as tmp:
            np.save(tmp, feats.astype(np.float32))
    source = args.au or args.reference_wav or "the model's own AU prediction"
    logger.info("%.2f s of speech (AUs from %s, %s vocoder) -> %s", len(wav) / fs, source,
                tts.vocoder_name, args.output)  # fmt: skip
    print(Path(args.output).resolve())


if __name__ == "__main__":
    main()
