"""Export CAUSE AU streams as conditioning features for ESPnet TTS/VC training.

For every utterance of a ``wav.scp`` (optionally with ``segments``) this runs the CAUSE model and
writes, into ``--output_dir``:

- ``au.scp``/``au.ark``: frame-level AU, (T_feats, 17) with exactly the frame count of ESPnet's
  ``LogMelFbank`` (``center=True``) for ``--fs``/``--hop_length`` (``1 + n_samples // hop``);
  use it as ``<dir>/au.scp,au,kaldi_ark`` with ``espnet_cause.bin.au_tts_train``;
- ``au_embed.scp``/``au_embed.ark``: a 35-dim utterance vector for ESPnet's ``spembs`` input
  that keeps overall intensity through ESPnet's L2 normalisation (see
  :mod:`espnet_cause.tts.features`); use it as ``<dir>/au_embed.scp,spembs,kaldi_ark`` with stock
  ``espnet2.bin.tts_train`` and ``tts_conf.spk_embed_dim: 35``;
- ``grid.yaml`` (fs, hop, AU embedding layout) and ``export_report.tsv`` (per utterance: frames,
  or why it was skipped). Resuming follows the batch runner's rule (:mod:`espnet_cause.jobs.batch`):
  a re-run skips what is done; another model or grid starts over.

The audio must already be at ``--fs`` (as in ESPnet's ``dump/raw``), because the frame count is
taken from its samples; items at another rate are skipped with that reason. For VC, run it on the
source speech with the VC feature extractor's ``fs``/``hop_length``: ``au.scp`` then lines up with
the source feature frames.

The job is :func:`espnet_cause.inference.tts_features.export_tts_features`.

Example::

    python -m espnet_cause.bin.export_tts_features --model exp/cause_cnn/model.zip \\
        --wav_scp dump/raw/tr_no_dev/wav.scp --output_dir dump/au_tts/tr_no_dev \\
        --fs 22050 --hop_length 256
"""

from __future__ import annotations

import argparse

from espnet_cause.assets import resolve_model
from espnet_cause.cli import (
    MODEL_HELP,
    add_feature_grid_args,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.inference.tts_features import export_tts_features
from espnet_cause.jobs.parallel import load_parallel_config


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = make_parser(
        "CAUSE AU streams as TTS/VC features: frame-level au.scp on the feature grid "
        "and utterance-level au_embed.scp for spembs",
        parallel=True,
    )
    parser.add_argument("--model", default=None, help=MODEL_HELP)
    parser.add_argument("--wav_scp", required=True, help="Kaldi wav.scp of the TTS/VC corpus")
    parser.add_argument("--segments", default=None, help="Kaldi segments file, if any")
    parser.add_argument("--output_dir", required=True, help="where au.scp, au_embed.scp go")
    parser.add_argument(
        "--emotion_labels",
        default=None,
        help="Kaldi '<utt> <emotion>' of every utterance (a data dir's emotion file): a model "
        "with an emotion recogniser (expressive) shows each labelled emotion's prototype instead "
        "of the heard one (train a voice on a corpus whose moods are known). Without it such a "
        "model hears each utterance, normalised per speaker by a utt2spk beside --wav_scp",
    )
    add_feature_grid_args(parser)
    parser.add_argument(
        "--resample",
        action="store_true",
        help="resample audio at another rate to --fs (polyphase) instead of skipping it; the "
        "frame count is then that of the resampled signal, which equals ESPnet's only if its dump "
        "has the same length (exact when the corpus is already at --fs)",
    )
    parser.add_argument(
        "--retry_errors", action="store_true", help="re-run items that failed in an earlier run"
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx: ONNX Runtime on the zip's graph (no torch); auto: onnx when the zip has one",
    )
    parser.add_argument("--device", default="cpu")
    return parser


@reports_errors
def main(cmd=None) -> None:
    """Run the export; see the module docstring."""
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    export_tts_features(
        args.wav_scp,
        args.output_dir,
        model=resolve_model(args.model),
        fs=args.fs,
        hop_length=args.hop_length,
        n_fft=args.n_fft,
        segments=args.segments,
        emotion_labels=args.emotion_labels,
        resample=args.resample,
        device=args.device,
        backend=args.backend,
        parallel_config=load_parallel_config(args.parallel_config),
        retry_errors=args.retry_errors,
        max_fail_fraction=args.max_fail_fraction,
    )


if __name__ == "__main__":
    main()
