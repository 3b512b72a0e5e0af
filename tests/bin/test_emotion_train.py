"""The emotion recogniser: labels for a dump dir, collect_stats, one epoch, inference, scoring."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_cause.bin import emotion_infer, emotion_labels, emotion_score, emotion_train
from espnet_cause.emotion import EMOTIONS
from espnet_cause.errors import CauseError

FS = 16000
AU_FPS = 25
CLASSES = ["neutral", "happy", "sad"]

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
    "encoder": "cnn",
    "encoder_conf": {"hidden_size": 8, "channels": [8, 4]},
    "model_conf": {"au_fps": AU_FPS, "classes": CLASSES},
    "batch_type": "unsorted",
    "batch_size": 2,
    "max_epoch": 1,
    "optim": "adam",
    "num_workers": 0,
    "num_threads": 1,
    "use_tensorboard": False,
    "best_model_criterion": [["valid", "acc", "max"]],
}


def make_sets(root, name: str, num: int, seed: int) -> None:
    """data/<name>/emotion (class names) and dump/<name>/wav.scp (random speech)."""
    rng = np.random.default_rng(seed)
    data, dump = root / "data" / name, root / "dump" / name
    (dump / "wav").mkdir(parents=True)
    data.mkdir(parents=True)
    with open(dump / "wav.scp", "w") as wav_scp, open(data / "emotion", "w") as labels:
        for i in range(num):
            key = f"{name}{i:02d}"
            n = int(FS * rng.uniform(0.4, 0.8))
            path = dump / "wav" / f"{key}.wav"
            sf.write(path, (0.1 * rng.standard_normal(n)).astype(np.float32), FS)
            wav_scp.write(f"{key} {path}\n")
            labels.write(f"{key} {CLASSES[i % len(CLASSES)]}\n")


def data_args(root, stats: bool) -> list[str]:
    args = []
    for mode in ("train", "valid"):
        d = root / "dump" / mode
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/wav.scp,speech,sound"]
        args += [f"--{mode}_data_path_and_name_and_type", f"{d}/emotion,emotion,text_int"]
        shape = f"{d}/wav.scp" if stats else f"{root}/exp/stats/{mode}/speech_shape"
        args += [f"--{mode}_shape_file", shape]
    return args


def test_train_infer_score(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_sets(tmp_path, "train", 6, 0)
    make_sets(tmp_path, "valid", 3, 1)
    (tmp_path / "data/emotion_classes").write_text(" ".join(CLASSES) + "\n")
    for name in ("train", "valid"):
        emotion_labels.main(
            ["--data_dir", f"data/{name}", "--dump_dir", f"dump/{name}"]
            + ["--classes_file", "data/emotion_classes"]
        )
    first = (tmp_path / "dump/train/emotion").read_text().splitlines()[0]
    assert first == f"train00 {EMOTIONS.index('neutral')}"
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONF))
    emotion_train.main(
        ["--collect_stats", "true", "--config", str(conf), "--output_dir", "exp/stats"]
        + data_args(tmp_path, stats=True)
    )
    emotion_train.main(
        ["--config", str(conf), "--output_dir", "exp/emotion"]
        + ["--normalize_conf", "stats_file=exp/stats/train/feats_stats.npz"]
        + data_args(tmp_path, stats=False)
    )
    exp = tmp_path / "exp/emotion"
    assert (exp / "valid.acc.best.pth").is_file()

    from espnet_cause.inference.speech2emotion import Speech2Emotion

    s2e = Speech2Emotion(exp / "config.yaml", exp / "valid.acc.best.pth")
    post = s2e(0.1 * np.random.default_rng(5).standard_normal(12000).astype(np.float32), FS)
    assert post.shape == (19, 8)  # ceil(0.75 s * 25)
    np.testing.assert_allclose(post.sum(1), 1.0, atol=1e-5)
    masked = [i for i, e in enumerate(EMOTIONS) if e not in CLASSES]
    assert np.all(post[:, masked] == 0.0) and np.all(post[:, [0, 1, 3]] > 0)
    # 8 kHz input is resampled to the model's rate
    assert (
        s2e(np.random.default_rng(6).standard_normal(4000).astype(np.float32), 8000).shape[1] == 8
    )

    emotion_infer.main(
        ["--model_file", str(exp / "valid.acc.best.pth"), "--wav_scp", "dump/valid/wav.scp"]
        + ["--output_dir", "infer"]
    )
    table = (tmp_path / "infer/utterance.tsv").read_text().splitlines()
    assert table[0].split("\t") == ["utt", "predicted", *EMOTIONS] and len(table) == 4
    assert (tmp_path / "infer/posteriors.scp").read_text().count("\n") == 3
    emotion_score.main(
        ["--ref", "data/valid/emotion", "--hyp", "infer/utterance.tsv"]
        + ["--classes_file", "data/emotion_classes", "--output_dir", "score"]
    )
    scores = json.loads((tmp_path / "score/scores.json").read_text())
    assert scores["classes"] == ["neutral", "happy", "sad"] and scores["num_utterances"] == 3
    assert sum(map(sum, scores["confusion"])) == 3
    assert (tmp_path / "score/confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "macro-F1" in (tmp_path / "score/scores.md").read_text()


def test_labels_refuse_unknown_and_unlisted(tmp_path):
    make_sets(tmp_path, "train", 3, 0)
    labels = tmp_path / "data/train/emotion"
    labels.write_text(labels.read_text().replace("sad", "bored"))
    with pytest.raises(SystemExit) as e:
        emotion_labels.main(
            ["--data_dir", str(labels.parent), "--dump_dir", str(tmp_path / "dump/train")]
        )
    assert e.value.code == 2
    from espnet_cause.corpora.emotions import write_emotion_labels

    with pytest.raises(CauseError, match=r"emotion:3: unknown emotion label 'bored'"):
        write_emotion_labels(labels.parent, tmp_path / "dump/train")
    labels.write_text(labels.read_text().replace("bored", "sad"))
    with pytest.raises(CauseError, match=r"emotion:3: label 'sad' is not one"):
        write_emotion_labels(labels.parent, tmp_path / "dump/train", ("neutral", "happy"))
    assert not (tmp_path / "dump/train/emotion").exists()


def test_model_masks_and_forward_backward():
    from espnet_cause.tasks.emotion import EmotionTask

    args = EmotionTask.get_parser().parse_args([])
    for key, value in TINY_CONF.items():
        setattr(args, key, value)
    args.normalize = None
    model = EmotionTask.build_model(args)
    speech = 0.1 * torch.randn(2, 8000)
    lengths = torch.tensor([8000, 6000])
    labels = torch.tensor([[EMOTIONS.index("sad")], [EMOTIONS.index("happy")]])
    loss, stats, _ = model(speech, lengths, labels, torch.ones(2, dtype=torch.long))
    loss.backward()
    assert torch.isfinite(loss) and 0.0 <= float(stats["acc"]) <= 1.0
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    post, n = model.predict(speech, lengths)
    assert post.shape == (2, 13, 8) and n.tolist() == [13, 10]
    assert float(post[1, 10:].abs().sum()) == 0.0  # padding frames
    np.testing.assert_allclose(post[1, :10].sum(-1).numpy(), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="angry"):
        model(speech, lengths, torch.tensor([[EMOTIONS.index("angry")]] * 2))
