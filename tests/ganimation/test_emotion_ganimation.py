"""Emotion-conditioned GANimation: 8-dim condition, classification head, training and rendering."""

import numpy as np
import pytest
import torch
import yaml
from made_fixtures import TINY_GANIMATION_CONF, write_face_dir

from espnet_cause.bin import ganimation_train
from espnet_cause.emotion import EMOTIONS, NUM_EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.ganimation.data import FaceEmotionDataset, crop_key
from espnet_cause.ganimation.discriminator import GANimationDiscriminator
from espnet_cause.ganimation.generator import GANimationGenerator
from espnet_cause.ganimation.losses import EmotionClassificationLoss

SIZE = TINY_GANIMATION_CONF["image_size"]
CONF = dict(TINY_GANIMATION_CONF, condition="emotion", emotion_loss_conf={"weight": 2.0})


def test_shapes_with_emotion_condition():
    g = GANimationGenerator(condition_size=NUM_EMOTIONS, conv_dim=4, num_res_blocks=1)
    d = GANimationDiscriminator(image_size=SIZE, condition_size=NUM_EMOTIONS, conv_dim=4,
                                num_layers=3, max_dim=16)  # fmt: skip
    image = torch.rand(3, 3, SIZE, SIZE) * 2 - 1
    cond = torch.softmax(torch.randn(3, NUM_EMOTIONS), -1)
    out, color, attention = g(image, cond)
    assert out.shape == color.shape == (3, 3, SIZE, SIZE) and attention.shape == (3, 1, SIZE, SIZE)
    critic, logits = d(out)
    assert critic.shape == (3, 1, SIZE // 8, SIZE // 8) and logits.shape == (3, NUM_EMOTIONS)
    # another emotion changes the output
    other = torch.eye(NUM_EMOTIONS)[[4, 4, 4]]
    assert not torch.allclose(g(image, other)[0], out)


def test_classification_loss_is_cross_entropy():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    target = torch.tensor([[0.0, 1.0, 0.0]])
    expected = -torch.log_softmax(logits, -1)[0, 1]
    assert torch.isclose(EmotionClassificationLoss(weight=3.0)(logits, target), 3 * expected)


def labelled_faces(tmp_path, num=6):
    faces = write_face_dir(tmp_path / "faces", num)
    labels = tmp_path / "emotion"
    # crops 0..num-2 are labelled (neutral / angry alternately); the last is not
    labels.write_text("".join(f"{i} {EMOTIONS.index(('neutral', 'angry')[i % 2])}\n"
                              for i in range(num - 1)))  # fmt: skip
    return faces, labels


def test_dataset_conditions(tmp_path):
    faces, labels = labelled_faces(tmp_path)
    ds = FaceEmotionDataset(faces, labels, image_size=SIZE, target_noise=0.2)
    assert len(ds) == 5 and crop_key("faces/utt-01_000035.png") == "utt-01"
    item = ds[1]
    assert item["image"].shape == (3, SIZE, SIZE)
    assert item["aus"].tolist() == np.eye(8)[EMOTIONS.index("angry")].tolist()
    target = item["target_aus"]
    assert target.shape == (8,) and abs(float(target.sum()) - 1.0) < 1e-6
    absent = [i for i, e in enumerate(EMOTIONS) if e not in ("neutral", "angry")]
    assert np.all(target[absent] == 0.0) and target.max() > 0.5


def test_one_training_step_and_render(tmp_path):
    faces, labels = labelled_faces(tmp_path)
    config = tmp_path / "conf.yaml"
    config.write_text(yaml.safe_dump(CONF))
    out = tmp_path / "exp"
    ganimation_train.main([
        "--config", str(config), "--train_dir", str(faces), "--emotion_labels", str(labels),
        "--output_dir", str(out), "--max_steps", "2",
    ])  # fmt: skip
    ckpt = torch.load(out / "checkpoint.pth", weights_only=True)
    assert ckpt["step"] == 2 and ckpt["generator_conf"]["condition_size"] == NUM_EMOTIONS
    assert ckpt["discriminator"]["au_head.weight"].shape[0] == NUM_EMOTIONS
    from espnet_cause.ganimation.renderer import GANimationRenderer

    renderer = GANimationRenderer(out / "generator.pth", backend="fp32")
    assert renderer.condition_size == NUM_EMOTIONS
    post = np.full((3, 8), 0.125, np.float32)
    frames = renderer.render_conditions(np.zeros((SIZE, SIZE, 3), np.uint8), post)
    assert frames.shape == (3, SIZE, SIZE, 3) and frames.dtype == np.uint8
    with pytest.raises(ValueError, match=r"\(T, 17\)"):
        renderer.render(np.zeros((SIZE, SIZE, 3), np.uint8), post)


def test_bad_emotion_settings(tmp_path):
    from espnet_cause.ganimation.trainer import GANimationTrainer

    faces, labels = labelled_faces(tmp_path)
    with pytest.raises(CauseError, match="condition_size 17 with condition emotion"):
        GANimationTrainer(faces, tmp_path / "e", condition="emotion", emotion_labels=labels,
                          generator_conf={"condition_size": 17})  # fmt: skip
    with pytest.raises(CauseError, match="--emotion_labels"):
        GANimationTrainer(faces, tmp_path / "e", condition="emotion")
    labels.write_text("0 9\n")
    with pytest.raises(CauseError, match=r"emotion:1: class index '9'"):
        FaceEmotionDataset(faces, labels)
