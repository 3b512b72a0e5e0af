"""The AU-vs-emotion comparison: side-by-side mp4 with both panels and the one scores table."""

import json

import numpy as np
import pytest
import torch

from espnet_cause.au import NUM_AUS
from espnet_cause.bin import compare_conditions
from espnet_cause.emotion import NUM_EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.render.compare import au_correlations, mouth_smoothness

FPS = 25


def identity_generator(path, condition_size):
    """A tiny generator whose output keeps most of the face (so the tracker still finds it)."""
    from espnet_cause.ganimation.checkpoint import save_generator
    from espnet_cause.ganimation.generator import GANimationGenerator

    conf = {"condition_size": condition_size, "conv_dim": 4, "num_res_blocks": 1}
    g = GANimationGenerator(**conf)
    with torch.no_grad():
        g.attention_head[0].weight.zero_()
        g.color_head[0].weight.zero_()
    save_generator(path, g, 128, conf)
    return path


def write_scp(path, arrays):
    import kaldiio

    with kaldiio.WriteHelper(f"ark,scp:{path.with_suffix('.ark')},{path}") as w:
        for k, v in arrays.items():
            w(k, np.asarray(v, np.float32))


def test_metrics():
    frames = np.zeros((4, 10, 10, 3), np.uint8)
    frames[1::2] = 30  # flicker: motion 30, second difference 60
    m = mouth_smoothness(frames, (0, 10, 0, 10))
    assert m == {"mouth_motion": 30.0, "mouth_jitter": 60.0}
    ref = np.random.default_rng(0).random((20, NUM_AUS))
    r = au_correlations(ref * 2 + 1, ref)
    assert np.allclose(r, 1.0)
    ref[:, 3] = 1.0
    assert np.isnan(au_correlations(ref, ref)[3])


def test_summary_pools_utterances():
    from espnet_cause.render.compare import markdown_table, summarize

    rng = np.random.default_rng(1)
    ref = {k: rng.random((30, NUM_AUS)) for k in ("a", "b")}
    smooth = {"mouth_motion": 1.0, "mouth_jitter": 2.0}
    results = {
        k: {"frames": 30, "read": {"au": ref[k][:28] * 3, "emotion": rng.random((30, NUM_AUS))},
            "tracked": {"au": 1.0, "emotion": 0.5}, "smoothness": {"au": smooth, "emotion": smooth}}
        for k in ("a", "b")
    }  # fmt: skip
    out = summarize(results, ref)
    assert out["au"]["num_aus"] == NUM_AUS and abs(out["au"]["mean_pcc"] - 1.0) < 1e-9
    assert abs(out["emotion"]["mean_pcc"]) < 0.3 and out["emotion"]["tracked"] == 0.5
    assert "| mean r vs real AUs | 1.000 (17 AUs) |" in markdown_table(out)


def test_compare_writes_video_and_table(tmp_path, demo_image, demo_wav):
    import av
    import soundfile as sf

    speech, sr = sf.read(demo_wav, dtype="float32")
    speech = speech[: sr * 2]  # 2 s: 50 frames
    wav = tmp_path / "u1.wav"
    sf.write(wav, speech, sr)
    (tmp_path / "wav.scp").write_text(f"u1 {wav}\nu2 {wav}\n")
    rng = np.random.default_rng(0)
    write_scp(tmp_path / "au.scp", {"u1": 5 * rng.random((50, NUM_AUS)), "u2": np.zeros((50, 17))})
    post = rng.dirichlet(np.ones(NUM_EMOTIONS), 50)
    write_scp(tmp_path / "post.scp", {"u1": post})  # u2 has no posteriors: skipped, reported
    write_scp(tmp_path / "ref.scp", {"u1": 5 * rng.random((52, NUM_AUS))})
    au_model = identity_generator(tmp_path / "au.pth", NUM_AUS)
    emotion_model = identity_generator(tmp_path / "emo.pth", NUM_EMOTIONS)
    out = tmp_path / "compare"
    args = ["--image", str(demo_image), "--wav_scp", str(tmp_path / "wav.scp"),
            "--au_scp", str(tmp_path / "au.scp"), "--emotion_scp", str(tmp_path / "post.scp"),
            "--ref_au_scp", str(tmp_path / "ref.scp"), "--output_dir", str(out)]  # fmt: skip
    compare_conditions.main(
        args + ["--generator", str(au_model), "--emotion_generator", str(emotion_model)]
    )
    with av.open(str(out / "u1_compare.mp4")) as c:
        v = c.streams.video[0]
        assert c.streams.audio and v.frames == 50
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    # [AU panel 320 | face | face | emotion panel 320]; the photo is scaled to 320 px high
    assert frame.shape[0] == 320 and frame.shape[1] == 320 + 2 * 272 + 320
    summary = json.loads((out / "scores.json").read_text())
    assert summary["utterances"] == ["u1"] and summary["with_reference"] == ["u1"]
    for s in ("au", "emotion"):
        # the identity generators keep the face still: tracked, but no AU moves, no mouth motion
        assert summary[s]["tracked"] > 0.9 and summary[s]["mouth_motion"] < 0.5
        assert summary[s]["num_aus"] == 0 and summary[s]["mean_pcc"] is None
    table = (out / "scores.md").read_text()
    assert "| mean r vs real AUs |" in table and "AU-driven | emotion-driven" in table
    assert "u2\terror\tno emotion posteriors predicted" in (out / "compare_report.tsv").read_text()
    # generators swapped: each system checks its condition size
    with pytest.raises(SystemExit):
        compare_conditions.main(
            args + ["--generator", str(emotion_model), "--emotion_generator", str(au_model)]
        )
    from espnet_cause.render.compare import ConditionComparer

    with pytest.raises(CauseError, match="takes 8 conditions, the au system needs 17"):
        ConditionComparer(demo_image, emotion_model, emotion_model)


def test_warp_comparison_drives_the_photo_by_aus_and_by_prototypes(tmp_path, demo_image, demo_wav):
    import soundfile as sf

    from espnet_cause.au import au_index
    from espnet_cause.emotion import emotion_index
    from espnet_cause.render.compare import ConditionComparer
    from espnet_cause.render.fidelity import read_back

    speech, sr = sf.read(demo_wav, dtype="float32")
    wav = tmp_path / "u1.wav"
    sf.write(wav, speech[: sr * 2], sr)
    (tmp_path / "wav.scp").write_text(f"u1 {wav}\n")
    t = np.arange(50) / FPS
    aus = np.zeros((50, NUM_AUS), np.float32)
    for name in ("AU25", "AU26"):  # the mouth opens and closes twice a second
        aus[:, au_index(name)] = 2.0 + 2.0 * np.sin(2 * np.pi * 2 * t)
    happy = np.zeros((50, NUM_EMOTIONS), np.float32)
    happy[:, emotion_index("happy")] = 1.0
    write_scp(tmp_path / "au.scp", {"u1": aus})
    write_scp(tmp_path / "post.scp", {"u1": happy})
    write_scp(tmp_path / "ref.scp", {"u1": aus})  # as if the real face had moved so
    out = tmp_path / "compare"
    args = ["--image", str(demo_image), "--wav_scp", str(tmp_path / "wav.scp"),
            "--au_scp", str(tmp_path / "au.scp"), "--emotion_scp", str(tmp_path / "post.scp"),
            "--ref_au_scp", str(tmp_path / "ref.scp"), "--output_dir", str(out)]  # fmt: skip
    with pytest.raises(SystemExit):  # GANimation without its generators: a usage error
        compare_conditions.main(args)
    assert not out.exists()
    compare_conditions.main(args + ["--renderer", "warp"])
    summary = json.loads((out / "scores.json").read_text())
    assert summary["renderer"] == "warp" and summary["with_reference"] == ["u1"]
    # the AU-driven face opens its mouth with the AUs; the emotion-driven one does not speak
    assert summary["au"]["pcc"]["AU25"] > 0.8
    assert summary["emotion"]["mouth_motion"] < 0.2 * summary["au"]["mouth_motion"]
    assert "(warp)" in (out / "scores.md").read_text()
    # the posteriors go through the prototype table: happy smiles, neutral does not
    comparer = ConditionComparer(demo_image, renderer="warp")
    try:
        neutral = np.zeros((3, NUM_EMOTIONS), np.float32)
        neutral[:, emotion_index("neutral")] = 1.0
        smile = {}
        for name, post in (("happy", happy[:3]), ("neutral", neutral)):
            read = read_back(comparer.render("emotion", post), comparer.extractor, FPS)
            smile[name] = float(read[:, au_index("AU12")].mean())
    finally:
        comparer.close()
    assert smile["happy"] > smile["neutral"] + 0.5
