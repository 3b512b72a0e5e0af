"""The catalogue of bad inputs: one row per input, its exit code, message and what it must not write.

Each row runs a CLI in-process on a prepared work directory. Rows that must fail check the exit
code (2: one line on stderr naming the file) and that no file of the work directory was created,
changed or removed. Batch rows that must skip an item check exit 0, the reason in the report, and
the same "nothing outside the output directory" rule.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

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
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path_factory.mktemp("cache")))


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


@dataclasses.dataclass(frozen=True)
class Bad:
    """A bad input: how to make it, the exit code, and fragments the message must (not) hold.

    ``code`` 2 rows must write nothing. ``code`` 0 rows are handled (skipped with a reason or
    repaired with a warning): ``message`` is looked for in ``report`` (a file the run writes,
    relative to the work directory) or else in the log, and only ``res/`` may change.
    """

    make: Callable
    code: int
    message: tuple[str, ...]
    absent: tuple[str, ...] = ()
    report: str | None = None


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


@pytest.mark.parametrize("bad", CATALOGUE, ids=[b.make.__name__ for b in CATALOGUE])
def test_bad_input(bad: Bad, work, capsys):
    w, undo = work
    cli, argv = bad.make(w, undo)
    capsys.readouterr()
    before = _snapshot(w.parent)  # the work directory and what is beside it
    code, out, err = run_cli(cli, argv, capsys)
    assert code == bad.code, err
    assert "Traceback" not in err
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
        return
    lines = [ln for ln in err.splitlines() if f"{cli}: error:" in ln]
    assert len(lines) == 1, err  # one line, no traceback
    for fragment in bad.message:
        assert fragment in lines[0], lines[0]
    for fragment in bad.absent:  # in the message, and nowhere in the output
        assert fragment not in lines[0] and fragment not in out, (lines[0], out)
    assert _snapshot(w.parent) == before, "the failed run wrote, changed or removed files"
