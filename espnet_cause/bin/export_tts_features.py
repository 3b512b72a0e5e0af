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

Example::

    python -m espnet_cause.bin.export_tts_features --model exp/cause_cnn/model.zip \\
        --wav_scp dump/raw/tr_no_dev/wav.scp --output_dir dump/au_tts/tr_no_dev \\
        --fs 22050 --hop_length 256
"""

from __future__ import annotations

import argparse
import functools
import logging
from pathlib import Path

import numpy as np
import yaml

from espnet_cause.assets import resolve_model
from espnet_cause.au import AU_NAMES, NUM_AUS
from espnet_cause.cli import (
    MODEL_HELP,
    add_feature_grid_args,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.errors import CauseError
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.atomic import atomic_write, check_output_dir
from espnet_cause.io.audio import load_speech
from espnet_cause.io.audio import resample as resample_audio
from espnet_cause.io.cache import sha256_file
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.timegrid import to_hop_grid
from espnet_cause.jobs import batch
from espnet_cause.jobs.parallel import load_parallel_config
from espnet_cause.tts.features import (
    AU_EMBED_DIM,
    EMBED_SCALE,
    MAGNITUDE_CHANNEL,
    au_embed,
)

logger = logging.getLogger(__name__)

GRID_FILE = "grid.yaml"
REPORT_FILE = "export_report.tsv"
#: The job's own columns of the report (after key, status, reason).
REPORT_COLUMNS = ("num_samples", "num_frames", "au_frames", "mean_intensity")
#: Per-utterance results in the runner's item directory.
ITEM_SUFFIXES = (".au.npy", ".au_embed.npy")


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


def export_item(
    key: str,
    payload: dict,
    *,
    speech2au,
    fs: int,
    hop_length: int,
    n_fft: int | None,
    items_dir: str,
    resample: bool = False,
) -> dict:
    """AU features of one utterance, saved as ``<items_dir>/<key>.au.npy`` and ``.au_embed.npy``.

    Args:
        key: Utterance id.
        payload: ``{"wav": wav.scp value, "start": s or None, "end": s or None}``.
        speech2au: A :class:`espnet_cause.inference.speech2au.Speech2AU`.
        fs, hop_length, n_fft: The TTS feature extractor's grid.
        items_dir: Directory of the per-utterance results.
        resample: Resample audio at another rate to ``fs`` instead of refusing it.

    Returns:
        A record with ``num_samples``, ``num_frames`` and ``mean_intensity``.
    """

    speech, rate = load_speech(payload["wav"], name=f"{key} ({payload['wav']})")
    if rate != fs and resample:
        speech, rate = resample_audio(speech, rate, fs), fs
    if rate != fs:
        raise CauseError(
            f"{key}: audio is at {rate} Hz but --fs is {fs}",
            fix="export from the wav.scp ESPnet trains on (dump/raw, resampled to fs), pass "
            "the matching --fs, or add --resample",
        )
    if payload.get("start") is not None:
        start = int(round(payload["start"] * rate))
        end = len(speech) if payload["end"] is None else int(round(payload["end"] * rate))
        speech = speech[start:end]
    aus = speech2au.to_aus(speech2au(speech, rate, name=key))  # AUs, also from an ARKit model
    grid = to_hop_grid(aus, speech2au.au_fps, len(speech), fs, hop_length, n_fft=n_fft)
    embed = au_embed(aus)
    out = Path(items_dir)
    for suffix, array in ((".au.npy", grid), (".au_embed.npy", embed)):
        with atomic_write(out / f"{key}{suffix}") as tmp:
            np.save(tmp, array)
    return {
        "num_samples": len(speech),
        "num_frames": len(grid),
        "au_frames": len(aus),
        "mean_intensity": round(float(aus.mean()), 4),
    }


def load_speech2au(model: str, device: str, backend: str = "auto") -> dict:
    """Per-worker environment: the CAUSE model (module level so that it pickles for Dask)."""

    return {"speech2au": Speech2AU(model, device=device, backend=backend)}


def read_items(wav_scp: Path, segments: Path | None) -> list[tuple[str, dict]]:
    """``(key, payload)`` pairs from ``wav.scp`` (and ``segments``)."""

    wavs = read_kaldi_map(wav_scp, check_sorted=False)
    if segments is None:
        return [(k, {"wav": v, "start": None, "end": None}) for k, v in sorted(wavs.items())]
    items = []
    for lineno, (key, value) in enumerate(read_kaldi_map(segments, check_sorted=False).items(), 1):
        parts = value.split()
        try:
            reco, start, end = parts[0], float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise CauseError(
                f"bad segments line {value!r}", path=segments, line=lineno,
                fix="use '<utt> <recording> <start_s> <end_s>'",
            ) from None  # fmt: skip
        if reco not in wavs:
            raise CauseError(f"recording {reco!r} is not in {wav_scp}", path=segments, line=lineno)
        items.append((key, {"wav": wavs[reco], "start": start, "end": end if end > 0 else None}))
    return sorted(items)


@reports_errors
def main(cmd=None) -> None:
    """Run the export; see the module docstring."""
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    args.model = str(resolve_model(args.model))  # a path, a built-in name, or the default
    model = Path(args.model)
    if not model.is_file():
        raise CauseError("model file not found", path=model, fix="pass the recipe's model.zip")
    if args.fs <= 0 or args.hop_length <= 0:
        raise CauseError(f"--fs {args.fs} and --hop_length {args.hop_length} must be positive")
    out = check_output_dir(args.output_dir)
    items = read_items(Path(args.wav_scp), Path(args.segments) if args.segments else None)
    if not items:
        raise CauseError("no utterances", path=args.wav_scp, fix="give a non-empty wav.scp")
    grid = {
        "fs": args.fs,
        "hop_length": args.hop_length,
        "n_fft": args.n_fft,
        "resample": args.resample,
        "frames": "1 + num_samples // hop_length (ESPnet LogMelFbank, center=True)",
        "model": str(model),
        "model_sha256": sha256_file(model),
        "au_names": list(AU_NAMES),
        "au_embed": {
            "dim": AU_EMBED_DIM,
            "layout": f"[{MAGNITUDE_CHANNEL}, mean(AU)/{EMBED_SCALE:g} x{NUM_AUS}, "
            f"std(AU)/{EMBED_SCALE:g} x{NUM_AUS}]",
        },
    }
    with batch.output_lock(out):  # one writer for the whole job, arks and report included
        _export(args, items, grid, model, out)


def _export(args, items: list, grid: dict, model: Path, out: Path) -> None:
    """The batch part of :func:`main`, run under the output directory's lock."""

    where = batch.BatchDir(out)
    fn = functools.partial(
        export_item,
        fs=args.fs,
        hop_length=args.hop_length,
        n_fft=args.n_fft,
        items_dir=str(where.items),
        resample=args.resample,
    )
    records = batch.run_batch(
        items,
        fn,
        output_dir=out,
        settings={k: grid[k] for k in ("fs", "hop_length", "n_fft", "resample", "model_sha256")},
        item_files=lambda key: [where.item(key, s) for s in ITEM_SUFFIXES],
        setup_fn=functools.partial(load_speech2au, str(model), args.device, args.backend),
        parallel_config=load_parallel_config(args.parallel_config),
        desc="export_tts_features",
        retry_errors=args.retry_errors,
        keys_from=args.segments or args.wav_scp,
    )
    with atomic_write(out / GRID_FILE) as tmp:
        tmp.write_text(yaml.safe_dump(grid, sort_keys=False))
    ok = batch.finish(out / REPORT_FILE, dict(items), records, REPORT_COLUMNS, what="utterance")
    batch.gather_ark(out / "au.ark", out / "au.scp", {k: where.item(k, ".au.npy") for k in ok})
    batch.gather_ark(
        out / "au_embed.ark",
        out / "au_embed.scp",
        {k: where.item(k, ".au_embed.npy") for k in ok},
        vectors=True,
    )
    logger.info(
        "exported %d utterances (%d skipped, see %s) to %s/{au,au_embed}.scp",
        len(ok), len(items) - len(ok), out / REPORT_FILE, out,
    )  # fmt: skip


if __name__ == "__main__":
    main()
