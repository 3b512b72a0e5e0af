"""collect_stats CLI: ESPnet statistics in N jobs, aggregated, equal to one collect_stats run."""

import numpy as np
import pytest
import yaml
from test_cause_train import TINY_CONF, data_args, make_dump

from espnet_cause.bin import cause_train, collect_stats
from espnet_cause.errors import CauseError
from espnet_cause.tasks.collect_stats import split_key_file


def _shards_args(root):
    """data_args without the shape files (collect_stats takes those itself)."""
    args = data_args(root, stats=True)
    keep = []
    for i in range(0, len(args), 2):
        if not args[i].endswith("_shape_file"):
            keep += args[i : i + 2]
    return keep


def test_split_jobs_equal_one_job(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_dump(tmp_path, "train", 5, 0)
    make_dump(tmp_path, "valid", 3, 1)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONF))
    common = ["--config", str(conf)] + _shards_args(tmp_path)
    cause_train.main(
        ["--collect_stats", "true", "--output_dir", "exp/one"]
        + data_args(tmp_path, stats=True)
        + ["--config", str(conf)]
    )
    collect_stats.main(
        ["--nj", "2", "--output_dir", "exp/split", "--verbose", "0"]
        + ["--train_shape_file", "dump/train/wav.scp", "--valid_shape_file", "dump/valid/wav.scp"]
        + common
    )
    shards = sorted((tmp_path / "exp/split/split2").glob("train.*.scp"))
    assert [len(p.read_text().splitlines()) for p in shards] == [3, 2]
    for mode in ("train", "valid"):
        one, split = tmp_path / "exp/one" / mode, tmp_path / "exp/split" / mode
        for name in ("feats_stats.npz", "au_stats.npz"):
            a, b = np.load(one / name), np.load(split / name)
            assert sorted(a) == sorted(b) == ["count", "sum", "sum_square"]
            assert int(a["count"]) == int(b["count"]) > 0
            np.testing.assert_allclose(b["sum"], a["sum"], rtol=1e-6, err_msg=f"{mode}/{name}")
            np.testing.assert_allclose(b["sum_square"], a["sum_square"], rtol=1e-6)
        for name in ("speech_shape", "au_shape"):
            lines = sorted((one / name).read_text().splitlines())
            assert lines == sorted((split / name).read_text().splitlines()) and lines


def test_bad_arguments(tmp_path, capsys):
    (tmp_path / "one.scp").write_text("a x\n")
    with pytest.raises(CauseError, match=r"one.scp: 1 lines cannot be split into 2 jobs"):
        split_key_file(tmp_path / "one.scp", 2, [tmp_path / "1", tmp_path / "2"])
    required = ["--output_dir", "x", "--train_shape_file", "a", "--valid_shape_file", "b"]
    for bad, message in ((["--collect_stats", "true"], "--collect_stats is set by this command"),
                         (["--nj", "0"], "--nj 0 must be at least 1")):  # fmt: skip
        with pytest.raises(SystemExit) as e:
            collect_stats.main(required + bad)
        assert e.value.code == 2 and message in capsys.readouterr().err
