"""export_tts_features end to end: a tiny packed CAUSE model, generated wavs, bad items, resume."""

from __future__ import annotations

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch.nn.functional as F
import yaml

from espnet_cause.au import NUM_AUS
from espnet_cause.bin import export_tts_features as export
from espnet_cause.jobs.batch import read_report
from espnet_cause.tts.features import AU_EMBED_DIM, decode_au_embed

FS = 16000
N_MELS = 20


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory):
    """A randomly initialised tiny CAUSE cnn model with stats, packed into model.zip."""
    import torch

    from espnet_cause.inference.packing import pack_model
    from espnet_cause.tasks.cause import CAUSETask

    root = tmp_path_factory.mktemp("cause")
    rng = np.random.default_rng(0)
    n = 1000.0
    mean = rng.normal(-5, 1, N_MELS)
    np.savez(
        root / "feats_stats.npz", count=np.array(n), sum=mean * n, sum_square=(mean**2 + 4) * n
    )
    au_mean = rng.uniform(0.2, 2.0, NUM_AUS)
    np.savez(
        root / "au_stats.npz", count=np.array(n), sum=au_mean * n, sum_square=(au_mean**2 + 0.5) * n
    )
    config = {
        "frontend": "default",
        "frontend_conf": {"fs": FS, "n_fft": 512, "hop_length": 160, "n_mels": N_MELS},
        "normalize": "global_mvn",
        "normalize_conf": {"stats_file": str(root / "feats_stats.npz")},
        "au_normalize": "global_mvn",
        "au_normalize_conf": {"stats_file": str(root / "au_stats.npz")},
        "encoder": "cnn",
        "encoder_conf": {"hidden_size": 16, "channels": [16, 8]},
        "model_conf": {"au_fps": 25},
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    model, _ = CAUSETask.build_model_from_file(root / "config.yaml", None)
    torch.manual_seed(0)
    for p in model.output_layer.parameters():
        torch.nn.init.normal_(p, std=0.3)
    torch.save(model.state_dict(), root / "m.pth")
    return pack_model(root / "config.yaml", root / "m.pth", root / "model.zip")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))


def _corpus(root, fs=22050, lengths=(0.5, 0.73, 1.1)):
    """wav.scp with speech-like noise at ``fs``, plus one wav at 8 kHz and one missing file."""
    rng = np.random.default_rng(1)
    root.mkdir(parents=True, exist_ok=True)
    lines = {}
    for i, sec in enumerate(lengths):
        n = int(sec * fs)
        t = np.arange(n) / fs
        wav = 0.3 * np.sin(2 * np.pi * 150 * t) * (
            1 + np.sin(2 * np.pi * 3 * t)
        ) + 0.02 * rng.standard_normal(n)
        sf.write(root / f"u{i}.wav", wav.astype(np.float32), fs)
        lines[f"u{i}"] = root / f"u{i}.wav"
    sf.write(root / "rate.wav", (0.1 * rng.standard_normal(8000)).astype(np.float32), 8000)
    lines["x_rate"] = root / "rate.wav"
    lines["x_missing"] = root / "missing.wav"
    scp = root / "wav.scp"
    scp.write_text("".join(f"{k} {v}\n" for k, v in sorted(lines.items())))
    return scp, {k: sf.info(v).frames for k, v in lines.items() if v.exists()}


def test_get_parser():
    args = export.get_parser().parse_args(
        [
            "--model",
            "m.zip",
            "--wav_scp",
            "w",
            "--output_dir",
            "o",
            "--fs",
            "22050",
            "--hop_length",
            "256",
        ]
    )
    assert args.fs == 22050 and args.n_fft is None and args.segments is None


def test_export_matches_espnet_grid_and_skips_bad_items(model_zip, tmp_path):
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    fs, hop = 22050, 256
    scp, samples = _corpus(tmp_path / "data", fs=fs)
    out = tmp_path / "export"
    cmd = ["--model", str(model_zip), "--wav_scp", str(scp), "--output_dir", str(out),
           "--fs", str(fs), "--hop_length", str(hop)]  # fmt: skip
    export.main(cmd)

    au = dict(kaldiio.load_scp(str(out / "au.scp")))
    emb = dict(kaldiio.load_scp(str(out / "au_embed.scp")))
    assert sorted(au) == sorted(emb) == ["u0", "u1", "u2"]
    fbank = LogMelFbank(fs=fs, n_fft=1024, hop_length=hop, n_mels=10)
    import torch

    for key in au:
        wav, _ = sf.read(tmp_path / "data" / f"{key}.wav", dtype="float32")
        _, feats_len = fbank(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))
        assert au[key].shape == (int(feats_len[0]), NUM_AUS) == (1 + samples[key] // hop, NUM_AUS)
        assert au[key].dtype == np.float32 and np.isfinite(au[key]).all()
        assert emb[key].shape == (AU_EMBED_DIM,)
        # the embedding summarises the 25 fps stream the grid was interpolated from
        means, _ = decode_au_embed(F.normalize(torch.from_numpy(emb[key]), dim=0).numpy())
        assert np.abs(means - au[key].mean(0)).max() < 0.5

    report = read_report(out / "export_report.tsv")
    assert [k for k, r in report.items() if r["status"] == "ok"] == ["u0", "u1", "u2"]
    assert report["u0"]["num_frames"] == str(1 + samples["u0"] // hop)
    assert "8000 Hz" in report["x_rate"]["reason"]
    assert "missing.wav" in report["x_missing"]["reason"]
    grid = yaml.safe_load((out / "grid.yaml").read_text())
    assert (
        grid["fs"] == fs and grid["hop_length"] == hop and grid["au_embed"]["dim"] == AU_EMBED_DIM
    )

    # a re-run resumes from the journal (nothing recomputed) and gives identical files
    before = (out / "au.ark").read_bytes()
    export.main(cmd)
    assert (out / "au.ark").read_bytes() == before
    # another grid in the same directory starts over: no frame of the old grid is left
    export.main(cmd[:-1] + ["200"])
    au = dict(kaldiio.load_scp(str(out / "au.scp")))
    assert {k: len(v) for k, v in au.items()} == {k: 1 + samples[k] // 200 for k in au}
    assert yaml.safe_load((out / "grid.yaml").read_text())["hop_length"] == 200


def test_vc_export_on_source_grid_with_segments(model_zip, tmp_path):
    """VC: AU aligned to the source utterance's frames, here of segments of one recording."""
    fs, hop = 16000, 160
    scp, samples = _corpus(tmp_path / "data", fs=fs, lengths=(2.0,))
    segments = tmp_path / "data" / "segments"
    segments.write_text("s1 u0 0.00 0.80\ns2 u0 0.80 2.00\n")
    scp.write_text(f"u0 {tmp_path / 'data' / 'u0.wav'}\n")
    out = tmp_path / "vc"
    export.main(["--model", str(model_zip), "--wav_scp", str(scp), "--segments", str(segments),
                 "--output_dir", str(out), "--fs", str(fs), "--hop_length", str(hop)])  # fmt: skip
    au = dict(kaldiio.load_scp(str(out / "au.scp")))
    assert au["s1"].shape[0] == 1 + 12800 // hop and au["s2"].shape[0] == 1 + 19200 // hop


def test_resample_option_exports_audio_at_another_rate(model_zip, tmp_path):
    rng = np.random.default_rng(2)
    wav = tmp_path / "a.wav"
    sf.write(wav, (0.2 * rng.standard_normal(8000)).astype(np.float32), 8000)  # 1 s at 8 kHz
    scp = tmp_path / "wav.scp"
    scp.write_text(f"a {wav}\n")
    out = tmp_path / "out"
    export.main(["--model", str(model_zip), "--wav_scp", str(scp), "--output_dir", str(out),
                 "--fs", "22050", "--hop_length", "256", "--resample"])  # fmt: skip
    au = dict(kaldiio.load_scp(str(out / "au.scp")))
    assert au["a"].shape == (1 + 22050 // 256, NUM_AUS)
