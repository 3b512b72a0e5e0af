"""The infer CLI end to end with a tiny randomly initialised model packed into a zip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_cause.au import NUM_AUS
from espnet_cause.bin import infer
from espnet_cause.io import timegrid
from espnet_cause.io.openface import read_openface_csv

FS = 16000
N_MELS = 20


def make_tiny_model(
    root, encoder: str = "cnn", encoder_conf: dict | None = None, target: str = "au"
):
    """Write stats, config.yaml and weights of a tiny CAUSE model; return (config, pth).

    ``target: arkit`` makes a model of the 51 blendshapes (0..1) instead of the 17 AUs.
    """
    import torch

    from espnet_cause.tasks.cause import CAUSETask

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 1000.0
    feats_mean = rng.normal(-5, 1, N_MELS)
    np.savez(root / "feats_stats.npz", count=np.array(n), sum=feats_mean * n,
             sum_square=(feats_mean**2 + 4.0) * n)  # fmt: skip
    width, scale = (NUM_AUS, 1.0) if target == "au" else (51, 0.2)
    au_mean = rng.uniform(0.2, 2.0, width) * scale
    np.savez(root / "au_stats.npz", count=np.array(n), sum=au_mean * n,
             sum_square=(au_mean**2 + 0.5 * scale**2) * n)  # fmt: skip
    config = {
        "frontend": "default",
        "frontend_conf": {
            "fs": FS,
            "n_fft": 512,
            "hop_length": 160,
            "n_mels": N_MELS,
            "frontend_conf": None,
        },  # fmt: skip
        "normalize": "global_mvn",
        "normalize_conf": {"stats_file": str(root / "feats_stats.npz")},
        "au_normalize": "global_mvn",
        "au_normalize_conf": {"stats_file": str(root / "au_stats.npz")},
        "encoder": encoder,
        "encoder_conf": encoder_conf or {"hidden_size": 16, "channels": [16, 8]},
        "model_conf": {"au_fps": 25, "target": target},
    }
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    torch.manual_seed(0)  # the same weights whatever ran before (tests assert on the outputs)
    model, _ = CAUSETask.build_model_from_file(config_path, None)
    for p in model.output_layer.parameters():  # outputs that move, away from the clip bounds
        torch.nn.init.normal_(p, std=0.3)
    pth = root / "valid.loss.best.pth"
    torch.save(model.state_dict(), pth)
    return config_path, pth


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory):
    from espnet_cause.inference.packing import pack_model

    root = tmp_path_factory.mktemp("exp")
    config, pth = make_tiny_model(root / "cause_tiny")
    return pack_model(config, pth, root / "model.zip")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))


def test_get_parser():
    args = infer.get_parser().parse_args(
        ["--wav", "a.wav", "--model", "m.zip", "--output", "o.csv"]
    )
    assert args.output_format == "ark" and args.output_fps is None


def test_infer_wav_to_csv(demo_wav, model_zip, tmp_path):
    wav = demo_wav
    n, sr = sf.info(str(wav)).frames, sf.info(str(wav)).samplerate
    out = tmp_path / "au.csv"
    infer.main(["--model", str(model_zip), "--wav", str(wav), "--output", str(out)])
    track = read_openface_csv(out)
    assert track.intensities.shape == (timegrid.num_frames_for_fps(n / sr, 25), NUM_AUS)
    assert 95 <= len(track) <= 110
    assert track.fps == pytest.approx(25)
    values = track.intensities
    assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 5
    assert values.std(axis=0).max() > 0  # the random model responds to the speech


def test_infer_tts_grid_and_stereo_resampled(demo_wav, model_zip, tmp_path):
    wav = demo_wav
    samples, sr = sf.read(str(wav), dtype="float32")
    # stereo at 22.05 kHz: mixed down and resampled to the model's 16 kHz
    from espnet_cause.io.audio import resample

    x = resample(samples, sr, 22050)
    stereo = tmp_path / "stereo.wav"
    sf.write(str(stereo), np.stack([x, 0.5 * x], axis=1), 22050)
    out = tmp_path / "grid.npy"
    infer.main(["--model", str(model_zip), "--wav", str(stereo), "--output", str(out),
                "--output_fs", "22050", "--output_hop_length", "256"])  # fmt: skip
    aus = np.load(out)
    assert aus.shape == (timegrid.num_frames_for_hop(len(x), 22050, 256), NUM_AUS)
    out100 = tmp_path / "fps100.npy"
    infer.main(["--model", str(model_zip), "--wav", str(wav), "--output", str(out100),
                "--output_fps", "100"])  # fmt: skip
    assert np.load(out100).shape == (timegrid.num_frames_for_fps(len(samples) / sr, 100), NUM_AUS)


def test_infer_scp_skips_bad_items_and_resumes(demo_wav, model_zip, tmp_path, caplog):
    from espnet_cause.io.au_files import read_au_scp
    from espnet_cause.jobs.batch import read_report

    wav = demo_wav
    samples, sr = sf.read(str(wav), dtype="float32")
    bad = tmp_path / "bad"
    bad.mkdir()
    sf.write(str(bad / "silent.wav"), np.zeros(8000, np.float32), sr)
    sf.write(str(bad / "tiny.wav"), samples[1000:1100], sr)
    sf.write(str(bad / "empty.wav"), np.zeros(0, np.float32), sr)
    (bad / "trash.wav").write_bytes(b"not audio at all")
    short = samples[: sr // 2]
    sf.write(str(bad / "short.wav"), short, sr)
    scp = tmp_path / "wav.scp"
    scp.write_text(
        f"a_good {wav}\nb_short {bad / 'short.wav'}\nc_silent {bad / 'silent.wav'}\n"
        f"d_tiny {bad / 'tiny.wav'}\ne_empty {bad / 'empty.wav'}\nf_missing {bad / 'nope.wav'}\n"
        f"g_trash {bad / 'trash.wav'}\n"
    )
    out = tmp_path / "out"
    cmd = ["--model", str(model_zip), "--wav_scp", str(scp), "--output_dir", str(out)]
    cmd += ["--max_fail_fraction", "0.8"]  # 5 of 7 skipped: over the default 0.5
    infer.main(cmd)
    mats = read_au_scp(out / "au.scp")
    assert sorted(mats) == ["a_good", "b_short"]
    assert mats["b_short"].shape == (13, NUM_AUS)  # ceil(0.5 s * 25)
    assert (out / "au_fps").read_text().strip() == "25"
    report = read_report(out / "infer_report.tsv")
    assert list(report["a_good"]) == ["key", "status", "reason", "num_frames", "fps"]
    assert report["a_good"]["status"] == "ok" and report["b_short"]["num_frames"] == "13"
    reasons = {k: v["reason"] for k, v in report.items() if v["status"] != "ok"}
    assert set(reasons) == {"c_silent", "d_tiny", "e_empty", "f_missing", "g_trash"}
    assert "silence" in reasons["c_silent"] and "silent.wav" in reasons["c_silent"]
    assert "shorter than one frame" in reasons["d_tiny"]
    assert "no samples" in reasons["e_empty"]
    assert "not found" in reasons["f_missing"] and "nope.wav" in reasons["f_missing"]
    assert "trash.wav" in reasons["g_trash"]
    # resume: a second run redoes nothing
    journal = (out / ".work" / "journal.jsonl").read_text()
    infer.main(cmd)
    assert (out / ".work" / "journal.jsonl").read_text() == journal
    # an output that went missing is redone
    (out / ".work" / "items" / "b_short.npy").unlink()
    infer.main(cmd)
    assert (out / ".work" / "items" / "b_short.npy").is_file()
    assert sorted(read_au_scp(out / "au.scp")) == ["a_good", "b_short"]
    # changing the grid starts over, npy format writes one file per utterance
    infer.main(cmd + ["--output_format", "npy", "--output_fps", "50"])
    assert np.load(out / "a_good.npy").shape[0] == timegrid.num_frames_for_fps(
        len(samples) / sr, 50
    )
    assert json.loads((out / ".work" / "settings.json").read_text())["output_fps"] == 50


def _fails(cmd, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        infer.main(cmd)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_infer_bad_single_inputs(model_zip, tmp_path, capsys):
    sr = FS
    nan = np.random.default_rng(0).normal(0, 0.1, sr).astype(np.float32)
    nan[100] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    cases = {
        "silent.wav": (np.zeros(sr, np.float32), "digital silence"),
        "empty.wav": (np.zeros(0, np.float32), "no samples"),
        "tiny.wav": (np.full(100, 0.1, np.float32), "shorter than one frame"),
    }
    for name, (x, message) in cases.items():
        sf.write(str(tmp_path / name), x, sr, subtype="FLOAT")
        err = _fails(["--model", str(model_zip), "--wav", str(tmp_path / name), "--output",
                      str(tmp_path / "o.csv")], capsys)  # fmt: skip
        assert name in err and message in err, err
    # NaN samples (a float wav keeps them)
    sf.write(str(tmp_path / "nan.wav"), nan, sr, subtype="FLOAT")
    err = _fails(["--model", str(model_zip), "--wav", str(tmp_path / "nan.wav"), "--output",
                  str(tmp_path / "o.csv")], capsys)  # fmt: skip
    assert "nan.wav" in err and "NaN" in err
    err = _fails(["--model", str(model_zip), "--wav", str(tmp_path / "missing.wav"), "--output",
                  str(tmp_path / "o.csv")], capsys)  # fmt: skip
    assert "missing.wav" in err
    assert not (tmp_path / "o.csv").exists()


def test_infer_bad_model_files(demo_wav, model_zip, tmp_path, capsys):
    wav = str(demo_wav)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(model_zip.read_bytes()[: model_zip.stat().st_size // 2])
    err = _fails(["--model", str(truncated), "--wav", wav, "--output", str(tmp_path / "o.csv")],
                 capsys)  # fmt: skip
    assert "truncated.zip" in err
    wrong = tmp_path / "wrong.zip"
    wrong.write_text("hello")
    err = _fails(["--model", str(wrong), "--wav", wav, "--output", str(tmp_path / "o.csv")], capsys)
    assert "wrong.zip" in err
    # a truncated .pth with its config
    from espnet_cause.inference.model_zip import unpack_model

    config, pth = unpack_model(model_zip, cache_dir=tmp_path / "c")
    bad_pth = tmp_path / "bad.pth"
    bad_pth.write_bytes(pth.read_bytes()[:200])
    err = _fails(["--train_config", str(config), "--model_file", str(bad_pth), "--wav", wav,
                  "--output", str(tmp_path / "o.csv")], capsys)  # fmt: skip
    assert "bad.pth" in err
    err = _fails(["--wav", wav, "--train_config", str(config), "--output", str(tmp_path / "o.csv")],
                 capsys)  # fmt: skip
    assert "go together" in err


def test_infer_without_a_model_uses_the_builtin_one(demo_wav, tmp_path):
    out = tmp_path / "au.csv"
    infer.main(["--wav", str(demo_wav), "--output", str(out)])
    track = read_openface_csv(out)
    assert len(track) == 100 and track.fps == 25.0  # 4.0 s at 25 fps
    assert np.nanstd(track.intensities, axis=0).max() > 0.1


def test_fast_path_equals_model_inference(tmp_path):
    import torch

    from espnet_cause.inference.speech2au import Speech2AU
    from espnet_cause.tasks.cause import CAUSETask

    config, pth = make_tiny_model(tmp_path / "exp")
    net, _ = CAUSETask.build_model_from_file(config, pth)
    s2a = Speech2AU(model=net)
    assert s2a._fast
    x = np.random.default_rng(1).normal(0, 0.1, FS + 123).astype(np.float32)
    fast = s2a(x, FS)
    with torch.inference_mode():
        slow = s2a.model.inference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    assert fast.shape == (timegrid.num_frames_for_fps((FS + 123) / FS, 25), NUM_AUS)


def test_speech2au_api_pcm_stereo_any_rate(tmp_path):
    from espnet_cause.inference.speech2au import Speech2AU
    from espnet_cause.tasks.cause import CAUSETask

    config, pth = make_tiny_model(tmp_path / "exp")
    net, _ = CAUSETask.build_model_from_file(config, pth)
    s2a = Speech2AU(model=net)
    assert net.encoder.blocks[0].conv.parametrizations  # the caller's model keeps weight norm
    x = np.random.default_rng(2).normal(0, 0.1, FS).astype(np.float32)
    ref = s2a(x, FS)
    pcm = np.round(x * 32767).astype(np.int16)
    np.testing.assert_allclose(s2a(np.stack([pcm, pcm], axis=1), FS), ref, atol=1e-3)
    from espnet_cause.io.audio import resample

    assert s2a(resample(x, FS, 8000), 8000).shape == ref.shape
    grid, fps = s2a.to_grid(ref, FS, FS, output_fs=24000, output_hop_length=300)
    assert grid.shape == (1 + 24000 // 300, NUM_AUS) and fps == 80


def test_infer_output_format_and_suffix_must_agree(demo_wav, model_zip, tmp_path, capsys):
    """--output_format npy with FILE.csv is refused, not written as a csv that says npy."""
    out = tmp_path / "o.csv"
    err = _fails(["--model", str(model_zip), "--wav", str(demo_wav), "--output_format", "npy",
                  "--output", str(out)], capsys)  # fmt: skip
    assert "o.csv" in err and "FILE.npy" in err, err
    assert not out.exists()
