"""infer --output_format livelink | arkit_json: avatar animation files from speech.

The JawOpen check needs a model that has learned something: a tiny AU model is trained here
(a few seconds) to open the jaw (AU25/AU26) with the loudness of the fixture speech.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml
from test_infer import make_tiny_model

from espnet_cause.arkit import ARKIT_NAMES, BLENDSHAPE_NAMES, LIVELINK_NAMES
from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.bin import infer
from espnet_cause.io import timegrid
from espnet_cause.io.livelink import LIVELINK_HEADER, parse_livelink_timecode

FS = 16000
AU_FPS = 25


def loudness_db(samples: np.ndarray, sr: int, fps: float, num_frames: int) -> np.ndarray:
    """RMS level in dB of a window of one frame period centred on each frame time."""
    half = int(sr / fps / 2) + 1
    out = np.empty(num_frames)
    for k in range(num_frames):
        c = int(round(k / fps * sr))
        seg = samples[max(c - half, 0) : c + half]
        out[k] = 10 * np.log10(np.mean(seg**2) + 1e-10) if len(seg) else -100.0
    return out


def jaw_targets(samples: np.ndarray, sr: int) -> np.ndarray:
    """(T, 17) AUs at 25 fps: lips and jaw open with loudness (30 dB range), the rest 0."""
    n = timegrid.num_frames_for_fps(len(samples) / sr, AU_FPS)
    db = loudness_db(samples, sr, AU_FPS, n)
    x = np.clip((db - (db.max() - 30.0)) / 30.0, 0.0, 1.0)
    aus = np.zeros((n, NUM_AUS), np.float32)
    aus[:, au_index("AU26")] = 4.0 * x
    aus[:, au_index("AU25")] = 4.5 * x
    return aus


@pytest.fixture(scope="module")
def trained_zip(tmp_path_factory, demo_wav):
    """A tiny cnn AU model trained on the fixture speech to open the jaw when it is loud."""
    import torch

    from espnet_cause.inference.packing import pack_model
    from espnet_cause.tasks.cause import CAUSETask

    samples, sr = sf.read(str(demo_wav), dtype="float32")
    assert sr == FS
    targets = jaw_targets(samples, sr)
    root = tmp_path_factory.mktemp("trained")
    config, _ = make_tiny_model(root, encoder_conf={"hidden_size": 16, "channels": [16, 8]})
    conf = yaml.safe_load(config.read_text())
    n = float(len(targets))
    np.savez(root / "au_stats.npz", count=np.array(n), sum=targets.sum(0).astype(np.float64),
             sum_square=(targets.astype(np.float64) ** 2).sum(0))  # fmt: skip
    conf["au_normalize_conf"]["eps"] = 1.0e-2
    config.write_text(yaml.safe_dump(conf))
    model, _ = CAUSETask.build_model_from_file(config, None)
    # feature statistics of this speech, so the log-mel input is z-scored properly
    with torch.no_grad():
        feats, _ = model.frontend(torch.from_numpy(samples)[None], torch.tensor([len(samples)]))
    f = feats[0].double().numpy()
    np.savez(root / "feats_stats.npz", count=np.array(float(len(f))), sum=f.sum(0),
             sum_square=(f**2).sum(0))  # fmt: skip
    model, _ = CAUSETask.build_model_from_file(config, None)
    torch.manual_seed(0)
    optim = torch.optim.Adam(model.parameters(), lr=0.01)
    speech = torch.from_numpy(samples)[None]
    lengths = torch.tensor([len(samples)])
    au = torch.from_numpy(targets)[None]
    au_lengths = torch.tensor([len(targets)])
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 30x faster than 2 threads on a busy 2-core machine
    try:
        for _ in range(150):
            loss, _, _ = model(speech, lengths, au, au_lengths)
            optim.zero_grad()
            loss.backward()
            optim.step()
    finally:
        torch.set_num_threads(threads)
    pth = root / "trained.pth"
    torch.save(model.state_dict(), pth)
    return pack_model(config, pth, root / "model.zip")


@pytest.fixture(scope="module")
def arkit_zip(tmp_path_factory):
    from espnet_cause.inference.packing import pack_model

    root = tmp_path_factory.mktemp("arkit")
    config, pth = make_tiny_model(root / "cause_arkit", target="arkit")
    return pack_model(config, pth, root / "model.zip")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))


def read_take(path):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    rows = [ln.split(",") for ln in lines[1:]]
    return header, rows


@pytest.mark.parametrize("fps", [60, 30])
def test_livelink_take_has_one_row_per_frame_and_jaw_follows_the_voice(
    trained_zip, demo_wav, tmp_path, fps
):
    wav = demo_wav
    samples, sr = sf.read(str(wav), dtype="float32")
    take = tmp_path / "take.csv"
    infer.main(["--wav", str(wav), "--output", str(take), "--output_format", "livelink",
                "--output_fps", str(fps), "--model", str(trained_zip)])  # fmt: skip
    header, rows = read_take(take)
    assert tuple(header) == LIVELINK_HEADER and len(header) == 2 + 61
    assert header[2] == "EyeBlinkLeft" and header[53] == "TongueOut" and header[54] == "HeadYaw"
    n = timegrid.num_frames_for_fps(len(samples) / sr, fps)
    assert len(rows) == n  # duration x fps rows
    assert {r[1] for r in rows} == {"61"}
    assert rows[0][0] == "00:00:00:00.000"
    assert rows[fps + 1][0] == "00:00:01:01.000"
    times = [parse_livelink_timecode(r[0], fps) for r in rows]
    np.testing.assert_allclose(times, np.arange(n) / fps, atol=1e-6)
    values = np.array([[float(c) for c in r[2:]] for r in rows])
    shapes = values[:, :52]
    assert shapes.min() >= 0.0 and shapes.max() <= 1.0
    assert np.ptp(values[:, 52:55], axis=0).min() > np.deg2rad(0.3)  # the head moves
    jaw = shapes[:, LIVELINK_NAMES.index("JawOpen")]
    assert jaw.std() > 0.05
    r = np.corrcoef(jaw, loudness_db(samples, sr, fps, n))[0, 1]
    assert r > 0.6, f"JawOpen vs loudness correlation {r:.2f}"


def test_arkit_json_frames_equal_the_livelink_frames(trained_zip, demo_wav, tmp_path):
    wav = demo_wav
    base = ["--wav", str(wav), "--model", str(trained_zip)]
    infer.main(base + ["--output", str(tmp_path / "a.json"), "--output_format", "arkit_json"])
    infer.main(base + ["--output", str(tmp_path / "a.csv"), "--output_format", "livelink"])
    doc = json.loads((tmp_path / "a.json").read_text())
    assert set(doc) == {"fps", "names", "frames", "rotation_names", "rotations"}
    assert doc["fps"] == 60.0 and doc["names"] == list(ARKIT_NAMES)
    frames = np.array(doc["frames"])
    _, rows = read_take(tmp_path / "a.csv")
    assert frames.shape == (len(rows), 52)
    live = np.array([[float(c) for c in r[2:54]] for r in rows])
    order = [LIVELINK_NAMES.index(n[0].upper() + n[1:]) for n in ARKIT_NAMES]
    np.testing.assert_allclose(frames, live[:, order], atol=1e-6)
    rotations = np.array([[float(c) for c in r[54:]] for r in rows])
    np.testing.assert_allclose(doc["rotations"], rotations, atol=1e-5)


def test_head_motion_is_seeded_and_switches_off(trained_zip, demo_wav, tmp_path):
    base = ["--wav", str(demo_wav), "--model", str(trained_zip), "--output_format", "arkit_json"]
    takes = {}
    for name, extra in {
        "a": [], "again": [], "seed1": ["--seed", "1"], "off": ["--head_motion", "0"],
    }.items():  # fmt: skip
        infer.main(base + ["--output", str(tmp_path / f"{name}.json")] + extra)
        takes[name] = np.array(json.loads((tmp_path / f"{name}.json").read_text())["rotations"])
    assert np.array_equal(takes["a"], takes["again"])
    assert not np.allclose(takes["a"], takes["seed1"])
    assert np.abs(takes["off"]).max() == 0.0 and np.abs(takes["a"]).max() > 0.01


def test_arkit_model_is_written_directly_and_scp_writes_one_take_per_utterance(
    arkit_zip, demo_wav, tmp_path
):
    import zipfile

    from espnet_cause.inference.speech2au import Speech2AU

    with zipfile.ZipFile(arkit_zip) as zf:
        assert yaml.safe_load(zf.read("meta.yaml"))["target"] == "arkit"
    wav = demo_wav
    samples, sr = sf.read(str(wav), dtype="float32")
    s2a = Speech2AU(str(arkit_zip))
    assert s2a.target == "arkit" and s2a.names == BLENDSHAPE_NAMES
    shapes = s2a(samples, sr)
    assert shapes.shape[1] == 51 and shapes.min() >= 0 and shapes.max() <= 1
    scp = tmp_path / "wav.scp"
    scp.write_text(f"u1 {wav}\nu2 {wav}\n")
    out = tmp_path / "takes"
    infer.main(["--wav_scp", str(scp), "--output_dir", str(out), "--output_format", "livelink",
                "--output_fps", "25", "--model", str(arkit_zip)])  # fmt: skip
    assert sorted(p.name for p in out.glob("*.csv")) == ["u1.csv", "u2.csv"]
    header, rows = read_take(out / "u1.csv")
    live = np.array([[float(c) for c in r[2:54]] for r in rows])
    assert len(rows) == len(shapes)
    for name in ("jawOpen", "mouthSmileLeft", "eyeBlinkRight"):
        j = header.index(name[0].upper() + name[1:]) - 2
        np.testing.assert_allclose(live[:, j], shapes[:, BLENDSHAPE_NAMES.index(name)], atol=1e-5)
    assert (live[:, LIVELINK_NAMES.index("TongueOut")] == 0).all()
    # the model's own frames: (T, 51) matrices in an ark, a blendshape CSV per file
    infer.main(["--wav_scp", str(scp), "--output_dir", str(tmp_path / "ark"),
                "--model", str(arkit_zip)])  # fmt: skip
    from espnet_cause.io.au_files import read_au_scp

    assert read_au_scp(tmp_path / "ark" / "au.scp")["u1"].shape == shapes.shape
    infer.main(["--wav", str(wav), "--output", str(tmp_path / "bs.csv"), "--model",
                str(arkit_zip)])  # fmt: skip
    from espnet_cause.io.blendshapes import read_blendshape_csv

    values, times, pose = read_blendshape_csv(tmp_path / "bs.csv")
    np.testing.assert_allclose(values, shapes, atol=1e-5)
    assert pose is None and times[1] == pytest.approx(1 / 25)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--output", "take.csv", "--output_format", "fbx"], "invalid choice: 'fbx'"),
        (["--output", "take.json", "--output_format", "livelink"], "writes a .csv file"),
        (["--output", "take.csv", "--output_format", "arkit_json"], "writes a .json file"),
    ],
)
def test_unknown_formats_are_refused_before_anything_is_written(
    model_zip_path, tmp_path, capsys, monkeypatch, extra, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "speech.wav").write_bytes(b"")  # never read: the options fail first
    with pytest.raises(SystemExit) as exc:
        infer.main(["--wav", "speech.wav", "--model", str(model_zip_path)] + extra)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speech.wav"]


@pytest.fixture
def model_zip_path(tmp_path):
    return tmp_path.parent / "never-opened.zip"
