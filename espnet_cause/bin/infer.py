"""Estimate facial action unit (AU) sequences from speech with a trained CAUSE model.

Examples:
    # one file -> OpenFace-style CSV (17 AU columns, 25 fps by default)
    python -m espnet_cause.bin.infer --model exp/cause_cnn/model.zip --wav a.wav --output a.csv
    # a data set -> Kaldi ark/scp on the frame grid of a 22.05 kHz, hop 256 TTS feature extractor
    python -m espnet_cause.bin.infer --model exp/cause_cnn/model.zip \\
        --wav_scp dump/test/wav.scp --output_dir exp/cause_cnn/infer_test --output_format ark \\
        --output_fs 22050 --output_hop_length 256 --parallel_config conf/parallel/local.yaml

Set input: each utterance is one item of ``espnet_cause.parallel.run_items`` (in-process or on
Dask). Finished items are journalled in ``OUTPUT_DIR/infer_journal.jsonl`` and skipped on a
re-run; unusable items (missing/unreadable/empty/silent audio) are skipped with their reason in
``OUTPUT_DIR/infer_report.tsv``. ``--output_format ark`` writes ``au.ark``/``au.scp``;
``npy``/``csv`` write ``OUTPUT_DIR/<utt>.npy|csv``; all write ``au_fps`` (the frame rate).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from espnet_cause.cli import reports_errors, setup_logging
from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = ("ark", "npy", "csv")
JOURNAL_NAME = "infer_journal.jsonl"
REPORT_NAME = "infer_report.tsv"
SETTINGS_NAME = "infer_settings.json"
ITEMS_DIR = ".items"  # per-utterance npy files gathered into the ark at the end
AU_FPS_FILE = "au_fps"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", help="one audio file (any sample rate, mono or multi-channel)")
    src.add_argument("--wav_scp", help="Kaldi wav.scp: '<utt> <path>' lines")
    m = parser.add_argument_group(
        "model: --model, or --train_config with --model_file (default: the built-in model)"
    )
    m.add_argument("--model", help="packed model.zip (python -m espnet_cause.bin.pack_model)")
    m.add_argument("--train_config", help="config.yaml of a training run")
    m.add_argument("--model_file", help="weights of that run, e.g. valid.loss.best.pth")
    out = parser.add_argument_group("output")
    out.add_argument("--output", help="with --wav: FILE.csv or FILE.npy")
    out.add_argument("--output_dir", help="with --wav_scp (or --wav): directory of results")
    out.add_argument("--output_format", choices=OUTPUT_FORMATS, default="ark")
    g = parser.add_argument_group("frame grid (default: the model's au_fps)")
    g.add_argument("--output_fps", type=float, default=None, help="frames per second")
    g.add_argument("--output_fs", type=int, default=None, help="TTS feature sampling rate")
    g.add_argument("--output_hop_length", type=int, default=None, help="TTS feature hop")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--parallel_config",
        default=None,
        help="conf/parallel/*.yaml to spread --wav_scp over Dask workers (default: in-process)",
    )
    parser.add_argument(
        "--retry_errors", action="store_true", help="re-run items that failed in an earlier run"
    )
    parser.add_argument("--cache_dir", default=None, help="where model zips are unpacked")
    parser.add_argument("--verbose", type=int, default=1, help="0 warnings, 1 info, 2 debug")
    return parser


def _grid_options(args) -> dict:
    return {
        "output_fps": args.output_fps,
        "output_fs": args.output_fs,
        "output_hop_length": args.output_hop_length,
    }


def _model_options(args) -> dict:
    return {
        "model": args.model,
        "train_config": args.train_config,
        "model_file": args.model_file,
        "device": args.device,
        "num_threads": args.num_threads,
        "cache_dir": args.cache_dir,
    }


def _check_args(args) -> None:
    if args.model and (args.train_config or args.model_file):
        raise CauseError("give --model or --train_config/--model_file, not both")
    if bool(args.train_config) != bool(args.model_file):
        raise CauseError(
            "--train_config and --model_file go together",
            fix="pass both, or --model MODEL.zip, or neither for the built-in model",
        )
    if not args.model and not args.train_config:
        from espnet_cause.packing import builtin_model

        args.model = str(builtin_model())
    if (args.output_fs is None) != (args.output_hop_length is None):
        raise CauseError("--output_fs and --output_hop_length go together", fix="give both")
    if args.output_fps is not None and args.output_fs is not None:
        raise CauseError("give either --output_fps or --output_fs/--output_hop_length")
    for name in ("output_fps", "output_fs", "output_hop_length"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise CauseError(f"--{name} must be positive, got {value}")
    if args.wav and not (args.output or args.output_dir):
        raise CauseError("no output given", fix="pass --output FILE.csv|FILE.npy")
    if args.wav_scp and not args.output_dir:
        raise CauseError("--wav_scp needs --output_dir", fix="pass --output_dir DIR")
    if args.output and Path(args.output).suffix.lower() not in (".csv", ".npy"):
        raise CauseError(
            f"unknown output type {Path(args.output).suffix!r}",
            path=args.output,
            fix="name the output FILE.csv or FILE.npy (or use --output_dir)",
        )


def load_speech(value: str, name: str) -> tuple[np.ndarray, int]:
    """Audio of a wav.scp value (a path, or a Kaldi command ending in ``|``) or a file path."""
    from espnet_cause.io.audio import load_audio

    value = value.strip()
    if value.endswith("|"):
        import kaldiio

        try:
            rate, data = kaldiio.load_mat(value)
        except Exception as e:  # the command's own failure, reported as the item's reason
            raise CauseError(f"command failed: {e}", path=name) from None
        data = np.asarray(data)
        if data.dtype.kind in "iu":
            data = data.astype(np.float32) / np.iinfo(data.dtype).max
        return data.astype(np.float32), int(rate)
    return load_audio(value, name=name)


def build_speech2au(**model_options) -> dict:
    """Per-worker setup for :func:`espnet_cause.parallel.run_items`: the loaded model."""
    from espnet_cause.inference import Speech2AU

    return {"speech2au": Speech2AU(**model_options)}


def infer_item(key: str, payload: dict, *, speech2au) -> dict:
    """One utterance of a set: read, estimate, resample, write ``payload['output']``."""
    from espnet_cause.io.au_files import write_au

    samples, sr = load_speech(payload["wav"], name=f"{key} ({payload['wav']})")
    aus = speech2au(samples, sr, name=f"{key} ({payload['wav']})")
    aus, fps = speech2au.to_grid(aus, len(samples), sr, **payload["grid"])
    write_au(payload["output"], aus, fps=fps)
    return {"num_frames": len(aus), "fps": fps, "duration": round(len(samples) / sr, 4)}


def infer_file(args) -> None:
    """``--wav FILE``: errors name the file."""
    from espnet_cause.io.au_files import write_au

    speech2au = build_speech2au(**_model_options(args))["speech2au"]
    samples, sr = load_speech(args.wav, name=args.wav)
    aus = speech2au(samples, sr, name=args.wav)
    aus, fps = speech2au.to_grid(aus, len(samples), sr, **_grid_options(args))
    if args.output:
        output = Path(args.output)
    else:
        suffix = "npy" if args.output_format == "ark" else args.output_format
        output = Path(args.output_dir) / f"{Path(args.wav).stem}.{suffix}"
    write_au(output, aus, fps=fps)
    logger.info("%s: %d frames at %g fps -> %s", args.wav, len(aus), fps, output)


def _file_stamp(path: str | None) -> str | None:
    """Path, size and modification time: a re-packed or retrained model invalidates results."""
    if not path:
        return None
    p = Path(path).resolve()
    if not p.is_file():
        return str(p)
    st = p.stat()
    return f"{p} {st.st_size} {st.st_mtime_ns}"


def _settings(args) -> dict:
    return {
        "model": _file_stamp(args.model),
        "model_file": _file_stamp(args.model_file),
        "train_config": _file_stamp(args.train_config),
        "output_format": args.output_format,
        **_grid_options(args),
    }


def infer_set(args) -> dict[str, dict]:
    """``--wav_scp``: one item per utterance, resumable; returns the records by key."""
    from espnet_cause.io.atomic import atomic_write
    from espnet_cause.io.datadir import read_kaldi_map
    from espnet_cause.parallel import load_parallel_config, run_items

    out_dir = Path(args.output_dir)
    wavs = read_kaldi_map(args.wav_scp, check_sorted=False)
    if not wavs:
        raise CauseError("wav.scp has no lines", path=args.wav_scp, fix="check the data dir")
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = out_dir / JOURNAL_NAME
    settings = _settings(args)
    settings_file = out_dir / SETTINGS_NAME
    if settings_file.is_file() and json.loads(settings_file.read_text()) != settings:
        logger.info("%s: model or output options changed; starting over", out_dir)
        journal.unlink(missing_ok=True)
        shutil.rmtree(out_dir / ITEMS_DIR, ignore_errors=True)
    with atomic_write(settings_file) as tmp:
        tmp.write_text(json.dumps(settings, indent=2) + "\n")

    item_dir = out_dir / ITEMS_DIR if args.output_format == "ark" else out_dir
    suffix = "npy" if args.output_format == "ark" else args.output_format
    grid = _grid_options(args)
    items = [
        (key, {"wav": value, "output": str(item_dir / f"{key}.{suffix}"), "grid": grid})
        for key, value in wavs.items()
    ]
    # A journalled item whose output went missing is redone.
    from espnet_cause.parallel import read_journal

    stale = [
        k
        for k, r in read_journal(journal).items()
        if r.get("status") == "ok" and not (item_dir / f"{k}.{suffix}").is_file()
    ]
    if stale:
        logger.info("%d journalled outputs are missing; redoing them", len(stale))
        kept = [r for k, r in read_journal(journal).items() if k not in stale]
        with atomic_write(journal) as tmp:
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))

    records = run_items(
        items,
        infer_item,
        journal=journal,
        setup_fn=functools.partial(build_speech2au, **_model_options(args)),
        parallel_config=load_parallel_config(args.parallel_config),
        desc="infer",
        retry_errors=args.retry_errors,
    )
    ok = [k for k in wavs if records.get(k, {}).get("status") == "ok"]
    fps = next((records[k]["fps"] for k in ok), None)
    _write_report(out_dir / REPORT_NAME, wavs, records)
    if args.output_format == "ark" and ok:
        from espnet_cause.io.au_files import AUArkWriter

        with AUArkWriter(out_dir / "au.ark", out_dir / "au.scp", fps=fps) as writer:
            for key in sorted(ok):
                writer.write(key, np.load(item_dir / f"{key}.npy"))
    elif fps is not None:
        with atomic_write(out_dir / AU_FPS_FILE) as tmp:
            tmp.write_text(f"{fps:g}\n")
    failed = {k: r for k, r in records.items() if r.get("status") != "ok"}
    for key, rec in failed.items():
        logger.warning("skipped %s: %s", key, rec.get("reason"))
    logger.info(
        "%d of %d utterances done, %d skipped (see %s)",
        len(ok),
        len(wavs),
        len(failed),
        out_dir / REPORT_NAME,
    )
    if not ok:
        raise CauseError(
            f"no utterance of {args.wav_scp} could be processed",
            path=out_dir / REPORT_NAME,
            fix="read the reasons in the report",
        )
    return records


def _write_report(path: Path, wavs: dict[str, str], records: dict[str, dict]) -> None:
    from espnet_cause.io.atomic import atomic_write

    lines = ["key\tstatus\tnum_frames\tfps\treason"]
    for key in wavs:
        r = records.get(key, {"status": "missing", "reason": "not run"})
        reason = str(r.get("reason", "")).replace("\t", " ").replace("\n", " ")
        lines.append(
            f"{key}\t{r['status']}\t{r.get('num_frames', '')}\t{r.get('fps', '')}\t{reason}"
        )
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    _check_args(args)
    if os.environ.get("OMP_NUM_THREADS") is None and args.num_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.num_threads)
    if args.wav:
        infer_file(args)
    else:
        infer_set(args)


if __name__ == "__main__":
    main()
