"""The built-in CAUSE model that ships in espnet_cause/assets: it loads, streams and talks."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index


@pytest.fixture(scope="module")
def builtin():
    from espnet_cause.inference.speech2au import Speech2AU

    return Speech2AU(backend="torch")


def test_builtin_model_defaults_to_onnx_and_equals_torch(builtin, demo_wav):
    from espnet_cause.inference.speech2au import Speech2AU
    from espnet_cause.io.audio import load_audio

    default = Speech2AU()
    assert default.backend == "onnx"  # the graphs ship in the zip: no torch needed
    speech, sr = load_audio(demo_wav)
    np.testing.assert_allclose(default(speech, sr), builtin(speech, sr), atol=1e-4)


def test_builtin_model_loads_and_is_causal(builtin):
    from espnet_cause import assets

    assert builtin.source == str(assets.cause_model())
    assert builtin.fs == 16000 and builtin.au_fps == 25.0
    assert builtin.model.encoder.is_causal
    n_params = sum(p.numel() for p in builtin.model.parameters())
    assert n_params < 500_000
    assert assets.cause_model().stat().st_size < 5_000_000  # weights, stats, ONNX graphs


def test_builtin_model_runs_on_the_demo_speech(builtin, demo_wav):
    from espnet_cause.io.audio import load_audio

    speech, sr = load_audio(demo_wav)
    aus = builtin(speech, sr)
    assert aus.shape == (int(np.ceil(len(speech) / sr * 25 - 1e-9)), 17)
    assert aus.min() >= 0.0 and aus.max() <= 5.0
    mouth = aus[:, au_index("AU25")] + aus[:, au_index("AU26")]
    assert mouth.std() > 0.3  # the mouth moves with the speech
    # streaming gives the offline frames (the live service relies on it)
    stream = builtin.streamer()
    x = builtin.prepare(speech, sr)
    chunks = [stream.accept(x[i : i + 640]) for i in range(0, len(x), 640)] + [stream.finish()]
    online = np.concatenate([c.numpy() for c in chunks])
    np.testing.assert_allclose(online, aus, atol=1e-4)


def test_builtin_lips_stay_closed_in_a_real_recordings_room_tone(builtin, demo_wav):
    """The CMU ARCTIC demo is a real recording: 0.3 s of room tone (-44..-54 dBFS, the speech
    peaks at -13) before the first word and after the last. The mini corpus's own silences are
    digital: models trained without added noise opened the lips to AU25 0.4-0.8 in it."""
    from espnet_cause.io.audio import load_audio

    speech, sr = load_audio(demo_wav)
    lips = builtin(speech, sr)[:, au_index("AU25")]
    edge = round(0.3 * builtin.au_fps)  # AU frames in 0.3 s
    assert lips[:edge].mean() < 0.3 and lips[-edge:].mean() < 0.3
    assert lips[edge:-edge].mean() > 1.0  # while it opens them for the speech between


def test_builtin_mouth_follows_phonemes_on_unseen_synthetic_speech(builtin):
    """A voice and sentence outside the mini corpus: the mouth follows the teacher's visemes."""
    from espnet_cause.corpora.mini.visemes import mouth_track
    from espnet_cause.evaluation.lipsync import best_lag_r, mouth
    from espnet_cause.tts.espeak import VoiceSettings, synthesize_phonemes

    text = "Maybe the old farmer will bring his purple wagon over the hill tomorrow morning."
    samples, sr, phonemes = synthesize_phonemes(
        text, VoiceSettings(voice="en-us+m4", rate=150, pitch=40, pitch_range=60)
    )
    aus = builtin(samples, sr)
    teacher = mouth(mouth_track(phonemes, np.arange(len(aus)) / 25.0))
    assert best_lag_r(teacher, mouth(aus), 25.0).r > 0.6


def test_live_builtin_streams_with_80_ms_of_look_ahead(demo_wav):
    """builtin_live (serve, Speech2AU.builtin(streaming=True)): causal, 2 frames (80 ms) ahead,
    and its stream gives its offline frames."""
    from espnet_cause import assets
    from espnet_cause.inference import Speech2AU
    from espnet_cause.io.audio import load_audio

    live = Speech2AU.builtin(streaming=True, backend="torch")
    assert live.source == str(assets.cause_model("builtin_live"))
    assert live.model.encoder.is_causal and live.model.lookahead_frames == 2
    assert assets.cause_model("builtin_live").stat().st_size < 5_000_000
    speech, sr = load_audio(demo_wav)
    aus = live(speech, sr)
    stream = live.streamer()
    x = live.prepare(speech, sr)
    chunks = [stream.accept(x[i : i + 640]) for i in range(0, len(x), 640)] + [stream.finish()]
    np.testing.assert_allclose(np.concatenate([c.numpy() for c in chunks]), aus, atol=1e-4)


def test_live_builtin_keeps_the_lips_closed_in_room_tone_and_swings_calibrated(demo_wav):
    """builtin_live's mouth scale is calibrated to GRID's tracked faces (pack_model
    --calibrate_dir): the room tone of the ARCTIC demo (below the AU mean) reads closed lips."""
    import zipfile

    import yaml

    from espnet_cause import assets
    from espnet_cause.inference import Speech2AU
    from espnet_cause.io.audio import load_audio

    with zipfile.ZipFile(assets.cause_model("builtin_live")) as zf:
        calibration = yaml.safe_load(zf.read("meta.yaml"))["calibration"]
    assert set(calibration["aus"]) == {"AU25", "AU26"}
    assert all(au["factor"] > 1.0 for au in calibration["aus"].values())  # it under-swung
    live = Speech2AU.builtin(streaming=True)
    speech, sr = load_audio(demo_wav)
    lips = live(speech, sr)[:, au_index("AU25")]
    edge = round(0.3 * live.au_fps)
    assert lips[:edge].mean() < 0.3 and lips[-edge:].mean() < 0.3
    assert lips[edge:-edge].mean() > 1.0


def test_model_names_resolve_to_the_packaged_zips(tmp_path):
    from pathlib import Path

    from espnet_cause import assets
    from espnet_cause.errors import CauseError

    assert assets.resolve_model(None) == assets.cause_model() == assets.resolve_model("builtin")
    assert assets.resolve_model(None, default="builtin_live") == assets.cause_model("builtin_live")
    assert assets.resolve_model(str(tmp_path / "m.zip")) == Path(tmp_path / "m.zip")
    with pytest.raises(CauseError, match="no built-in model 'expressivo'"):
        assets.cause_model("expressivo")
