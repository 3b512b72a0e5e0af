"""The batch runner's guards: keys that cannot be file names, one writer per output directory
(with stale locks after kill -9 taken over), and damaged per-item results redone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from espnet_cause.errors import CauseError
from espnet_cause.jobs.batch import BatchDir, key_problem, output_lock, run_batch

REPO = Path(__file__).resolve().parents[1]


def write_item(key: str, payload: dict) -> dict:
    """A job item: one small array per key (module level, as run_batch wants)."""
    np.save(payload["output"], np.full((3, 17), payload["value"], np.float32))
    return {"value": payload["value"]}


@pytest.mark.parametrize(
    "key",
    ["../../ESCAPED", "/abs/KEY", "a/b", ".hidden", "..", "", "tab\there", "bell\x07", "x" * 201],
)
def test_keys_that_cannot_be_file_names(key):
    assert key_problem(key) is not None


@pytest.mark.parametrize("key", ["utt1", "spk-01_utt.2", "Ünïcode-ключ", "a..b", "x" * 200])
def test_ordinary_kaldi_keys(key):
    assert key_problem(key) is None


def test_bad_keys_are_reported_skips_naming_the_line(tmp_path):
    scp = tmp_path / "wav.scp"
    keys = ["good", "../../ESCAPED", "/abs/KEY", ".hidden"]
    scp.write_text("".join(f"{k} x.wav\n" for k in keys))
    out = tmp_path / "a" / "b" / "out"
    items = [(k, {"output": str(out / f"{k}.npy"), "value": 1.0}) for k in keys]
    out.mkdir(parents=True)
    records = run_batch(items, write_item, output_dir=out, settings={}, keys_from=scp)
    assert records["good"]["status"] == "ok"
    for lineno, key in enumerate(keys[1:], start=2):
        assert records[key]["status"] == "error"
        assert f"{scp}:{lineno}" in records[key]["reason"], records[key]
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.npy"))
    assert written == ["a/b/out/good.npy"]
    assert not Path("/abs/KEY.npy").exists()


def _holder_script(directory: Path, then: str) -> str:
    return textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from espnet_cause.jobs.batch import output_lock
        with output_lock({str(directory)!r}):
            print("held", flush=True)
            {then}
        """
    )


def _start_holder(directory: Path, then: str = "time.sleep(60)") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _holder_script(directory, then), "--marker-arg"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_refuses_naming_the_holder(tmp_path):
    out = tmp_path / "out"
    holder = _start_holder(out)
    try:
        with pytest.raises(CauseError) as e:
            run_batch([("k", {"output": str(out / "k.npy"), "value": 1.0})], write_item,
                      output_dir=out, settings={})  # fmt: skip
        text = str(e.value)
        assert f"pid {holder.pid}" in text and os.uname().nodename in text
        assert "started 20" in text and "--marker-arg" in text and "another run" in text
        assert not (out / "k.npy").exists()
        assert not BatchDir(out).journal.exists()
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_after_kill_9_is_taken_over(tmp_path, caplog):
    out = tmp_path / "out"
    holder = _start_holder(out)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    left = json.loads(BatchDir(out).lock.read_text())
    assert left["pid"] == holder.pid  # the dead run's lock is still there
    with caplog.at_level("WARNING"):
        records = run_batch([("k", {"output": str(out / "k.npy"), "value": 2.0})], write_item,
                            output_dir=out, settings={})  # fmt: skip
    assert records["k"]["status"] == "ok"
    assert "taking over a stale lock" in caplog.text and f"pid {holder.pid}" in caplog.text
    assert BatchDir(out).lock.read_text() == ""  # released


def test_lock_is_reentrant_and_released(tmp_path):
    out = tmp_path / "out"
    with output_lock(out):
        with output_lock(out):
            assert json.loads(BatchDir(out).lock.read_text())["pid"] == os.getpid()
        run_batch([("k", {"output": str(out / "k.npy"), "value": 1.0})], write_item,
                  output_dir=out, settings={})  # fmt: skip
    assert BatchDir(out).lock.read_text() == ""
    holder = _start_holder(out, then="pass")  # another process can take it now
    holder.wait(timeout=30)
    assert holder.returncode == 0


def test_damaged_item_result_is_redone(tmp_path):
    out = tmp_path / "out"
    where = BatchDir(out)
    items = [(k, {"output": str(where.item(k, ".npy")), "value": 3.0}) for k in ("a", "b")]

    def files(key):
        return [where.item(key, ".npy")]

    def run():
        where.items.mkdir(parents=True, exist_ok=True)
        return run_batch(items, write_item, output_dir=out, settings={}, item_files=files)

    run()
    clean = where.item("a", ".npy").read_bytes()
    where.item("a", ".npy").write_bytes(clean[:-10])  # torn by a crash or a full disk
    mtime_b = where.item("b", ".npy").stat().st_mtime_ns
    time.sleep(0.01)
    records = run()
    assert records["a"]["status"] == "ok"
    assert where.item("a", ".npy").read_bytes() == clean
    assert where.item("b", ".npy").stat().st_mtime_ns == mtime_b  # the intact one is kept
