"""Recipe stage 2 on a tiny data dir: both extractors, every bad input, resume, Dask."""

from __future__ import annotations

import kaldiio
import numpy as np
import pytest
import soundfile as sf
from extract_media import blank_frames, video_frames, write_video

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.extract import labels
from espnet_cause.extract.labels import make_au_labels
from espnet_cause.io.datadir import (
    read_kaldi_map,
    validate_data_dir,
    write_kaldi_map,
    write_utt2spk_spk2utt,
)
from espnet_cause.io.openface import write_openface_csv
from espnet_cause.io.track import AUTrack


def _csv(path, seconds, fps=30.0, failed=slice(0, 0), level=1.0):
    n = int(round(seconds * fps))
    values = np.full((n, NUM_AUS), level, np.float32)
    values[:, au_index("AU12")] = np.linspace(0, 4, n)
    track = AUTrack.from_array(values, fps)
    track.success[failed] = False
    write_openface_csv(path, track)
    return path


def _wav(path, seconds, sr=22050, channels=2):
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.2 * np.sin(2 * np.pi * 180 * t)
    sf.write(path, np.stack([tone] * channels, axis=1), sr)
    return path


def _data_dir(root, utts):
    """utts: {utt: {"wav": p, "video": p, "au_csv": p}} -> a Kaldi data dir."""
    d = root / "data"
    for name, field in (("wav.scp", "wav"), ("video.scp", "video"), ("au_csv.scp", "au_csv")):
        entries = {u: str(v[field]) for u, v in utts.items() if v.get(field)}
        if entries:
            write_kaldi_map(d / name, entries)
    write_utt2spk_spk2utt(d, {u: "spk1" for u in utts})
    return d


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, smile_video, demo_wav):
    root = tmp_path_factory.mktemp("stage2")
    face = smile_video  # 2.4 s, the rendered face smiles from 0.7 s on, with an audio track
    speech = demo_wav  # 4 s
    truncated = root / "truncated.mp4"
    truncated.write_bytes(face.read_bytes()[: face.stat().st_size // 2])
    bad_csv = root / "bad.csv"
    bad_csv.write_text("frame,timestamp,confidence\n1,0.0,0.9\n")
    utts = {
        "a_face": {"wav": speech, "video": face, "au_csv": _csv(root / "a.csv", 2.4)},
        "b_csv": {"wav": _wav(root / "b.wav", 2.0), "au_csv": _csv(root / "b.csv", 2.0, failed=slice(20, 26))},
        "c_noaudio": {"wav": speech, "video": write_video(root / "c.mp4", video_frames(face, 8))},
        "d_blank": {"wav": speech, "video": write_video(root / "d.mp4", blank_frames(8), audio_seconds=0.32)},
        "e_truncated": {"wav": speech, "video": truncated},
        "f_badcsv": {"wav": _wav(root / "f.wav", 1.0), "au_csv": bad_csv},
        "g_mismatch": {"wav": speech, "au_csv": _csv(root / "g.csv", 1.0)},
        "h_gappy": {"wav": _wav(root / "h.wav", 2.0), "au_csv": _csv(root / "h.csv", 2.0, failed=slice(0, 40))},
    }  # fmt: skip
    return root, _data_dir(root, utts)


def _report(out):
    lines = (out / "au_report.tsv").read_text().splitlines()
    assert lines[0].split("\t") == list(labels.REPORT_COLUMNS)
    return {f[0]: dict(zip(labels.REPORT_COLUMNS, f)) for f in (ln.split("\t") for ln in lines[1:])}


def test_mediapipe_stage_keeps_good_and_skips_each_bad_input(corpus, face_model, caplog):
    root, data = corpus
    out = root / "dump_mp"
    caplog.set_level("INFO")
    summary = make_au_labels(
        data, out, au_extractor="mediapipe", max_fail_fraction=0.8,
        face_landmarker_path=face_model,
    )  # fmt: skip
    rep = _report(out)
    decisions = {u: r["decision"] for u, r in rep.items()}
    assert decisions == {
        "a_face": "keep", "b_csv": "keep", "c_noaudio": "skip", "d_blank": "skip",
        "e_truncated": "skip", "f_badcsv": "skip", "g_mismatch": "skip", "h_gappy": "drop",
    }  # fmt: skip
    assert rep["a_face"]["extractor"] == "mediapipe"
    assert rep["b_csv"]["extractor"] == "openface_csv"
    assert "no audio track" in rep["c_noaudio"]["reason"]
    assert "no face found" in rep["d_blank"]["reason"]
    assert "cannot open" in rep["e_truncated"]["reason"]
    assert "bad.csv" in rep["f_badcsv"]["reason"] and "AU01_r" in rep["f_badcsv"]["reason"]
    assert "apart" in rep["g_mismatch"]["reason"]
    assert "missing" in rep["h_gappy"]["reason"]
    assert summary["kept"] == 2 and summary["skipped"] == 5 and summary["dropped"] == 1
    assert summary["reasons"]["no audio"] == 1 and summary["reasons"]["no face"] == 1
    assert "AU label summary" in caplog.text

    # The dump dir is a valid data dir with only the kept utterances.
    assert validate_data_dir(out, required=("wav.scp", "utt2spk", "spk2utt", "au.scp")) == [
        "a_face", "b_csv",
    ]  # fmt: skip
    assert (out / "au_fps").read_text().strip() == "25"
    au = kaldiio.load_scp(str(out / "au.scp"))
    wavs = read_kaldi_map(out / "wav.scp")
    for utt in ("a_face", "b_csv"):
        audio, sr = sf.read(wavs[utt])
        assert sr == 16000 and audio.ndim == 1
        assert au[utt].shape == (int(np.ceil(len(audio) / sr * 25 - 1e-6)), NUM_AUS)
        assert au[utt].dtype == np.float32 and not np.isnan(au[utt]).any()
    assert abs(len(sf.read(wavs["a_face"])[0]) / 16000 - 2.4) < 0.05  # audio from the video
    assert au["b_csv"].shape[0] == 50  # 2.0 s at 25 fps; its 0.2 s gap was interpolated
    a12 = au["a_face"][:, au_index("AU12")]
    assert a12[-20:].mean() > a12[:15].mean() + 2.0  # the smile, from the video, not the CSV
    assert not list(out.glob("**/.*tmp*"))  # nothing half-written

    # Blendshapes beside the AUs: the same utterances and frame grid; the video's own scores,
    # the CSV-only utterance's through the AU -> ARKit table; head pose for the tracked one.
    from espnet_cause.arkit import BLENDSHAPE_NAMES, aus_to_blendshapes, blendshapes_to_aus

    assert rep["a_face"]["blendshapes"] == "mediapipe" and rep["b_csv"]["blendshapes"] == "au_table"
    bs = kaldiio.load_scp(str(out / "blendshapes.scp"))
    assert sorted(bs) == ["a_face", "b_csv"]
    for utt in ("a_face", "b_csv"):
        assert bs[utt].shape == (len(au[utt]), 51) and not np.isnan(bs[utt]).any()
        assert bs[utt].min() >= 0 and bs[utt].max() <= 1
    smile = bs["a_face"][:, BLENDSHAPE_NAMES.index("mouthSmileLeft")]
    assert smile[-20:].mean() > smile[:15].mean() + 0.4
    # the AUs are the table on the blendshapes, but AU25 (the tracker reads it off the lip gap)
    others = [i for i in range(NUM_AUS) if i != au_index("AU25")]
    np.testing.assert_allclose(
        blendshapes_to_aus(bs["a_face"])[:, others], au["a_face"][:, others], atol=1e-4
    )
    np.testing.assert_allclose(bs["b_csv"], aus_to_blendshapes(au["b_csv"]), atol=1e-6)
    pose = kaldiio.load_scp(str(out / "head_pose.scp"))
    assert sorted(pose) == ["a_face"] and pose["a_face"].shape == (len(au["a_face"]), 3)
    assert np.abs(pose["a_face"]).max() < 30


def test_openface_stage_uses_the_csvs(corpus):
    root, data = corpus
    out = root / "dump_of"
    make_au_labels(data, out, au_extractor="openface", max_fail_fraction=0.9)
    rep = _report(out)
    assert rep["a_face"]["decision"] == "keep" and rep["a_face"]["extractor"] == "openface_csv"
    assert "no au_csv.scp entry" in rep["d_blank"]["reason"]
    au = kaldiio.load_scp(str(out / "au.scp"))
    a12 = au["a_face"][:, au_index("AU12")]
    assert a12[0] == pytest.approx(0.0, abs=0.1) and a12[-1] == pytest.approx(4.0, abs=0.2)


def test_blendshape_csv_beside_the_au_csv_is_imported(tmp_path):
    from espnet_cause.arkit import BLENDSHAPE_NAMES
    from espnet_cause.io.blendshapes import blendshape_csv_path, write_blendshape_csv

    au_csv = _csv(tmp_path / "u.csv", 2.0, failed=slice(20, 26))
    values = np.zeros((60, 51), np.float32)
    values[:, BLENDSHAPE_NAMES.index("jawOpen")] = np.linspace(0, 1, 60)
    write_blendshape_csv(blendshape_csv_path(au_csv), values, np.arange(60) / 30.0)
    data = _data_dir(tmp_path, {"u": {"wav": _wav(tmp_path / "u.wav", 2.0), "au_csv": au_csv}})
    make_au_labels(data, tmp_path / "dump", au_extractor="openface")
    assert _report(tmp_path / "dump")["u"]["blendshapes"] == "csv"
    jaw = kaldiio.load_scp(str(tmp_path / "dump" / "blendshapes.scp"))["u"][:, 24]
    assert BLENDSHAPE_NAMES[24] == "jawOpen" and len(jaw) == 50
    np.testing.assert_allclose(
        jaw, np.linspace(0, 1, 60)[np.round(np.arange(50) * 30 / 25).astype(int)], atol=0.02
    )
    # a blendshape CSV of other frames skips the utterance with the reason
    write_blendshape_csv(blendshape_csv_path(au_csv), values[:40], np.arange(40) / 30.0)
    with pytest.raises(CauseError, match="not kept"):
        make_au_labels(data, tmp_path / "dump2", au_extractor="openface")
    assert "do not match" in _report(tmp_path / "dump2")["u"]["reason"]


def test_too_many_failures_fail_the_stage_without_dump_files(corpus):
    root, data = corpus
    out = root / "dump_fail"
    with pytest.raises(CauseError, match="not kept.*max_fail_fraction"):
        make_au_labels(data, out, au_extractor="openface")  # 0.3 by default
    assert (out / "au_report.tsv").is_file()
    assert not (out / "au.scp").exists() and not (out / "wav.scp").exists()


def test_openface_without_csvs_and_unknown_extractor(tmp_path, demo_wav):
    data = _data_dir(tmp_path, {"u1": {"wav": demo_wav}})
    with pytest.raises(CauseError, match="au_csv.scp"):
        make_au_labels(data, tmp_path / "out", au_extractor="openface")
    with pytest.raises(CauseError, match="unknown AU extractor"):
        make_au_labels(data, tmp_path / "out", au_extractor="dlib")


def _small(tmp_path, n=4):
    utts = {
        f"u{i}": {"wav": _wav(tmp_path / f"u{i}.wav", 1.0), "au_csv": _csv(tmp_path / f"u{i}.csv", 1.0)}
        for i in range(n)
    }  # fmt: skip
    return _data_dir(tmp_path, utts)


def test_resume_after_a_crash_does_only_the_rest(tmp_path, monkeypatch):
    data = _small(tmp_path)
    out = tmp_path / "dump"
    real = labels.label_utterance
    calls = []

    def crash_on_third(key, payload, **env):
        if len(calls) == 2:
            raise KeyboardInterrupt  # a crash, not a bad item: the run stops here
        calls.append(key)
        return real(key, payload, **env)

    monkeypatch.setattr(labels, "label_utterance", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        make_au_labels(data, out, au_extractor="openface")
    assert calls == ["u0", "u1"]
    assert not (out / "au.scp").exists() and not (out / "au_report.tsv").exists()

    calls.clear()
    monkeypatch.setattr(
        labels, "label_utterance", lambda k, p, **e: calls.append(k) or real(k, p, **e)
    )
    summary = make_au_labels(data, out, au_extractor="openface")
    assert calls == ["u2", "u3"]
    assert summary["kept"] == 4
    assert sorted(kaldiio.load_scp(str(out / "au.scp"))) == ["u0", "u1", "u2", "u3"]

    calls.clear()  # finished: a re-run does nothing new; other settings redo the work
    make_au_labels(data, out, au_extractor="openface")
    assert calls == []
    make_au_labels(data, out, au_extractor="openface", au_fps=50)
    assert calls == ["u0", "u1", "u2", "u3"]
    assert kaldiio.load_scp(str(out / "au.scp"))["u0"].shape == (50, NUM_AUS)
    assert (out / "au_fps").read_text().strip() == "50"


def test_dask_local_cluster(tmp_path, monkeypatch):
    data = _small(tmp_path, n=3)
    monkeypatch.setattr(labels, "MAX_LOCAL_IMPORTS", 0)  # send the CSV imports to the cluster too
    config = tmp_path / "local.yaml"
    config.write_text(
        "env: local\nn_workers: 1\noptions:\n  threads_per_worker: 1\n  processes: false\n"
        "  dashboard_address: ':0'\n"
    )
    summary = make_au_labels(
        data, tmp_path / "dump", au_extractor="openface", parallel_config=config
    )
    assert summary["kept"] == 3


def test_fixed_input_is_picked_up_on_rerun(tmp_path):
    data = _small(tmp_path, n=2)
    good = (tmp_path / "u1.csv").read_text()
    (tmp_path / "u1.csv").write_text("frame,timestamp\n")
    out = tmp_path / "dump"
    summary = make_au_labels(data, out, au_extractor="openface", max_fail_fraction=0.5)
    assert summary["kept"] == 1 and _report(out)["u1"]["decision"] == "skip"
    (tmp_path / "u1.csv").write_text(good)
    summary = make_au_labels(data, out, au_extractor="openface", max_fail_fraction=0.5)
    assert summary["kept"] == 2 and _report(out)["u1"]["decision"] == "keep"


def test_small_length_difference_is_padded_or_trimmed(tmp_path):
    utts = {
        "short_au": {"wav": _wav(tmp_path / "a.wav", 2.0), "au_csv": _csv(tmp_path / "a.csv", 1.85)},
        "long_au": {"wav": _wav(tmp_path / "b.wav", 2.0), "au_csv": _csv(tmp_path / "b.csv", 2.15)},
    }  # fmt: skip
    out = tmp_path / "dump"
    summary = make_au_labels(_data_dir(tmp_path, utts), out, au_extractor="openface", max_gap=0.05)
    assert summary["kept"] == 2
    au = kaldiio.load_scp(str(out / "au.scp"))
    for utt in utts:
        assert au[utt].shape == (50, NUM_AUS) and not np.isnan(au[utt]).any()
    # The short track's last value is held over the missing 0.15 s.
    assert np.allclose(au["short_au"][-4:, au_index("AU12")], 4.0, atol=0.01)


def test_segments_are_refused(tmp_path, demo_wav):
    data = _data_dir(tmp_path, {"u1": {"wav": demo_wav}})
    (data / "segments").write_text("u1 rec1 0.0 1.0\n")
    with pytest.raises(CauseError, match="segments"):
        make_au_labels(data, tmp_path / "out", au_extractor="mediapipe")


def test_au_weights_go_to_the_dump_for_the_kept_utterances(tmp_path):
    """--au_weights: every kept utterance gets the table, times the data dir's own vectors."""
    from espnet_cause.au import AU_NAMES
    from espnet_cause.io.au_weight import read_au_weights, write_au_weights

    utts = {
        u: {"wav": _wav(tmp_path / f"{u}.wav", 2.0), "au_csv": _csv(tmp_path / f"{u}.csv", 2.0)}
        for u in ("a", "b")
    }
    utts["c"] = {"wav": _wav(tmp_path / "c.wav", 2.0), "au_csv": tmp_path / "missing.csv"}
    data = _data_dir(tmp_path, utts)
    keep = {"max_fail_fraction": 0.5}
    make_au_labels(data, tmp_path / "dump", au_extractor="openface", au_weights="AU45=0", **keep)
    weights = read_au_weights(tmp_path / "dump" / "au_weight.scp")
    assert sorted(weights) == ["a", "b"]  # c was skipped
    assert weights["a"][AU_NAMES.index("AU45")] == 0 and weights["a"].sum() == NUM_AUS - 1
    own = np.ones(NUM_AUS, np.float32)
    own[AU_NAMES.index("AU25")] = 0.5
    write_au_weights(data, {u: own for u in utts})
    make_au_labels(data, tmp_path / "dump", au_extractor="openface", au_weights="AU45=0", **keep)
    w = read_au_weights(tmp_path / "dump" / "au_weight.scp")["b"]
    assert w[AU_NAMES.index("AU25")] == 0.5 and w[AU_NAMES.index("AU45")] == 0
    # without a table or the data dir's file, no au_weight.scp (a stale one is removed)
    (data / "au_weight.scp").unlink()
    make_au_labels(data, tmp_path / "dump", au_extractor="openface", **keep)
    assert not (tmp_path / "dump" / "au_weight.scp").exists()
