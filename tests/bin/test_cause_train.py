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


def make_dump(root, name: str, num: int, seed: int, width: int = 17) -> None:
    """Random speech and labels: ``au.scp`` (17 AUs 0-5), or ``blendshapes.scp`` for width 51."""
    import kaldiio

    rng = np.random.default_rng(seed)
    d = root / "dump" / name
    (d / "wav").mkdir(parents=True)
    with (
        open(d / "wav.scp", "w") as wav_scp,
        kaldiio.WriteHelper(
            f"ark,scp:{d / 'au.ark'},{d / ('au.scp' if width == 17 else 'blendshapes.scp')}"
        ) as writer,
    ):
        for i in range(num):
            key = f"{name}{i:02d}"
            n = int(FS * rng.uniform(0.4, 0.8))
            path = d / "wav" / f"{key}.wav"
            sf.write(path, (0.1 * rng.standard_normal(n)).astype(np.float32), FS)
            wav_scp.write(f"{key} {path}\n")
            frames = int(np.ceil(n / FS * AU_FPS))
            scale = 5.0 if width == 17 else 1.0
            writer(key, (scale * rng.random((frames, width))).astype(np.float32))


def data_args(root, stats: bool, labels: str = "au.scp") -> list[str]:
    args = []
    for mode, name in (("train", "train"), ("valid", "valid")):
        d = root / "dump" / name
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/wav.scp,speech,sound"]
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/{labels},au,kaldi_ark"]
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


def test_target_arkit_trains_one_epoch_on_blendshapes(tmp_path, monkeypatch):
    """target: arkit: 51 blendshape labels, their own stats, outputs on 0..1, packed and served."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    make_dump(tmp_path, "train", 4, 0, width=51)
    make_dump(tmp_path, "valid", 2, 1, width=51)
    conf = dict(TINY_CONF, model_conf={"au_fps": AU_FPS, "target": "arkit"})
    (tmp_path / "arkit.yaml").write_text(yaml.safe_dump(conf))
    base = ["--config", str(tmp_path / "arkit.yaml")]
    data = data_args(tmp_path, stats=True, labels="blendshapes.scp")
    cause_train.main(base + ["--collect_stats", "true", "--output_dir", "exp/stats"] + data)
    assert np.load(tmp_path / "exp/stats/train/au_stats.npz")["sum"].shape == (51,)
    cause_train.main(
        base
        + ["--output_dir", "exp/arkit"]
        + ["--normalize_conf", "stats_file=exp/stats/train/feats_stats.npz"]
        + ["--au_normalize_conf", "stats_file=exp/stats/train/au_stats.npz"]
        + data_args(tmp_path, stats=False, labels="blendshapes.scp")
    )
    exp = tmp_path / "exp/arkit"
    assert yaml.safe_load((exp / "config.yaml").read_text())["model_conf"]["target"] == "arkit"
    from espnet_cause.inference.packing import pack_model
    from espnet_cause.inference.speech2au import Speech2AU

    zip_path = pack_model(exp / "config.yaml", exp / "valid.loss.best.pth", tmp_path / "m.zip")
    s2a = Speech2AU(str(zip_path))
    out = s2a(0.1 * np.random.default_rng(3).standard_normal(8000).astype(np.float32), FS)
    assert s2a.target == "arkit" and out.shape == (13, 51)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert s2a.to_aus(out).shape == (13, 17) and s2a.arkit(out).shape == (13, 52)


def test_mixed_training_with_au_weight(tmp_path, monkeypatch):
    """A tiny "real" set (upper face weighted 0) mixed with a "synthetic" one by combine_data:
    the real utterances' upper-face labels teach nothing, so changing them leaves the trained
    weights bit-identical; without au_weight they change the model."""
    from espnet_cause.au import AU_NAMES
    from espnet_cause.bin import combine_data
    from espnet_cause.io.au_files import read_au_scp
    from espnet_cause.io.au_weight import write_au_weights

    monkeypatch.chdir(tmp_path)
    for name, num, seed in (("real", 2, 0), ("synth", 2, 1), ("real_valid", 1, 2)):
        make_dump(tmp_path, name, num, seed)
        (tmp_path / "dump" / name / "utt2spk").write_text(
            "".join(
                f"{u} {name}\n" for u in sorted(read_au_scp(tmp_path / "dump" / name / "au.scp"))
            )
        )
    upper = [AU_NAMES.index(a) for a in ("AU01", "AU02", "AU45")]
    w = np.ones(17, np.float32)
    w[upper] = 0.0
    for name in ("real", "real_valid"):
        keys = read_au_scp(tmp_path / "dump" / name / "au.scp")
        write_au_weights(tmp_path / "dump" / name, {k: w for k in keys})
    for out, inputs in (("train", ["real", "synth"]), ("valid", ["real_valid"])):
        args = [a for i in inputs for a in ("--input", f"dump/{i}")]
        combine_data.main(args + ["--output_dir", f"dump/{out}"])
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONF))
    cause_train.main(
        ["--collect_stats", "true", "--config", str(conf), "--output_dir", "exp/stats"]
        + data_args(tmp_path, stats=True)
    )

    def train(out: str, weighted: bool) -> dict:
        extra = []
        if weighted:
            for mode in ("train", "valid"):
                scp = tmp_path / "dump" / mode / "au_weight.scp"
                extra += [f"--{mode}_data_path_and_name_and_type", f"{scp},au_weight,npy"]
        cause_train.main(
            ["--config", str(conf), "--output_dir", out, "--seed", "0"]
            + ["--normalize_conf", "stats_file=exp/stats/train/feats_stats.npz"]
            + ["--au_normalize_conf", "stats_file=exp/stats/train/au_stats.npz"]
            + data_args(tmp_path, stats=False)
            + extra
        )
        return torch.load(tmp_path / out / "1epoch.pth", map_location="cpu")

    weighted = train("exp/w", weighted=True)
    plain = train("exp/p", weighted=False)
    # the real utterances' upper-face labels, changed in place (same ark offsets)
    import kaldiio

    ark = tmp_path / "dump/real/au.ark"
    labels = dict(kaldiio.load_ark(str(ark)))
    with kaldiio.WriteHelper(f"ark,scp:{ark},{tmp_path / 'dump/real/au.scp'}") as writer:
        for key in sorted(labels):
            changed = labels[key].copy()
            changed[:, upper] = 5.0 - changed[:, upper]
            writer(key, changed)
    combine_data.main(
        ["--input", "dump/real", "--input", "dump/synth", "--output_dir", "dump/train"]
    )
    weighted2 = train("exp/w2", weighted=True)
    plain2 = train("exp/p2", weighted=False)
    assert all(torch.equal(weighted[k], weighted2[k]) for k in weighted)
    assert not all(torch.equal(plain[k], plain2[k]) for k in plain)
