"""pack_model --calibrate_dir: the mouth's swing scaled to a data dir's tracked faces."""

from __future__ import annotations

import io
import zipfile

import kaldiio
import numpy as np
import pytest
import yaml
from onnx_models import FS, signals, write_model

from espnet_cause.au import au_index
from espnet_cause.errors import CauseError
from espnet_cause.inference.calibration import measure_scale, scale_au_stats
from espnet_cause.io.au_weight import write_au_weights
from espnet_cause.io.audio import write_wav

AU25, AU26 = au_index("AU25"), au_index("AU26")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(config, weights, uncalibrated Speech2AU, dump dir) of a tiny causal cnn.

    The dump dir's labels are the model's own AUs with AU25 swung twice as far and AU26 half as
    far (around 1.0); frames 0-9 of every utterance weigh 0 and hold wild labels (5.0).
    """
    from espnet_cause.inference.speech2au import Speech2AU

    root = tmp_path_factory.mktemp("calibration")
    config, pth = write_model(root / "model", "cnn_c")
    model = Speech2AU(train_config=config, model_file=pth, backend="torch")
    dump = root / "dump"
    dump.mkdir()
    wavs, labels, weights = {}, {}, {}
    for name in ("loud", "zeros_then_speech"):
        write_wav(dump / f"{name}.wav", signals()[name], FS)
        wavs[name] = str(dump / f"{name}.wav")
        pred = model(signals()[name], FS)
        ref = pred.copy()
        for col, k in ((AU25, 2.0), (AU26, 0.5)):
            ref[:, col] = 1.0 + k * (pred[:, col] - 1.0)
        ref[:10] = 5.0
        labels[name] = ref.astype(np.float32)
        w = np.ones_like(ref)
        w[:10] = 0.0
        weights[name] = w
    (dump / "wav.scp").write_text("".join(f"{k} {v}\n" for k, v in sorted(wavs.items())))
    kaldiio.save_ark(str(dump / "au.ark"), labels, scp=str(dump / "au.scp"))
    write_au_weights(dump, weights)
    return config, pth, model, dump


def test_measure_scale_reads_the_weighted_frames(tiny):
    _, _, model, dump = tiny
    scales = measure_scale(model, dump)
    assert scales["AU25"].factor == pytest.approx(2.0, rel=1e-4)  # the wild frames are left out
    assert scales["AU26"].factor == pytest.approx(0.5, rel=1e-4)
    n = sum(len(model(signals()[k], FS)) - 10 for k in ("loud", "zeros_then_speech"))
    assert scales["AU25"].frames == n
    (dump / "au_weight.scp").rename(dump / "hidden.scp")
    try:  # without the weights the 5.0 frames count, and the factor is no longer 2
        assert measure_scale(model, dump, ("AU25",))["AU25"].factor > 2.5
    finally:
        (dump / "hidden.scp").rename(dump / "au_weight.scp")


def test_pack_model_folds_the_scale_into_the_de_normalisation(tiny, tmp_path):
    import torch

    from espnet_cause.bin.pack_model import main
    from espnet_cause.inference.speech2au import Speech2AU

    config, pth, model, dump = tiny
    out = tmp_path / "calibrated.zip"
    main(["--train_config", str(config), "--model_file", str(pth), "--output", str(out),
          "--calibrate_dir", str(dump)])  # fmt: skip
    with zipfile.ZipFile(out) as zf:
        meta = yaml.safe_load(zf.read("meta.yaml"))
        state = torch.load(io.BytesIO(zf.read("model.pth")), map_location="cpu")
        stats = np.load(io.BytesIO(zf.read("stats/au_stats.npz")))
        stats = {k: stats[k] for k in stats}
    assert meta["calibration"]["aus"]["AU25"]["factor"] == pytest.approx(2.0, rel=1e-3)
    base = torch.load(pth, map_location="cpu")
    ratio = (state["au_normalize.std"] / base["au_normalize.std"]).numpy()
    want = np.ones(17)
    want[AU25], want[AU26] = 2.0, 0.5
    np.testing.assert_allclose(ratio, want, rtol=1e-4)
    # the packed stats file gives the same std as the weights (the mean is kept)
    mean = stats["sum"] / stats["count"]
    std = np.sqrt(np.maximum(stats["sum_square"] / stats["count"] - mean**2, 1e-20))
    np.testing.assert_allclose(std, state["au_normalize.std"].numpy(), rtol=1e-4)
    np.testing.assert_allclose(mean, base["au_normalize.mean"].numpy(), rtol=1e-5)

    # outputs: mean + k * (uncalibrated - mean) inside the 0-5 range; other AUs unchanged;
    # the ONNX graphs carry the calibration too
    speech = signals()["loud"]
    before = model(speech, FS)
    after = Speech2AU(out, backend="torch")(speech, FS)
    np.testing.assert_allclose(Speech2AU(out, backend="onnx")(speech, FS), after, atol=1e-4)
    others = [c for c in range(17) if c not in (AU25, AU26)]
    np.testing.assert_allclose(after[:, others], before[:, others], atol=1e-5)
    m = base["au_normalize.mean"].numpy()
    for col, k in ((AU25, 2.0), (AU26, 0.5)):
        want = m[col] + k * (before[:, col] - m[col])
        inside = (before[:, col] > 0) & (before[:, col] < 5) & (want > 0) & (want < 5)
        assert inside.sum() > len(before) // 2
        np.testing.assert_allclose(after[inside, col], want[inside], atol=1e-4)


def test_calibration_refuses_what_it_cannot_measure(tiny, tmp_path):
    _, _, model, dump = tiny
    with pytest.raises(CauseError, match="unknown AU 'AU99'"):
        measure_scale(model, dump, ("AU99",))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "wav.scp").write_text("a /nowhere.wav\n")
    kaldiio.save_ark(str(empty / "au.ark"), {"b": np.zeros((3, 17), np.float32)},
                     scp=str(empty / "au.scp"))  # fmt: skip
    with pytest.raises(CauseError, match="no utterance has both audio"):
        measure_scale(model, empty)


def test_scale_au_stats_keeps_the_mean_and_scales_the_std():
    count = np.array(10.0)
    mean, std = np.array([1.0, 2.0]), np.array([0.5, 0.01])
    stats = {"count": count, "sum": mean * count, "sum_square": (std**2 + mean**2) * count}
    out = scale_au_stats(stats, np.array([2.0, 3.0]), eps=1e-2)
    new_mean = out["sum"] / count
    new_std = np.sqrt(out["sum_square"] / count - new_mean**2)
    np.testing.assert_allclose(new_mean, mean)
    np.testing.assert_allclose(new_std, [1.0, 0.3])  # the floored std (0.1) is what scales
