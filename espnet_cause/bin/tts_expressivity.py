"""Do the AUs steer the voice? Happy, sad and own-AU syntheses of fixed sentences, measured.

Every sentence of ``--sentences`` is synthesised by each model given (``--tts_dir``,
``--spembs_tts_dir``, ``--control_tts_dir``) with the AU stream of a happy and of a sad reference
utterance (and, with ``--model``, with their speech through CAUSE), measured, and compared with
the corpus's own happy and sad utterances: ``<model>/<condition>/<i>.wav``, ``prosody.tsv``,
``table.md`` and ``summary.json`` in ``--output_dir``. The job and its details:
:func:`espnet_cause.evaluation.tts_expressivity.measure_expressivity`.

Example (what stage 8 runs)::

    python -m espnet_cause.bin.tts_expressivity --tts_dir exp/tts_fs2au \\
        --control_tts_dir exp/tts_fs2 --au_scp dump/tts_feats/test/au.scp \\
        --wav_scp dump/test/wav.scp --utt2mood exp/tts_data/utt2mood \\
        --corpus_wav_scp dump/train/wav.scp --corpus_ctm data/train/phones.ctm \\
        --model exp/cause_ci/model.zip --output_dir exp/tts_fs2au/synth

With real emotional speech as the references (stage 8 with ``--tts_reference_dir``)::

    python -m espnet_cause.bin.tts_expressivity --tts_dir exp/tts_fs2au \
        --au_scp dump/tts_feats/reference/au.scp --wav_scp data/ravdess/valid/wav.scp \
        --reference_emotion data/ravdess/valid/emotion --num_syntheses 16 \
        --utt2mood exp/tts_data/utt2mood --corpus_wav_scp dump/train/wav.scp \
        --corpus_ctm data/train/phones.ctm --model expressive --output_dir exp/tts_fs2au/synth_ref
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import (
    MODEL_HELP,
    add_renamed_argument,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.evaluation.tts_expressivity import measure_expressivity


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = make_parser("Happy/sad/own-AU syntheses of fixed sentences and their prosody")
    add_renamed_argument(
        parser, "--tts_dir", "--au_model", required=True, help="FastSpeech2AU exp dir"
    )
    add_renamed_argument(
        parser,
        "--control_tts_dir",
        "--control_model",
        default=None,
        help="exp dir of a no-AU model",
    )
    add_renamed_argument(
        parser, "--spembs_tts_dir", "--spembs_model", default=None,
        help="exp dir of an AU-spembs model",
    )  # fmt: skip
    parser.add_argument("--model_file", default="valid.loss.best.pth", help="in each exp dir")
    parser.add_argument("--au_scp", required=True, help="AU streams of the reference utts")
    parser.add_argument("--wav_scp", default=None, help="their speech (for --model)")
    add_renamed_argument(
        parser,
        "--model",
        "--cause_model",
        default=None,
        help="CAUSE model for the ref_* conditions: " + MODEL_HELP,
    )
    parser.add_argument("--utt2mood", required=True, help="'<utt> <mood>' (-1 sad .. 1 happy)")
    parser.add_argument("--mood_threshold", type=float, default=0.6)
    parser.add_argument(
        "--reference_emotion",
        default=None,
        help="'<utt> <emotion>' of the --au_scp utterances (a data dir's emotion file, e.g. "
        "RAVDESS's): its happy and sad are the references; --utt2mood then serves the corpus only",
    )
    parser.add_argument(
        "--num_syntheses",
        type=int,
        default=None,
        help="syntheses per condition, sentences and references cycling (default: one per "
        "sentence); as many as references uses each of them",
    )
    parser.add_argument("--corpus_wav_scp", required=True, help="the corpus's own speech")
    parser.add_argument("--corpus_ctm", required=True, help="its phonemes (for the rate)")
    parser.add_argument("--sentences", default=None, help="one sentence a line")
    parser.add_argument("--voice", default="en", help="eSpeak voice that phonemises them")
    parser.add_argument("--vocoder", choices=("world", "griffin_lim"), default="world")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--device", default="cpu")
    return parser


@reports_errors
def main(cmd=None) -> None:
    """Run it; see the module docstring."""
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    _, table = measure_expressivity(
        tts_dir=args.tts_dir,
        au_scp=args.au_scp,
        utt2mood=args.utt2mood,
        corpus_wav_scp=args.corpus_wav_scp,
        corpus_ctm=args.corpus_ctm,
        output_dir=args.output_dir,
        control_tts_dir=args.control_tts_dir,
        spembs_tts_dir=args.spembs_tts_dir,
        model_file=args.model_file,
        wav_scp=args.wav_scp,
        model=args.model,
        mood_threshold=args.mood_threshold,
        reference_emotion=args.reference_emotion,
        num_syntheses=args.num_syntheses,
        sentences_file=args.sentences,
        voice=args.voice,
        vocoder=args.vocoder,
        device=args.device,
    )
    print(table)


if __name__ == "__main__":
    main()
