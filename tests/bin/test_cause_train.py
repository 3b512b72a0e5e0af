"""cause_train: collect_stats then one epoch on a tiny generated dump dir, then reload."""

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_cause.bin import cause_train
from espnet_cause.errors import CauseError

FS = 16000
AU_FPS = 25

TINY_CONF = {
    "frontend": "default",
    "frontend_conf": {
        "fs": FS,
        "n_fft": 512,
        "win_length": 400,
        "hop_length": 160,
        "n_mels": 8,
        "frontend_conf": None,
    },
    "normalize": "global_mvn",
    "au_normalize": "global_mvn",
    "au_normalize_conf": {"eps": 1.0e-2},
    "encoder": "cnn",
    "encoder_conf": {"hidden_size": 8, "channels": [8, 4], "causal": True},
    "model_conf": {"au_fps": AU_FPS},
    "batch_type": "unsorted",
    "batch_size": 2,
    "max_epoch": 1,
    "optim": "adam",
    "num_workers": 0,
    "num_threads": 1,
    "use_tensorboard": False,
    "best_model_criterion": [["valid", "loss", "min"], ["valid", "pcc", "max"]],
}


def make_dump(root, name: str, num: int, seed: int) -> None:
    import kaldiio

    rng = np.random.default_rng(seed)
    d = root / "dump" / name
    (d / "wav").mkdir(parents=True)
    with (
        open(d / "wav.scp", "w") as wav_scp,
        kaldiio.WriteHelper(f"ark,scp:{d / 'au.ark'},{d / 'au.scp'}") as writer,
    ):
        for i in range(num):
            key = f"{name}{i:02d}"
            n = int(FS * rng.uniform(0.4, 0.8))
            path = d / "wav" / f"{key}.wav"
            sf.write(path, (0.1 * rng.standard_normal(n)).astype(np.float32), FS)
            wav_scp.write(f"{key} {path}\n")
            frames = int(np.ceil(n / FS * AU_FPS))
            writer(key, (5 * rng.random((frames, 17))).astype(np.float32))


def data_args(root, stats: bool) -> list[str]:
    args = []
    for mode, name in (("train", "train"), ("valid", "valid")):
        d = root / "dump" / name
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/wav.scp,speech,sound"]
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/au.scp,au,kaldi_ark"]
        shape = f"{d}/wav.scp" if stats else f"{root}/exp/stats/{mode}/speech_shape"
        args += [f"--{mode}_shape_file", shape]
    return args


def test_get_parser():
    parser = cause_train.get_parser()
    args = parser.parse_args(["--encoder", "dcnn", "--model_conf", "ccc_weight=0.5"])
    assert args.encoder == "dcnn" and args.model_conf["ccc_weight"] == 0.5


def test_collect_stats_train_and_reload(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_dump(tmp_path, "train", 4, 0)
    make_dump(tmp_path, "valid", 2, 1)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONF))

    # stage 3: statistics (the normalisers are not built yet)
    cause_train.main(
        ["--collect_stats", "true", "--config", str(conf), "--output_dir", "exp/stats"]
        + data_args(tmp_path, stats=True)
    )
    stats = tmp_path / "exp/stats/train"
    for name in ("feats_stats.npz", "au_stats.npz", "speech_shape", "au_shape"):
        assert (stats / name).is_file(), name
    au_stats = np.load(stats / "au_stats.npz")
    assert au_stats["sum"].shape == (17,) and int(au_stats["count"]) > 0
    assert np.load(stats / "feats_stats.npz")["sum"].shape == (8,)

    # stage 4: one epoch
    cause_train.main(
        [
            "--config",
            str(conf),
            "--output_dir",
            "exp/cause",
            "--normalize_conf",
            "stats_file=exp/stats/train/feats_stats.npz",
            "--au_normalize_conf",
            "stats_file=exp/stats/train/au_stats.npz",
        ]
        + data_args(tmp_path, stats=False)
    )
    exp = tmp_path / "exp/cause"
    assert (exp / "valid.loss.best.pth").is_file() and (exp / "valid.pcc.best.pth").is_file()

    # reload from another working directory: stats paths resolve next to the config
    from espnet_cause.tasks.cause import CAUSETask

    moved = tmp_path / "moved"
    moved.mkdir()
    cfg = yaml.safe_load((exp / "config.yaml").read_text())
    (moved / "config.yaml").write_text(yaml.safe_dump(cfg))
    for name in ("feats_stats.npz", "au_stats.npz"):
        (moved / name).write_bytes((stats / name).read_bytes())
    (moved / "model.pth").write_bytes((exp / "valid.loss.best.pth").read_bytes())
    monkeypatch.chdir(moved)
    model, _ = CAUSETask.build_model_from_file(moved / "config.yaml", moved / "model.pth")
    model.eval()
    out = model.inference(torch.randn(8000) * 0.1)
    assert out.shape == (13, 17)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 5.0

    # a truncated weights file names the file
    bad = moved / "bad.pth"
    bad.write_bytes((moved / "model.pth").read_bytes()[:100])
    with pytest.raises(CauseError, match="bad.pth"):
        CAUSETask.build_model_from_file(moved / "config.yaml", bad)
    (moved / "au_stats.npz").unlink()
    with pytest.raises(CauseError, match="au_stats.npz"):
        CAUSETask.build_model_from_file(moved / "config.yaml", moved / "model.pth")
