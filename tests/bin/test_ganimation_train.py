"""ganimation_train CLI: a real run of a few steps, resume, and bad checkpoints/configs."""

import numpy as np
import pytest
import torch
import yaml
from made_fixtures import TINY_GANIMATION_CONF

from espnet_cause.bin import ganimation_train
from espnet_cause.errors import CauseError
from espnet_cause.ganimation.data import FaceAUDataset, read_au_table

CONF = TINY_GANIMATION_CONF
SIZE = CONF["image_size"]


@pytest.fixture
def faces(tmp_path):
    from made_fixtures import write_face_dir

    return write_face_dir(tmp_path / "faces", 6)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump(CONF))
    return path


def _run(*args):
    ganimation_train.main([*map(str, args), "--verbose", "0"])


def test_parser():
    args = ganimation_train.get_parser().parse_args(
        ["--train_dir", "a", "--output_dir", "b", "--max_steps", "3"]
    )
    assert args.max_steps == 3 and not args.resume


def test_dataset_scales_aus_by_named_constant(faces):
    ds = FaceAUDataset(faces, image_size=SIZE)
    _, raw = read_au_table(faces)
    item = ds[0]
    assert (
        item["image"].shape == (3, SIZE, SIZE)
        and -1 <= item["image"].min() <= item["image"].max() <= 1
    )
    np.testing.assert_allclose(item["aus"], raw[0] / 5.0, rtol=1e-6)
    assert 0 <= item["target_aus"].min() and item["target_aus"].max() <= 1


def test_train_resume_and_outputs(faces, config, tmp_path):
    out = tmp_path / "exp"
    _run("--config", config, "--train_dir", faces, "--output_dir", out)
    ckpt = torch.load(out / "checkpoint.pth", weights_only=True)
    assert ckpt["step"] == 4 and "optimizer_d" in ckpt and "optimizer_g" in ckpt
    assert (out / "generator.pth").is_file()
    assert any((out / "tensorboard").glob("events.out.tfevents.*"))
    # resume: continues from step 4 to the new max_steps, with the saved weights
    _run(
        "--config",
        config,
        "--train_dir",
        faces,
        "--output_dir",
        out,
        "--resume",
        "--max_steps",
        "6",
    )
    ckpt2 = torch.load(out / "checkpoint.pth", weights_only=True)
    assert ckpt2["step"] == 6
    changed = [
        not torch.equal(ckpt["generator"][k], ckpt2["generator"][k]) for k in ckpt["generator"]
    ]
    assert any(changed)
    # the exported generator renders
    from espnet_cause.ganimation.renderer import GANimationRenderer

    frames = GANimationRenderer(out / "generator.pth").render(
        np.zeros((SIZE, SIZE, 3), np.uint8), np.zeros((2, 17), np.float32)
    )
    assert frames.shape == (2, SIZE, SIZE, 3)


def test_resume_with_mismatched_checkpoint(faces, config, tmp_path, capsys):
    out = tmp_path / "exp"
    _run("--config", config, "--train_dir", faces, "--output_dir", out, "--max_steps", "1")
    bigger = yaml.safe_load(config.read_text())
    bigger["generator_conf"]["conv_dim"] = 8
    config.write_text(yaml.safe_dump(bigger))
    with pytest.raises(SystemExit) as e:
        _run("--config", config, "--train_dir", faces, "--output_dir", out, "--resume")
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "checkpoint.pth" in err and "generator weights do not match" in err
    (out / "checkpoint.pth").write_bytes(b"garbage")
    with pytest.raises(SystemExit):
        _run("--config", config, "--train_dir", faces, "--output_dir", out, "--resume")
    assert "not a PyTorch checkpoint" in capsys.readouterr().err


def test_bad_inputs(faces, config, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("batchsize: 3\n")
    with pytest.raises(CauseError, match="unknown setting"):
        ganimation_train.load_config(bad)
    (faces / "aus.csv").write_text("file,AU01_r\nfaces/0.png,1\n")
    with pytest.raises(CauseError, match="missing columns") as e:
        read_au_table(faces)
    assert "aus.csv:1" in str(e.value)
    with pytest.raises(SystemExit):
        _run(
            "--config", config, "--train_dir", tmp_path / "nowhere", "--output_dir", tmp_path / "x"
        )


@pytest.mark.parametrize("name", ["ganimation.yaml", "ganimation_ci.yaml", "ganimation_mini.yaml"])
def test_shipped_configs_load(name):
    from pathlib import Path

    conf = ganimation_train.load_config(Path(__file__).resolve().parents[2] / "conf" / name)
    assert conf["image_size"] == 128 and conf["max_steps"] > 0
