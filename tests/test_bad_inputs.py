"""The catalogue of bad inputs: one row per input, its exit code, message and what it must not write.

Each row runs a CLI in-process on a prepared work directory. Rows that must fail check the exit
code (2: one line on stderr naming the file) and that no file of the work directory was created,
changed or removed (a batch that fails by its ``--max_fail_fraction`` rule may write its report
in its output directory, nothing else). Batch rows that must skip an item check exit 0, the
reason in the report, and the same "nothing outside the output directory" rule. Rows marked
``fresh`` run the CLI in a new interpreter and check which heavy modules it imported; rows marked
``cache_empty`` check that nothing was unpacked into the model cache.

The service and library rows (HTTP requests, WebSocket streams, streamer calls) follow the CLI
table: the same idea, one test per bad input. ``docs/hardening.md`` lists the limits they check.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_cause.au import AU_INTENSITY_COLUMNS, NUM_AUS

sys.path.insert(0, str(Path(__file__).resolve().parent / "bin"))
from test_infer import make_tiny_model  # noqa: E402

FS = 16000


def _speech(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts under a 150 Hz buzz: enough energy and change to be 'speech' for a model."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    signal = 0.2 * np.sin(2 * np.pi * 150 * t) + 0.05 * rng.normal(size=t.size)
    return (envelope * signal).astype(np.float32)


def _csv(path: Path, values: np.ndarray, success: np.ndarray | None = None) -> Path:
    """An OpenFace-style CSV at 25 fps (``inf``/``nan`` written as numpy spells them)."""
    n = len(values)
    success = np.ones(n, bool) if success is None else success
    header = "frame,face_id,timestamp,confidence,success," + ",".join(AU_INTENSITY_COLUMNS)
    rows = [header]
    for i in range(n):
        cells = [str(i + 1), "0", f"{i / 25:.3f}", "0.98", str(int(success[i]))]
        rows.append(",".join(cells + [f"{v}" for v in values[i]]))
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory):
    from espnet_cause.inference.packing import pack_model

    root = tmp_path_factory.mktemp("model")
    config, pth = make_tiny_model(root / "tiny")
    return pack_model(config, pth, root / "model.zip")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(cache))
    return cache


def _lock_down(path: Path) -> Callable[[], None]:
    """Make a file or directory unwritable even for root (chattr +i), or by mode otherwise."""
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(path)], check=True)
        return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    return lambda: path.chmod(mode)


@pytest.fixture
def work(tmp_path, model_zip):
    """A work directory with good inputs; ``work.undo`` lists clean-ups for locked paths."""
    w = tmp_path / "work"
    w.mkdir()
    sf.write(w / "speech.wav", _speech(1.0), FS)
    shutil.copy(model_zip, w / "model.zip")
    (w / "photo.jpg").write_bytes(b"\xff\xd8 not really a photo, never read")
    (w / "out").mkdir()
    good = np.random.default_rng(1).uniform(0, 3, (25, NUM_AUS)).astype(np.float32)
    _csv(w / "au.csv", good)
    np.save(w / "au.npy", good)
    (w / "wav.scp").write_text(f"utt1 {w / 'speech.wav'}\n")
    undo: list[Callable[[], None]] = []
    yield w, undo
    for fn in reversed(undo):
        fn()


# ---- the bad inputs: each prepares its files and returns (cli, argv) ---------------------------


def immutable_output(w, undo):
    target = w / "out" / "au.csv"
    target.write_text("keep me\n")
    undo.append(_lock_down(target))
    return "infer", ["--model", w / "model.zip", "--wav", w / "speech.wav", "--output", target]


def unwritable_output_dir(w, undo):
    undo.append(_lock_down(w / "out"))
    out = w / "out" / "au.csv"
    return "infer", ["--model", w / "model.zip", "--wav", w / "speech.wav", "--output", out]


def read_only_file_system(w, undo):
    ro = w / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "none", str(ro)], check=True)
        undo.append(lambda: subprocess.run(["umount", str(ro)], check=True))
    else:
        undo.append(_lock_down(ro))
    out = ro / "sub" / "au.csv"
    return "infer", ["--model", w / "model.zip", "--wav", w / "speech.wav", "--output", out]


def tampered_zip(w, undo):
    """model.pth replaced after packing (meta.yaml still lists the old sha256)."""
    src = w / "model.zip"
    bad = w / "tampered.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "model.pth":
                import io

                import torch

                state = torch.load(io.BytesIO(data), weights_only=True)
                state = {k: v + 1.0 if v.is_floating_point() else v for k, v in state.items()}
                buffer = io.BytesIO()
                torch.save(state, buffer)
                data = buffer.getvalue()
            zout.writestr(item, data)
    return "infer", ["--model", bad, "--wav", w / "speech.wav", "--output", w / "out" / "a.csv"]


class _Gadget:
    def __reduce__(self):
        return (print, ("code ran on load",))


def pickled_code_zip(w, undo):
    """A zip packed correctly (checksums match) whose weights pickle a callable."""
    import torch
    import yaml

    from espnet_cause.inference.model_zip import unpack_model
    from espnet_cause.inference.packing import pack_model

    config, pth = unpack_model(w / "model.zip", cache_dir=w / "unpacked")
    state = torch.load(pth, weights_only=True)
    state["gadget"] = _Gadget()
    evil = w / "evil.pth"
    torch.save(state, evil)
    cfg = w / "config.yaml"
    cfg.write_text(yaml.safe_dump(yaml.safe_load(config.read_text())))
    # without the ONNX export: that would load (and refuse) the weights while packing
    pack_model(cfg, evil, w / "evil.zip", onnx=False)
    return "infer", [
        "--model",
        w / "evil.zip",
        "--wav",
        w / "speech.wav",
        "--output",
        w / "out" / "a.csv",
    ]


def non_utf8_wav_scp(w, undo):
    scp = w / "latin1.scp"
    scp.write_bytes(f"utt1 {w / 'speech.wav'}\nutt2 {w}/caf\xe9.wav\n".encode("latin-1"))
    return "infer", ["--model", w / "model.zip", "--wav_scp", scp, "--output_dir", w / "res"]


def inf_in_csv(w, undo):
    values = np.ones((10, NUM_AUS))
    values[3, 5] = np.inf
    bad = _csv(w / "inf.csv", values)
    return "convert_au", ["--input", bad, "--output", w / "out" / "inf.npy"]


def every_frame_failed_csv(w, undo):
    bad = _csv(w / "failed.csv", np.zeros((10, NUM_AUS)), success=np.zeros(10, bool))
    return "convert_au", ["--input", bad, "--output", w / "out" / "failed.npy"]


def all_nan_npy_plot(w, undo):
    np.save(w / "nan.npy", np.full((10, NUM_AUS), np.nan, np.float32))
    return "plot_au", ["--input", w / "nan.npy", "--output", w / "out" / "nan.png"]


def convert_onto_input(w, undo):
    return "convert_au", ["--input", w / "au.npy", "--output", w / "au.npy"]


def render_onto_photo(w, undo):
    return "render", ["--image", w / "photo.jpg", "--au", w / "au.csv", "--output", w / "photo.jpg"]


def render_text_suffix(w, undo):
    return "render", ["--image", w / "photo.jpg", "--au", w / "au.csv", "--output", w / "o.txt"]


def render_avi_suffix(w, undo):
    return "render", ["--image", w / "photo.jpg", "--au", w / "au.csv", "--output", w / "o.avi"]


def render_output_is_dir(w, undo):
    return "render", ["--image", w / "photo.jpg", "--au", w / "au.csv", "--output", w / "out"]


def infer_output_is_dir(w, undo):
    (w / "out" / "x.csv").mkdir()
    return "infer", [
        "--model",
        w / "model.zip",
        "--wav",
        w / "speech.wav",
        "--output",
        w / "out" / "x.csv",
    ]


def wav_is_a_directory(w, undo):
    return "infer", ["--model", w / "model.zip", "--wav", w / "out", "--output", w / "o.csv"]


def extract_output_is_dir(w, undo):
    video = w / "v.mp4"
    video.write_bytes(b"")
    return "extract_au", [
        "--extractor",
        "openface",
        "--openface_dir",
        w,
        "--video",
        video,
        "--output",
        w / "out",
    ]


def score_ref_not_utf8(w, undo):
    ref = w / "ref.scp"
    ref.write_bytes(b"utt1 " + str(w / "au.csv").encode() + b"\nutt\xff2 x.csv\n")
    hyp = w / "hyp.scp"
    hyp.write_text(f"utt1 {w / 'au.csv'}\n")
    return "score", ["--ref", ref, "--hyp", hyp, "--output_dir", w / "scores"]


def failing_pipe_in_wav_scp(w, undo):
    scp = w / "pipes.scp"
    scp.write_text(
        f"good {w / 'speech.wav'}\n"
        "piped sh -c 'echo sox FAIL formats: cannot open input file >&2; exit 2' |\n"
    )
    return "infer", ["--model", w / "model.zip", "--wav_scp", scp, "--output_dir", w / "res"]


def score_half_the_predictions_missing(w, undo):
    ref, hyp = w / "ref.scp", w / "hyp.scp"
    ref.write_text("".join(f"u{i} {w / 'au.csv'}\n" for i in range(4)))
    hyp.write_text("".join(f"u{i} {w / 'au.csv'}\n" for i in range(2)))
    return "score", ["--ref", ref, "--hyp", hyp, "--output_dir", w / "res"]


def out_of_range_intensities(w, undo):
    values = np.random.default_rng(0).uniform(0, 3, (10, NUM_AUS))
    values[2, 0], values[4, 1], values[5, 2] = 7.0, -1.0, 500.0
    np.save(w / "wild.npy", values.astype(np.float32))
    return "convert_au", ["--input", w / "wild.npy", "--output", w / "res" / "wild.csv"]


def key_escapes_output_dir(w, undo):
    scp = w / "keys.scp"
    scp.write_text(f"good {w / 'speech.wav'}\n../../ESCAPED {w / 'speech.wav'}\n")
    return "infer", [
        "--model",
        w / "model.zip",
        "--wav_scp",
        scp,
        "--output_dir",
        w / "res",
        "--output_format",
        "npy",
    ]


def absolute_key(w, undo):
    scp = w / "keys.scp"
    scp.write_text(f"{w.parent / 'ABS'} {w / 'speech.wav'}\ngood {w / 'speech.wav'}\n")
    return "infer", [
        "--model",
        w / "model.zip",
        "--wav_scp",
        scp,
        "--output_dir",
        w / "res",
        "--output_format",
        "csv",
    ]


def hidden_key_in_tts_export(w, undo):
    scp = w / "keys.scp"
    scp.write_text(f"..hidden {w / 'speech.wav'}\ngood {w / 'speech.wav'}\n")
    return "export_tts_features", [
        "--model",
        w / "model.zip",
        "--wav_scp",
        scp,
        "--output_dir",
        w / "res",
        "--fs",
        FS,
        "--hop_length",
        256,
    ]


def output_dir_in_use(w, undo):
    """Another run holds the output directory (a live process with its lock)."""
    script = (
        f"import sys, time; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from espnet_cause.jobs.batch import output_lock\n"
        f"with output_lock({str(w / 'res')!r}):\n"
        "    print('held', flush=True); time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, "first-run"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    undo.append(lambda: (holder.kill(), holder.wait()))
    return "infer", ["--model", w / "model.zip", "--wav_scp", w / "wav.scp", "--output_dir",
                     w / "res"]  # fmt: skip


def _rezip(src: Path, dst: Path, members: dict[str, bytes], rehash: bool = True) -> Path:
    """A copy of a model zip with ``members`` replaced or added, their sha256 re-computed in
    meta.yaml as an attacker would (``rehash=False``: added without being listed)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        meta = yaml.safe_load(zin.read("meta.yaml"))
        if rehash:
            meta["sha256"].update({n: hashlib.sha256(d).hexdigest() for n, d in members.items()})
        for name in zin.namelist():
            if name == "meta.yaml":
                zout.writestr(name, yaml.safe_dump(meta))
            elif name not in members:
                zout.writestr(name, zin.read(name))
        for name, data in members.items():
            zout.writestr(name, data)
    return dst


def _offline_graph(zip_path: Path, make_output: str) -> bytes:
    """A valid ONNX graph ``feats`` (1, T, mels) -> ``au`` (1, T', aus) with the names and widths
    the runtime checks: a linear map, then ``make_output`` ("x2000": every frame 2000 times;
    "2 frames": the first two; "nan": NaN everywhere)."""
    from onnx import TensorProto, helper, numpy_helper

    from espnet_cause.inference.onnx.frontend import FrontendParams

    with zipfile.ZipFile(zip_path) as zf:
        front = FrontendParams.from_json(zf.read("onnx/frontend.json"))
    mels, aus = front.n_mels, front.num_aus
    w = numpy_helper.from_array(np.full((mels, aus), 0.01, np.float32), "w")
    consts = [w]
    nodes = [helper.make_node("MatMul", ["feats", "w"], ["y"])]
    if make_output == "x2000":
        consts.append(numpy_helper.from_array(np.array([1, 2000, 1], np.int64), "reps"))
        nodes.append(helper.make_node("Tile", ["y", "reps"], ["au"]))
    elif make_output == "2 frames":
        for name, value in (("s", 0), ("e", 2), ("ax", 1)):
            consts.append(numpy_helper.from_array(np.array([value], np.int64), name))
        nodes.append(helper.make_node("Slice", ["y", "s", "e", "ax"], ["au"]))
    else:
        consts.append(numpy_helper.from_array(np.array([np.nan], np.float32), "nan"))
        nodes.append(helper.make_node("Add", ["y", "nan"], ["au"]))
    graph = helper.make_graph(
        nodes,
        "tampered",
        [helper.make_tensor_value_info("feats", TensorProto.FLOAT, [1, "T", mels])],
        [helper.make_tensor_value_info("au", TensorProto.FLOAT, [1, "U", aus])],
        initializer=consts,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def _tampered_graph(w, name: str, make_output: str):
    bad = _rezip(w / "model.zip", w / name, {"onnx/offline.onnx": _offline_graph(
        w / "model.zip", make_output)})  # fmt: skip
    return "infer", ["--model", bad, "--wav", w / "speech.wav", "--output", w / "out" / "a.csv"]


def graph_gives_2000x_frames(w, undo):
    """offline.onnx answers every frame 2000 times (sha256 re-computed: the zip checks out)."""
    return _tampered_graph(w, "x2000.zip", "x2000")


def graph_gives_2_frames(w, undo):
    return _tampered_graph(w, "two.zip", "2 frames")


def graph_gives_nan(w, undo):
    return _tampered_graph(w, "nan.zip", "nan")


def unlisted_member_torch(w, undo):
    """A member meta.yaml does not list (added after packing), with the torch backend."""
    bad = _rezip(w / "model.zip", w / "extra.zip", {"stats/extra.bin": b"\0" * 4096}, False)
    return "infer", ["--model", bad, "--wav", w / "speech.wav", "--output", w / "out" / "a.csv",
                     "--backend", "torch"]  # fmt: skip


def member_over_size_limit(w, undo):
    """A listed member whose directory entry says it unpacks to 3 GiB (a zip bomb's header)."""
    data = bytearray((w / "model.zip").read_bytes())
    central = data.index(b"PK\x01\x02")  # the first member's central directory entry
    data[central + 24 : central + 28] = struct.pack("<I", 3 * 1024**3)
    (w / "bomb.zip").write_bytes(bytes(data))
    return "infer", ["--model", w / "bomb.zip", "--wav", w / "speech.wav", "--output",
                     w / "out" / "a.csv", "--backend", "torch"]  # fmt: skip


def not_a_model_zip(w, undo):
    """Not a zip at all, with the default backend: refused without importing torch."""
    (w / "notes.zip").write_text("these are my notes\n")
    return "infer", ["--model", w / "notes.zip", "--wav", w / "speech.wav", "--output",
                     w / "out" / "a.csv"]  # fmt: skip


def _wav_with_rate(path: Path, rate: int) -> Path:
    """A 16 kHz speech wav whose header says ``rate`` Hz (the fmt chunk's two rate fields)."""
    sf.write(path, _speech(1.0), FS, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    fmt = data.index(b"fmt ")
    data[fmt + 12 : fmt + 16] = struct.pack("<I", rate)
    data[fmt + 16 : fmt + 20] = struct.pack("<I", rate * 2)
    path.write_bytes(bytes(data))
    return path


def one_hz_header(w, undo):
    wav = _wav_with_rate(w / "onehz.wav", 1)
    return "infer", ["--model", w / "model.zip", "--wav", wav, "--output", w / "out" / "a.csv"]


def half_megahertz_header(w, undo):
    wav = _wav_with_rate(w / "fast.wav", 500_000)
    return "infer", ["--model", w / "model.zip", "--wav", wav, "--output", w / "out" / "a.csv"]


def wav_cut_in_half(w, undo):
    """The second half of a 1 s wav is missing; its header still says 1 s."""
    sf.write(w / "full.wav", _speech(1.0), FS, subtype="PCM_16")
    data = (w / "full.wav").read_bytes()
    (w / "half.wav").write_bytes(data[: 44 + 16000])
    return "infer", ["--model", w / "model.zip", "--wav", w / "half.wav", "--output",
                     w / "res" / "half.csv"]  # fmt: skip


def livelink_at_1000_fps(w, undo):
    return "infer", ["--model", w / "model.zip", "--wav", w / "speech.wav", "--output",
                     w / "out" / "take.csv", "--output_format", "livelink", "--output_fps", 1000]  # fmt: skip


def most_items_skipped(w, undo):
    """5 of 6 utterances cannot be read: the batch exits non-zero after its report."""
    scp = w / "mostly_bad.scp"
    lines = [f"good {w / 'speech.wav'}"] + [f"bad{i} {w / f'missing{i}.wav'}" for i in range(5)]
    scp.write_text("\n".join(lines) + "\n")
    return "infer", ["--model", w / "model.zip", "--wav_scp", scp, "--output_dir", w / "res"]


@dataclasses.dataclass(frozen=True)
class Bad:
    """A bad input: how to make it, the exit code, and fragments the message must (not) hold.

    ``code`` 2 rows must write nothing (with a ``report``: nothing but in ``res/``, and the
    report is there). ``code`` 0 rows are handled (skipped with a reason or repaired with a
    warning): ``message`` is looked for in ``report`` (a file the run writes, relative to the work
    directory) or else in the log, and only ``res/`` may change. ``fresh``: run in a new
    interpreter, which must not import torch or espnet2. ``cache_empty``: nothing unpacked.
    """

    make: Callable
    code: int
    message: tuple[str, ...]
    absent: tuple[str, ...] = ()
    report: str | None = None
    fresh: bool = False
    cache_empty: bool = False


CATALOGUE = [
    Bad(immutable_output, 2, ("au.csv", "read-only or immutable")),
    Bad(unwritable_output_dir, 2, ("au.csv", "cannot write the output")),
    Bad(read_only_file_system, 2, ("au.csv", "cannot write the output")),
    Bad(tampered_zip, 2, ("tampered.zip", "model.pth does not match its sha256")),
    Bad(
        pickled_code_zip,
        2,
        ("evil.zip", "refused, because loading it could run code"),
        absent=("weights_only", "code ran on load", "cache"),
    ),
    Bad(non_utf8_wav_scp, 2, ("latin1.scp:2", "not UTF-8")),
    Bad(inf_in_csv, 2, ("inf.csv", "1 infinite AU values", "frame 3, AU07")),
    Bad(every_frame_failed_csv, 2, ("failed.csv", "no usable frame")),
    Bad(all_nan_npy_plot, 2, ("nan.npy", "no usable frame")),
    Bad(convert_onto_input, 2, ("au.npy", "same file as --input")),
    Bad(render_onto_photo, 2, ("photo.jpg", "same file as --image")),
    Bad(render_text_suffix, 2, ("o.txt", "must end in .mp4")),
    Bad(render_avi_suffix, 2, ("o.avi", "must end in .mp4")),
    Bad(render_output_is_dir, 2, ("out", "--output is a directory")),
    Bad(infer_output_is_dir, 2, ("x.csv", "--output is a directory")),
    Bad(wav_is_a_directory, 2, ("out", "is a directory, not an audio file")),
    Bad(extract_output_is_dir, 2, ("out", "--output is a directory")),
    Bad(score_ref_not_utf8, 2, ("ref.scp:2", "not UTF-8")),
    Bad(
        failing_pipe_in_wav_scp,
        0,
        ("piped\terror", "status 2", "sox FAIL formats: cannot open input file"),
        report="res/infer_report.tsv",
    ),
    Bad(
        key_escapes_output_dir,
        0,
        ("../../ESCAPED\terror", "keys.scp:2", "path separator", "good\tok"),
        report="res/infer_report.tsv",
    ),
    Bad(absolute_key, 0, ("keys.scp:1", "path separator"), report="res/infer_report.tsv"),
    Bad(
        hidden_key_in_tts_export,
        0,
        ("..hidden\terror", "keys.scp:1", "starts with '.'"),
        report="res/export_report.tsv",
    ),
    Bad(output_dir_in_use, 2, ("res/.work/lock", "another run is writing", "first-run")),
    Bad(score_half_the_predictions_missing, 0, ("2 of 4 references have no prediction",)),
    Bad(out_of_range_intensities, 0, ("wild.npy", "3 of 170 AU values outside 0-5 clipped")),
    # issue 29: model zips
    Bad(graph_gives_2000x_frames, 2, ("x2000.zip", "50000 frames for 1 s of audio, expected 25")),
    Bad(graph_gives_2_frames, 2, ("two.zip", "2 frames for 1 s of audio, expected 25")),
    Bad(graph_gives_nan, 2, ("nan.zip", "425 NaN or infinite values")),
    Bad(
        unlisted_member_torch,
        2,
        ("extra.zip", "stats/extra.bin is not listed in meta.yaml", "nothing was extracted"),
        cache_empty=True,
    ),
    Bad(
        member_over_size_limit,
        2,
        ("bomb.zip", "over the limit of 2147483648", "nothing was extracted"),
        cache_empty=True,
    ),
    Bad(not_a_model_zip, 2, ("notes.zip", "not a model zip"), fresh=True, cache_empty=True),
    # issue 29: audio
    Bad(one_hz_header, 2, ("onehz.wav", "sample rate 1 Hz", "4000-384000 Hz")),
    Bad(half_megahertz_header, 2, ("fast.wav", "sample rate 500000 Hz", "4000-384000 Hz")),
    Bad(
        wav_cut_in_half,
        0,
        ("half.wav", "header says 16000 samples (1.000 s)", "the file holds 8000 (0.500 s)"),
    ),
    Bad(livelink_at_1000_fps, 2, ("--output_fps 1000", "at most 100 fps", "arkit_json")),
    # issue 29: batch
    Bad(
        most_items_skipped,
        2,
        ("infer_report.tsv", "5 of 6 utterances failed, more than --max_fail_fraction 0.5"),
        report="res/infer_report.tsv",
    ),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``root`` with its size and modification time."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def run_cli(cli: str, argv: list, capsys) -> tuple[int, str, str]:
    """Run ``espnet_cause.bin.<cli>.main(argv)``; (exit code, stdout, stderr)."""
    module = importlib.import_module(f"espnet_cause.bin.{cli}")
    code = 0
    try:
        module.main([str(a) for a in argv])
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


HEAVY_MODULES = ("torch", "espnet2")


def run_fresh(cli: str, argv: list) -> tuple[int, str, str, list[str]]:
    """Run the CLI in a new interpreter; (exit code, stdout, stderr, heavy modules imported)."""
    import espnet_cause

    root = str(Path(espnet_cause.__file__).resolve().parents[1])  # the code under test
    script = (
        "import json, sys\n"
        f"from espnet_cause.bin.{cli} import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        f"    print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": root}
    proc = subprocess.run([sys.executable, "-c", script, *map(str, argv)], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip
    lines = proc.stdout.splitlines()
    return proc.returncode, "\n".join(lines[:-1]), proc.stderr, json.loads(lines[-1])


@pytest.mark.parametrize("bad", CATALOGUE, ids=[b.make.__name__ for b in CATALOGUE])
def test_bad_input(bad: Bad, work, capsys, _cache):
    w, undo = work
    cli, argv = bad.make(w, undo)
    capsys.readouterr()
    before = _snapshot(w.parent)  # the work directory and what is beside it
    if bad.fresh:
        code, out, err, heavy = run_fresh(cli, argv)
        assert heavy == [], f"imported {heavy} to refuse the input"
    else:
        code, out, err = run_cli(cli, argv, capsys)
    assert code == bad.code, err
    assert "Traceback" not in err
    if bad.cache_empty:
        assert list(_cache.iterdir()) == [], "the model cache was written"
    if bad.code == 0 or bad.report:
        if bad.code == 0:
            text = (w / bad.report).read_text() if bad.report else err
            for fragment in bad.message:
                assert fragment in text, text
        res = "work/res"  # may be created: the work directory's own mtime changes with it
        after = {
            k: v
            for k, v in _snapshot(w.parent).items()
            if k != "work" and k != res and not k.startswith(res + "/")
        }
        before = {k: v for k, v in before.items() if k != "work"}
        assert after == before, "the run changed files outside its output directory"
        if bad.code == 0:
            return
        assert (w / bad.report).is_file(), "the failed batch wrote no report"
        before = _snapshot(w.parent)  # what is left to compare: the report is allowed
    lines = [ln for ln in err.splitlines() if f"{cli}: error:" in ln]
    assert len(lines) == 1, err  # one line, no traceback
    for fragment in bad.message:
        assert fragment in lines[0], lines[0]
    for fragment in bad.absent:  # in the message, and nowhere in the output
        assert fragment not in lines[0] and fragment not in out, (lines[0], out)
    assert _snapshot(w.parent) == before, "the failed run wrote, changed or removed files"


# ---- the service and library rows ---------------------------------------------------------------


@pytest.fixture(scope="module")
def causal_zip(tmp_path_factory):
    """A tiny causal model (it streams), packed with its ONNX graphs."""
    from espnet_cause.inference.packing import pack_model

    root = tmp_path_factory.mktemp("causal")
    conf = {"hidden_size": 16, "channels": [16, 8], "causal": True}
    config, pth = make_tiny_model(root / "tiny", encoder_conf=conf)
    return pack_model(config, pth, root / "model.zip")


@pytest.fixture(scope="module", params=["onnx", "torch"])
def streaming_s2au(request, causal_zip, tmp_path_factory):
    from espnet_cause.inference import Speech2AU

    cache = tmp_path_factory.mktemp("causal_cache")
    return Speech2AU(causal_zip, backend=request.param, cache_dir=cache)


def _stream(s2au, chunks) -> np.ndarray:
    stream = s2au.streamer()
    rows = [stream.accept(c) for c in chunks] + [stream.finish()]
    return np.concatenate([np.asarray(r) for r in rows])


def test_int16_chunks_to_streamer(streaming_s2au):
    """int16 chunks are scaled as offline inference scales them (they were read as floats)."""
    pcm = (_speech(1.0) * 32767).astype(np.int16)
    chunks = [pcm[i : i + 640] for i in range(0, len(pcm), 640)]
    floats = [c.astype(np.float32) / 32768.0 for c in chunks]
    streamed = _stream(streaming_s2au, chunks)
    np.testing.assert_allclose(streamed, _stream(streaming_s2au, floats), atol=1e-6)
    np.testing.assert_allclose(streamed, streaming_s2au(pcm, FS), atol=1e-3)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_nan_or_inf_chunk_to_streamer(streaming_s2au, bad_value):
    """A NaN or inf chunk is refused as offline inference refuses it; the stream goes on."""
    from espnet_cause.errors import CauseError

    x = _speech(1.0)
    chunks = [x[i : i + 640] for i in range(0, len(x), 640)]
    bad = chunks[3].copy()
    bad[10] = bad_value
    with pytest.raises(CauseError, match="1 NaN or infinite samples"):
        streaming_s2au(np.concatenate([x[:1000], bad]), FS)
    stream = streaming_s2au.streamer()
    rows = [stream.accept(c) for c in chunks[:3]]
    with pytest.raises(CauseError, match="stream chunk: audio has 1 NaN or infinite samples"):
        stream.accept(bad)
    rows += [stream.accept(c) for c in chunks[3:]] + [stream.finish()]
    clean = np.concatenate([np.asarray(r) for r in rows])
    np.testing.assert_allclose(clean, _stream(streaming_s2au, chunks), atol=1e-6)


def test_sample_rates_outside_the_range(streaming_s2au):
    """4000-384000 Hz offline and in the stream protocol alike; others refused by name."""
    from espnet_cause.errors import CauseError
    from espnet_cause.serve import protocol

    for rate in (1, 3999, 384001):
        with pytest.raises(CauseError, match=f"clip.wav: sample rate {rate} Hz is outside"):
            streaming_s2au(_speech(0.5), rate, name="clip.wav")
        with pytest.raises(protocol.ProtocolError, match="out of range; send 4000..384000"):
            protocol.parse_text(json.dumps({"sample_rate": rate}), False)
    for rate in (4000, 384000):
        assert protocol.parse_text(json.dumps({"sample_rate": rate}), False).sample_rate == rate
        assert len(streaming_s2au(np.resize(_speech(0.5), rate // 2), rate)) == 13  # 0.5 s


def _png_header(width: int, height: int) -> bytes:
    """A small PNG file whose header says ``width`` x ``height`` (a decompression bomb's)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _wav_bytes(seconds: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, _speech(seconds), FS, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def service(causal_zip, face_model, tmp_path_factory):
    """The service on the tiny causal model, with faces; server errors become responses."""
    from starlette.testclient import TestClient

    from espnet_cause.inference import Speech2AU
    from espnet_cause.serve.app import create_app

    s2au = Speech2AU(causal_zip, cache_dir=tmp_path_factory.mktemp("service_cache"))
    app = create_app(speech2au=s2au, face_landmarker_path=face_model)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


BOMB = _png_header(30000, 30000)
#: (name, method, path, request keyword arguments, status, fragments of the JSON error)
HTTP_CATALOGUE = [
    ("bomb_png_to_image", "post", "/image", {"files": {"image": ("big.png", BOMB)}}, 422,
     ("image has more than 40 megapixels", "900000000 pixels")),
    ("bomb_png_to_render", "post", "/render",
     {"files": {"image": ("big.png", BOMB), "audio": ("a.wav", _wav_bytes(0.5))}}, 422,
     ("image has more than 40 megapixels",)),
    ("two_audio_files", "post", "/infer",
     {"files": [("audio", ("a.wav", _wav_bytes(0.5))), ("audio", ("b.wav", _wav_bytes(0.5)))]},
     400, ("'audio' was sent 2 times", "received: audio (file), audio (file)")),
    ("fields_received_named", "post", "/render",
     {"files": {"photo": ("f.jpg", b"x"), "speech": ("a.wav", b"x")}}, 400,
     ("field 'image' is missing", "received: photo (file), speech (file)")),
    ("bad_multipart_body", "post", "/infer",
     {"content": b"--XX\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XX--\r\n",
      "headers": {"content-type": "multipart/form-data; boundary=XX"}}, 400,
     ("bad multipart/form-data body", "Content-Disposition", "['audio']")),
    ("multipart_without_boundary", "post", "/infer",
     {"content": b"x", "headers": {"content-type": "multipart/form-data"}}, 400,
     ("bad multipart/form-data body", "Missing boundary")),
    ("unknown_path", "get", "/nothing/here", {}, 404, ("Not Found",)),
    ("wrong_method", "get", "/infer", {}, 405, ("Method Not Allowed",)),
]  # fmt: skip


@pytest.mark.parametrize("row", HTTP_CATALOGUE, ids=[r[0] for r in HTTP_CATALOGUE])
def test_bad_request(service, row):
    """Every 4xx is JSON ``{"error": ...}`` naming what was wrong; none is a 500."""
    _, method, path, kwargs, status, fragments = row
    r = getattr(service, method)(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json", r.text
    error = r.json()["error"]
    for fragment in fragments:
        assert fragment in error, error


def test_trickling_streams_are_closed(causal_zip, tmp_path_factory):
    """A client sending 2 bytes at a time is closed once it is far behind real time, and its
    slot is free again (an idle timeout alone does not catch it: it never goes quiet)."""
    from starlette.testclient import TestClient

    from espnet_cause.inference import Speech2AU
    from espnet_cause.serve import protocol
    from espnet_cause.serve.app import create_app

    s2au = Speech2AU(causal_zip, cache_dir=tmp_path_factory.mktemp("trickle_cache"))
    app = create_app(speech2au=s2au, max_streams=1, idle_seconds=5.0, min_audio_rate=0.5,
                     stream_grace_seconds=0.3)  # fmt: skip
    with TestClient(app) as client:
        with client.websocket_connect("/stream") as slow:
            slow.send_bytes(b"\x01\x00")
            with client.websocket_connect("/stream") as other:  # the only slot is held
                assert json.loads(other.receive_text())["message"].startswith("server busy")
            slow.send_bytes(b"\x01\x00")
            message = json.loads(slow.receive_text())
            assert message["type"] == "error", message
            assert "stream too slow: 0.00 s of audio in" in message["message"]
            assert "at least 0.5 s of audio per second after the first 0.3 s" in message["message"]
            assert slow.receive()["code"] == protocol.CLOSE_PROTOCOL
        with client.websocket_connect("/stream") as again:  # the slot is free
            again.send_bytes(_wav_bytes(0.5)[44:])
            again.send_text('{"type": "end"}')
            messages = [json.loads(again.receive_text()) for _ in range(14)]
            assert messages[-1] == {"type": "end", "frames": 13}


def _make_deps(tmp_path: Path, uid: int, apt: bool) -> subprocess.CompletedProcess:
    """``make deps`` on a machine whose three packages are missing, as user ``uid`` (a stub
    ``id``), with a stub ``apt-get`` that records its calls (``apt``) or none at all."""
    stubs = tmp_path / f"bin{uid}{int(apt)}"
    stubs.mkdir()
    (stubs / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (stubs / "sudo").write_text("#!/bin/sh\nexit 1\n")  # asks for a password: not usable
    if apt:
        (stubs / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path / "apt.log"}\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    # without a usable apt-get: only the stubs and the shell's basic tools, not /usr/bin/apt-get
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for name in ("grep", "basename", "env", "sh", "bash", "cat"):
        if not (tools / name).exists() and shutil.which(name):
            (tools / name).symlink_to(shutil.which(name))
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [shutil.which("make"), "-s", "-C", str(root), "deps", "LDCONFIG=false",
         "CHROMIUM=/nonexistent/chromium", "CHROMEDRIVER=/nonexistent/chromedriver"],
        env={"PATH": f"{stubs}:{tools}", "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_fresh_machine_without_debian_packages(tmp_path):
    """``make test`` runs ``make deps``: it installs the Debian packages the tests need when it
    can (root and apt-get), else names them and the command, and fails instead of skipping."""
    packages = "libflite1 chromium chromium-driver"
    cannot = _make_deps(tmp_path, uid=1000, apt=True)
    assert cannot.returncode != 0
    assert f"missing: {packages}" in cannot.stderr, cannot.stderr
    assert f"fix: sudo apt-get update && sudo apt-get install -y {packages}" in cannot.stderr
    assert not (tmp_path / "apt.log").exists()
    no_apt = _make_deps(tmp_path, uid=0, apt=False)
    assert no_apt.returncode != 0 and f"missing: {packages}" in no_apt.stderr, no_apt.stderr
    can = _make_deps(tmp_path, uid=0, apt=True)
    assert can.returncode == 0, can.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "update -qq",
        f"install -y -qq {packages}",
    ]
    assert f"deps: installed {packages}" in can.stdout
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "\ntest: install deps\n" in makefile


@pytest.fixture(scope="module")
def phoneme_voice(tiny_fastspeech2_au, tmp_path_factory) -> list[str]:
    """The tiny FastSpeech2AU with eSpeak phoneme tokens for its 5 symbols, as stage 8's voices
    have (the weights are the same; only the names of the tokens change)."""
    exp, _ = tiny_fastspeech2_au
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    assert conf["token_list"] == ["<blank>", "<unk>", "a", "b", "c", "d", "e", "<sos/eos>"]
    conf["token_list"] = ["<blank>", "<unk>", "_", "h", "@", "l", "'oU", "<sos/eos>"]
    config = tmp_path_factory.mktemp("phoneme_voice") / "config.yaml"
    config.write_text(yaml.safe_dump(conf))
    return ["--train_config", config, "--model_file", exp / "1epoch.pth"]


def test_tts_plain_text_is_phonemised_and_voiced(phoneme_voice, tmp_path, capsys):
    """``--text hello`` is phonemised as stage 8 phonemises (it was fed as the token "hello",
    i.e. <unk>), and the default vocoder gives speech with a pitch Praat finds."""
    from espnet_cause.tts.prosody import f0_track

    out = tmp_path / "hello.wav"
    code, _, err = run_cli("au_tts_infer", phoneme_voice + ["--text", "hello", "--output", out],
                           capsys)  # fmt: skip
    assert code == 0, err
    assert "phonemised 'hello' with eSpeak (en): _ h @ l 'oU _" in err
    wav, fs = sf.read(out, dtype="float32")
    f0 = f0_track(wav, fs)
    assert (f0 > 0).sum() >= 5, f"Praat found pitch in {(f0 > 0).sum()} of {len(f0)} frames"
    # the model's own tokens are still accepted, and unknown ones are refused by name
    code, _, err = run_cli("au_tts_infer", phoneme_voice + ["--text", "h @ l 'oU", "--tokens",
                           "--output", tmp_path / "tokens.wav"], capsys)  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli("au_tts_infer", phoneme_voice + ["--text", "hello world",
                           "--tokens", "--output", tmp_path / "no.wav"], capsys)  # fmt: skip
    assert (
        code == 2 and "2 token(s) of the text are not in the model's token list: hello world" in err
    )
    assert not (tmp_path / "no.wav").exists()
