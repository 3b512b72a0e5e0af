"""Per-item batch runs: errors become records, the journal resumes, Dask gives the same results."""

import json

import pytest

from espnet_cause.errors import CauseError
from espnet_cause.jobs.parallel import load_parallel_config, read_journal, run_items


def square(key, payload, offset=0):
    if payload < 0:
        raise CauseError("negative input", path=f"{key}.wav")
    return {"value": payload * payload + offset}


def make_env():
    return {"offset": 100}


def test_in_process_errors_and_resume(tmp_path):
    journal = tmp_path / "j.jsonl"
    items = [("a", 2), ("b", -1), ("c", 3)]
    records = run_items(items, square, journal=journal, setup_fn=make_env)
    assert records["a"] == {"value": 104, "status": "ok", "key": "a"}
    assert records["b"]["status"] == "error" and "b.wav: negative input" in records["b"]["reason"]
    # A torn last line (crash while writing) is ignored; finished items are not run again.
    with open(journal, "a") as f:
        f.write('{"key": "d", "sta')
    calls = []

    def tracking(key, payload, **env):
        calls.append(key)
        return square(key, payload, **env)

    records = run_items(items + [("d", 4)], tracking, journal=journal, setup_fn=make_env)
    assert calls == ["d"] and records["d"]["value"] == 116
    assert set(read_journal(journal)) == {"a", "b", "c", "d"}


def test_dask_local_cluster_matches_in_process(tmp_path):
    conf = tmp_path / "local.yaml"
    conf.write_text(
        "env: local\nn_workers: 2\noptions:\n  threads_per_worker: 1\n  dashboard_address: null\n"
    )
    config = load_parallel_config(conf)
    items = [(f"u{i}", i) for i in range(6)]
    records = run_items(
        items, square, journal=tmp_path / "j.jsonl", setup_fn=make_env, parallel_config=config
    )
    assert {k: r["value"] for k, r in records.items()} == {f"u{i}": i * i + 100 for i in range(6)}
    lines = (tmp_path / "j.jsonl").read_text().splitlines()
    assert sorted(json.loads(ln)["key"] for ln in lines) == [k for k, _ in items]


def test_config_errors(tmp_path):
    assert load_parallel_config(None) is None and load_parallel_config("none") is None
    with pytest.raises(CauseError, match="parallel config not found"):
        load_parallel_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_workers: 2\n")
    with pytest.raises(CauseError, match="has no 'env'"):
        load_parallel_config(bad)
