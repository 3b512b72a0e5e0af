"""The built-in CAUSE models that ship in espnet_cause/assets: they load, stream (the causal
one) and talk."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.errors import CauseError


@pytest.fixture(scope="module")
def builtin():
    """The model for whole recordings, as ``Speech2AU()`` loads it (torch backend)."""
    from espnet_cause.inference import Speech2AU

    return Speech2AU(backend="torch")


@pytest.fixture(scope="module")
def builtin_stream():
    """The causal model that streams."""
    from espnet_cause.inference import Speech2AU

    return Speech2AU.builtin(streaming=True, backend="torch")


@pytest.mark.parametrize("streaming", [False, True])
def test_builtin_models_default_to_onnx_and_equal_torch(
    streaming, builtin, builtin_stream, demo_wav
):
    from espnet_cause.inference import Speech2AU
    from espnet_cause.io.audio import load_audio

    default = Speech2AU.builtin(streaming=streaming)
    assert default.backend == "onnx"  # the graphs ship in the zip: no torch needed
    speech, sr = load_audio(demo_wav)
    torch_model = builtin_stream if streaming else builtin
    np.testing.assert_allclose(default(speech, sr), torch_model(speech, sr), atol=1e-4)


def test_builtin_models_load_and_only_the_streaming_one_is_causal(builtin, builtin_stream):
    from espnet_cause import assets

    assert builtin.source == str(assets.cause_model())
    assert builtin_stream.source == str(assets.cause_model(streaming=True))
    assert not builtin.model.encoder.is_causal
    assert builtin_stream.model.encoder.is_causal
    for model, streaming in ((builtin, False), (builtin_stream, True)):
        assert model.fs == 16000 and model.au_fps == 25.0
        assert sum(p.numel() for p in model.model.parameters()) < 500_000
        # weights, stats, ONNX graphs
        assert assets.cause_model(streaming=streaming).stat().st_size < 5_000_000


@pytest.mark.parametrize("streaming", [False, True])
def test_builtin_models_run_on_the_demo_speech(streaming, builtin, builtin_stream, demo_wav):
    from espnet_cause.io.audio import load_audio

    model = builtin_stream if streaming else builtin
    speech, sr = load_audio(demo_wav)
    aus = model(speech, sr)
    assert aus.shape == (int(np.ceil(len(speech) / sr * 25 - 1e-9)), 17)
    assert aus.min() >= 0.0 and aus.max() <= 5.0
    mouth = aus[:, au_index("AU25")] + aus[:, au_index("AU26")]
    assert mouth.std() > 0.3  # the mouth moves with the speech


def test_the_streaming_builtin_streams_its_offline_frames(builtin_stream, demo_wav):
    """The live service relies on it."""
    from espnet_cause.io.audio import load_audio

    speech, sr = load_audio(demo_wav)
    aus = builtin_stream(speech, sr)
    stream = builtin_stream.streamer()
    x = builtin_stream.prepare(speech, sr)
    chunks = [stream.accept(x[i : i + 640]) for i in range(0, len(x), 640)] + [stream.finish()]
    online = np.concatenate([c.numpy() for c in chunks])
    np.testing.assert_allclose(online, aus, atol=1e-4)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_the_offline_builtin_refuses_to_stream_and_names_the_streaming_one(backend):
    from espnet_cause.inference import Speech2AU

    with pytest.raises(CauseError, match="not causal") as info:
        Speech2AU(backend=backend).streamer()
    assert "Speech2AU.builtin(streaming=True)" in str(info.value)


@pytest.mark.parametrize("streaming", [False, True])
def test_builtin_mouth_follows_phonemes_on_unseen_synthetic_speech(
    streaming, builtin, builtin_stream
):
    """A voice and sentence outside the mini corpus: the mouth follows the teacher's visemes."""
    from espnet_cause.corpora.espeak import VoiceSettings, synthesize_phonemes
    from espnet_cause.corpora.visemes import mouth_track
    from espnet_cause.lipsync import best_lag_r, mouth

    text = "Maybe the old farmer will bring his purple wagon over the hill tomorrow morning."
    samples, sr, phonemes = synthesize_phonemes(
        text, VoiceSettings(voice="en-us+m4", rate=150, pitch=40, pitch_range=60)
    )
    aus = (builtin_stream if streaming else builtin)(samples, sr)
    teacher = mouth(mouth_track(phonemes, np.arange(len(aus)) / 25.0))
    assert best_lag_r(teacher, mouth(aus), 25.0).r > 0.6
