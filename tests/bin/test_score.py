"""The score CLI: scp and directory inputs, all outputs, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS
from espnet_cause.bin import score
from espnet_cause.io.au_files import AUArkWriter, write_au


def _streams(n_utts: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_utts):
        t = np.arange(50 + 7 * i)[:, None]
        out[f"utt{i}"] = (2.5 + 2 * np.sin(t / 4 + rng.uniform(0, 6, NUM_AUS))).astype(np.float32)
    return out


def test_get_parser():
    args = score.get_parser().parse_args(["--ref", "a", "--hyp", "b", "--output_dir", "c"])
    assert args.num_plots == score.DEFAULT_NUM_PLOTS


def test_score_cli_writes_all_outputs(tmp_path):
    ref = _streams(4, 0)
    with AUArkWriter(tmp_path / "ref/au.ark", tmp_path / "ref/au.scp", fps=25) as w:
        for k, v in ref.items():
            w.write(k, v)
    with AUArkWriter(tmp_path / "train/au.ark", tmp_path / "train/au.scp", fps=25) as w:
        for k, v in _streams(3, 1).items():
            w.write(k, v)
    # Predictions: a directory of npy files, noisy copies, one 4 frames short (cropped, warned).
    rng = np.random.default_rng(2)
    for k, v in ref.items():
        hyp = v + rng.normal(0, 0.3, v.shape).astype(np.float32)
        write_au(tmp_path / "hyp" / f"{k}.npy", hyp[:-4] if k == "utt1" else hyp)
    out = tmp_path / "score"
    score.main(
        [
            "--ref", str(tmp_path / "ref/au.scp"), "--hyp", str(tmp_path / "hyp"),
            "--train_ref", str(tmp_path / "train/au.scp"), "--output_dir", str(out),
            "--num_plots", "2",
        ]
    )  # fmt: skip
    result = json.loads((out / "scores.json").read_text())
    assert result["num_utterances"] == 4
    model = result["systems"]["model"]["mean"]
    assert model["pcc"] > 0.9
    assert set(result["systems"]) == {"model", "train_mean", "different_utterance"}
    assert result["systems"]["train_mean"]["mean"]["pcc"] is None
    assert all(result["model_beats"]["different_utterance"].values())
    assert result["length_differences"] == {"utt1": 4}
    md = (out / "scores.md").read_text()
    assert "| model |" in md and "| training-set mean |" in md and "Lips part" in md
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert pngs == ["utt0.png", "utt1.png"]
    assert (out / "plots/utt0.png").read_bytes()[:4] == b"\x89PNG"


def test_score_cli_bad_inputs(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        score.main(["--ref", str(tmp_path / "nope.scp"), "--hyp", str(tmp_path), "--output_dir",
                    str(tmp_path / "o")])  # fmt: skip
    assert e.value.code == 2
    assert "nope.scp" in capsys.readouterr().err
    write_au(tmp_path / "r/a.npy", np.ones((5, NUM_AUS)))
    write_au(tmp_path / "h/b.npy", np.ones((5, NUM_AUS)))
    with pytest.raises(SystemExit):
        score.main(["--ref", str(tmp_path / "r"), "--hyp", str(tmp_path / "h"), "--output_dir",
                    str(tmp_path / "o")])  # fmt: skip
    assert "no utterance id is in both" in capsys.readouterr().err


def test_score_csv_scp_and_rate_mismatch(tmp_path):
    from espnet_cause.io import timegrid

    ref = _streams(2, 3)
    lines = []
    for k, v in ref.items():
        write_au(tmp_path / "ref" / f"{k}.csv", v, fps=25)
        lines.append(f"{k} {tmp_path / 'ref' / f'{k}.csv'}\n")
    (tmp_path / "ref.scp").write_text("".join(lines))
    # predictions at 50 fps (npy + au_fps file, as infer --output_format npy writes them)
    for k, v in ref.items():
        write_au(tmp_path / "hyp" / f"{k}.npy", timegrid.to_fps(v, 25, 50, len(v) / 25))
    (tmp_path / "hyp" / "au_fps").write_text("50\n")
    out = tmp_path / "score"
    score.main(["--ref", str(tmp_path / "ref.scp"), "--hyp", str(tmp_path / "hyp"),
                "--output_dir", str(out), "--num_plots", "0", "--plot_aus", "AU12"])  # fmt: skip
    result = json.loads((out / "scores.json").read_text())
    assert result["fps"] == 25 and result["length_differences"] == {}
    assert result["systems"]["model"]["mean"]["pcc"] > 0.99
    assert any("resampled" in n for n in result["notes"])
    assert any("no --train_ref" in n for n in result["notes"])
    assert not (out / "plots").exists()


def test_score_arkit_blendshape_sets(tmp_path):
    """target: arkit sets are (T, 51) matrices on 0-1: named per blendshape, AU sets refused."""
    from espnet_cause.arkit import BLENDSHAPE_NAMES

    def write(name, streams):
        with AUArkWriter(tmp_path / name / "bs.ark", tmp_path / name / "blendshapes.scp",
                         fps=25, num_columns=51) as w:  # fmt: skip
            for k, v in streams.items():
                w.write(k, v)
        return tmp_path / name / "blendshapes.scp"

    rng = np.random.default_rng(0)
    ref = {k: np.clip(np.tile(v[:, :1] / 5, (1, 51)) + rng.uniform(0, 0.3, (len(v), 51)), 0, 1)
           for k, v in _streams(3, 0).items()}  # fmt: skip
    hyp = {k: np.clip(v + rng.normal(0, 0.05, v.shape), 0, 1) for k, v in ref.items()}
    result = score.run_scoring(
        write("ref", ref), write("hyp", hyp), tmp_path / "out",
        train_ref=write("train", ref), plot_aus=["jawOpen"],
    )  # fmt: skip
    per = result["systems"]["model"]["per_au"]["pcc"]
    assert list(per) == list(BLENDSHAPE_NAMES) and per["jawOpen"] > 0.8
    assert result["systems"]["model"]["mean"]["rmse"] < 0.1
    assert list(result["train_mean"]) == list(BLENDSHAPE_NAMES)
    md = (tmp_path / "out" / "scores.md").read_text()
    assert md.startswith("# ARKit blendshape estimation scores") and "| jawOpen |" in md
    assert "0-1 scale" in md
    assert (tmp_path / "out" / "plots" / "utt0.png").is_file()
    # an AU set against a blendshape set is refused per utterance
    with AUArkWriter(tmp_path / "au/au.ark", tmp_path / "au/au.scp", fps=25) as w:
        for k, v in _streams(3, 0).items():
            w.write(k, v)
    with pytest.raises(Exception, match="no utterance could be scored"):
        score.run_scoring(tmp_path / "au/au.scp", tmp_path / "hyp/blendshapes.scp", tmp_path / "x")
