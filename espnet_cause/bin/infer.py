"""Estimate facial action unit (AU) sequences from speech with a trained CAUSE model.

Examples:
    # one file -> OpenFace-style CSV (17 AU columns, 25 fps by default)
    python -m espnet_cause.bin.infer --model exp/cause_cnn/model.zip --wav a.wav --output a.csv
    # a data set -> Kaldi ark/scp on the frame grid of a 22.05 kHz, hop 256 TTS feature extractor
    python -m espnet_cause.bin.infer --model exp/cause_cnn/model.zip \\
        --wav_scp dump/test/wav.scp --output_dir exp/cause_cnn/infer_test --output_format ark \\
        --output_fs 22050 --output_hop_length 256 --parallel_config conf/parallel/local.yaml

Set input: each utterance is one item of the batch runner ``espnet_cause.jobs.batch`` (in-process or
on Dask; its resume rule: finished items are skipped on a re-run, other model or grid settings
start over); unusable items (missing/unreadable/empty/silent audio) are skipped with their reason
in ``OUTPUT_DIR/infer_report.tsv``. ``--output_format ark`` writes ``au.ark``/``au.scp``;
``npy``/``csv`` write ``OUTPUT_DIR/<utt>.npy|csv``; all write ``au_fps`` (the frame rate).

Avatar animation: ``--output_format livelink`` writes a Live Link Face CSV (Unreal's
LiveLinkFaceImporter, Blender and Maya importers) and ``arkit_json`` a ``{"fps", "names",
"frames"}`` JSON of the 52 ARKit blendshapes (:mod:`espnet_cause.io.livelink`), at 60 fps unless
``--output_fps`` says otherwise. An AU model's output goes through the AU -> ARKit table
(:mod:`espnet_cause.arkit`); a ``target: arkit`` model's blendshapes are written directly::

    python -m espnet_cause.bin.infer --model model.zip --wav speech.wav --output take.csv \
        --output_format livelink --output_fps 60

A ``target: arkit`` model's ``csv`` output is a blendshape CSV
(:mod:`espnet_cause.io.blendshapes`), its ``npy``/``ark`` output (T, 51) matrices.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES, NUM_BLENDSHAPES, arkit_frames
from espnet_cause.assets import resolve_model
from espnet_cause.cli import MODEL_HELP, make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.atomic import check_output, check_output_dir
from espnet_cause.io.au_files import AU_FPS_FILE, write_au, write_au_fps
from espnet_cause.io.audio import load_speech
from espnet_cause.io.blendshapes import write_blendshapes
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.livelink import DEFAULT_LIVELINK_FPS, write_arkit_json, write_livelink_csv
from espnet_cause.jobs import batch
from espnet_cause.jobs.parallel import load_parallel_config

logger = logging.getLogger(__name__)

#: Formats for avatar tools: ARKit blendshapes, 60 fps unless --output_fps is given.
ANIMATION_FORMATS = ("livelink", "arkit_json")
OUTPUT_FORMATS = ("ark", "npy", "csv") + ANIMATION_FORMATS
#: File suffix of one utterance's output per format.
SUFFIXES = {"ark": ".npy", "npy": ".npy", "csv": ".csv", "livelink": ".csv", "arkit_json": ".json"}
REPORT_NAME = "infer_report.tsv"
#: The job's own columns of the report (after key, status, reason).
REPORT_COLUMNS = ("num_frames", "fps")


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0], parallel=True)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", help="one audio file (any sample rate, mono or multi-channel)")
    src.add_argument("--wav_scp", help="Kaldi wav.scp: '<utt> <path>' lines")
    m = parser.add_argument_group(
        "model: --model, or --train_config with --model_file (default: the built-in model)"
    )
    m.add_argument("--model", help=MODEL_HELP)
    m.add_argument("--train_config", help="config.yaml of a training run")
    m.add_argument("--model_file", help="weights of that run, e.g. valid.loss.best.pth")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--output", help="with --wav: FILE.csv or FILE.npy (livelink: FILE.csv, arkit_json: .json)"
    )
    out.add_argument("--output_dir", help="with --wav_scp (or --wav): directory of results")
    out.add_argument(
        "--output_format",
        choices=OUTPUT_FORMATS,
        default="ark",
        help="ark/npy/csv: the model's own frames; livelink: Live Link Face CSV; arkit_json: "
        "ARKit blendshape JSON (both 60 fps by default). With --wav the --output suffix chooses "
        "csv or npy unless livelink or arkit_json is asked for",
    )
    g = parser.add_argument_group("frame grid (default: the model's au_fps)")
    g.add_argument("--output_fps", type=float, default=None, help="frames per second")
    g.add_argument("--output_fs", type=int, default=None, help="TTS feature sampling rate")
    g.add_argument("--output_hop_length", type=int, default=None, help="TTS feature hop")
    parser.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx: ONNX Runtime on the zip's ONNX graph (no torch import); torch: the ESPnet "
        "model; auto: onnx when the model zip has a graph, else torch",
    )
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--retry_errors", action="store_true", help="re-run items that failed in an earlier run"
    )
    parser.add_argument("--cache_dir", default=None, help="where model zips are unpacked")
    return parser


def _grid_options(args) -> dict:
    fps = args.output_fps
    if fps is None and args.output_fs is None and args.output_format in ANIMATION_FORMATS:
        fps = DEFAULT_LIVELINK_FPS
    return {
        "output_fps": fps,
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
        "backend": args.backend,
    }


def _check_args(args) -> None:
    if args.model and (args.train_config or args.model_file):
        raise CauseError("give --model or --train_config/--model_file, not both")
    if bool(args.train_config) != bool(args.model_file):
        raise CauseError(
            "--train_config and --model_file go together",
            fix="pass both, or --model MODEL.zip, or neither for the built-in model",
        )
    if args.model or not args.train_config:  # a path, a built-in name, or the default built-in
        args.model = str(resolve_model(args.model))
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

    suffix = Path(args.output).suffix.lower() if args.output else None
    if args.output and args.output_format in ANIMATION_FORMATS:
        wanted = SUFFIXES[args.output_format]
        if suffix != wanted:
            raise CauseError(
                f"--output_format {args.output_format} writes a {wanted} file, not {suffix!r}",
                path=args.output,
                fix=f"name the output FILE{wanted}",
            )
    elif args.output and suffix not in (".csv", ".npy"):
        raise CauseError(
            f"unknown output type {Path(args.output).suffix!r}",
            path=args.output,
            fix="name the output FILE.csv or FILE.npy (or use --output_dir)",
        )

    inputs = {"--wav": args.wav, "--wav_scp": args.wav_scp, "--model": args.model}
    inputs |= {"--train_config": args.train_config, "--model_file": args.model_file}
    if args.output:
        check_output(args.output, inputs=inputs, what="--output")
    if args.output_dir:
        check_output_dir(args.output_dir)


def build_speech2au(**model_options) -> dict:
    """Per-worker setup of the batch runner: the loaded model."""

    return {"speech2au": Speech2AU(**model_options)}


def write_output(path: str | os.PathLike, values: np.ndarray, fps: float, output_format: str):
    """Write one utterance's frames in ``output_format`` (csv/npy chosen by the suffix).

    Args:
        path: The file.
        values: (T, 17) AUs or (T, 51) blendshapes at ``fps``.
        fps: Frame rate.
        output_format: One of :data:`OUTPUT_FORMATS`.
    """

    if output_format == "livelink":
        write_livelink_csv(path, arkit_frames(values), ARKIT_NAMES, fps)
    elif output_format == "arkit_json":
        write_arkit_json(path, arkit_frames(values), ARKIT_NAMES, fps)
    elif values.shape[1] == NUM_BLENDSHAPES:
        write_blendshapes(path, values, fps)
    else:
        write_au(path, values, fps=fps)


def infer_item(key: str, payload: dict, *, speech2au) -> dict:
    """One utterance of a set: read, estimate, resample, write ``payload['output']``."""

    samples, sr = load_speech(payload["wav"], name=f"{key} ({payload['wav']})")
    aus = speech2au(samples, sr, name=f"{key} ({payload['wav']})")
    aus, fps = speech2au.to_grid(aus, len(samples), sr, **payload["grid"])
    write_output(payload["output"], aus, fps, payload.get("format", "ark"))
    return {"num_frames": len(aus), "fps": fps, "duration": round(len(samples) / sr, 4)}


def infer_file(args) -> None:
    """``--wav FILE``: errors name the file."""

    speech2au = build_speech2au(**_model_options(args))["speech2au"]
    samples, sr = load_speech(args.wav, name=args.wav)
    aus = speech2au(samples, sr, name=args.wav)
    aus, fps = speech2au.to_grid(aus, len(samples), sr, **_grid_options(args))
    if args.output:
        output = Path(args.output)
    else:
        output = Path(args.output_dir) / f"{Path(args.wav).stem}{SUFFIXES[args.output_format]}"
    write_output(output, aus, fps, args.output_format)
    logger.info(
        "%s: %d frames at %g fps -> %s (%s)", args.wav, len(aus), fps, output, args.output_format
    )


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

    out_dir = Path(args.output_dir)
    wavs = read_kaldi_map(args.wav_scp, check_sorted=False)
    if not wavs:
        raise CauseError("wav.scp has no lines", path=args.wav_scp, fix="check the data dir")
    with batch.output_lock(out_dir):  # one writer for the whole job, ark and report included
        return _infer_items(args, wavs)


def _infer_items(args, wavs: dict[str, str]) -> dict[str, dict]:
    """The batch part of :func:`infer_set`, run under the output directory's lock."""

    out_dir = Path(args.output_dir)
    where = batch.BatchDir(out_dir)
    suffix = SUFFIXES[args.output_format]
    if args.output_format == "ark":
        output = where.item
    else:
        output = lambda k, sfx: out_dir / f"{k}{sfx}"  # noqa: E731
    grid = _grid_options(args)
    items = [
        (
            key,
            {
                "wav": value,
                "output": str(output(key, suffix)),
                "grid": grid,
                "format": args.output_format,
            },
        )
        for key, value in wavs.items()
    ]
    records = batch.run_batch(
        items,
        infer_item,
        output_dir=out_dir,
        settings=_settings(args),
        item_files=lambda key: [output(key, suffix)],
        setup_fn=functools.partial(build_speech2au, **_model_options(args)),
        parallel_config=load_parallel_config(args.parallel_config),
        desc="infer",
        retry_errors=args.retry_errors,
        keys_from=args.wav_scp,
    )
    ok = batch.finish(out_dir / REPORT_NAME, wavs, records, REPORT_COLUMNS, what="utterance")
    fps = records[ok[0]]["fps"]
    if args.output_format == "ark":
        files = {key: where.item(key, suffix) for key in sorted(ok)}
        width = np.load(next(iter(files.values())), mmap_mode="r").shape[1]
        batch.gather_ark(out_dir / "au.ark", out_dir / "au.scp", files, fps=fps, num_columns=width)
    else:
        write_au_fps(out_dir / AU_FPS_FILE, fps)
    return records


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
