"""The live expressive model: running speaker statistics, the window functionals, the recogniser
over a stream (loud vs soft speech moves it), the causal envelope, and the worker-process path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from espnet_cause import assets
from espnet_cause.emotion import EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import RunningStats, speaker_stats
from espnet_cause.inference.expressive_zip import load_recogniser
from espnet_cause.inference.live_expression import (
    UPDATE_S,
    LiveEmotion,
    LiveExpressive,
    expression_executor,
    window_features,
)
from espnet_cause.inference.voice_functionals import (
    FS,
    NUM_FEATURES,
    feature_names,
    harmonicity_frames,
    voice_functionals,
)

FPS = 25.0
HNR = feature_names().index("hnr")


def speech(seconds: float, amp: float, seed: int = 0, f0: float = 140.0) -> np.ndarray:
    """(N,) float32 voiced syllables (a buzz at a wandering f0, 4 per second) with short gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / FS
    buzz = sum(np.sin(k * phase) / k for k in range(1, 10))
    syllables = np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None) ** 0.5
    noise = 1e-3 * rng.standard_normal(t.size)
    return (amp * 0.3 * syllables * buzz + noise).astype(np.float32)


@pytest.fixture(scope="module")
def recogniser():
    """The shipped expressive model's recogniser (numpy arrays in the packaged zip)."""
    return load_recogniser(assets.resolve_model("expressive"))


def feed(emotion: LiveEmotion, wav: np.ndarray, chunk: int = 640) -> np.ndarray:
    """Stream ``wav`` in 40 ms chunks; the expression of every frame heard (n, 17)."""
    rows = []
    for i in range(0, len(wav), chunk):
        emotion.accept(wav[i : i + chunk])
        rows.append(emotion.expression(len(emotion.speech) - emotion.emitted))
    return np.concatenate(rows)


def test_running_statistics_equal_the_batch_ones():
    rows = np.random.default_rng(1).normal(3.0, 2.0, (30, NUM_FEATURES))
    rows[:, 5] = 7.0  # a constant column: SD floored, as the batch statistics do
    running = RunningStats()
    with pytest.raises(CauseError, match="no usable utterance"):
        running.stats()
    for row in rows:
        running.add(row)
    online, batch = running.stats(), speaker_stats(rows)
    assert online.count == batch.count == 30
    np.testing.assert_allclose(online.mean, batch.mean, rtol=1e-12)
    np.testing.assert_allclose(online.sd, batch.sd, rtol=1e-9)
    with pytest.raises(CauseError, match="must be finite"):
        running.add(np.full(NUM_FEATURES, np.nan))


def test_window_functionals_join_the_harmonicity_of_new_audio():
    """A stream computes Praat's harmonicity once per stretch of new audio: the window's
    functionals equal those of the window heard whole (HNR within a small fraction of a dB)."""
    wav = speech(3.0, 1.0)
    whole = voice_functionals(wav, FS)
    first_t, first_v = harmonicity_frames(wav[: 2 * FS])
    row, new_t, new_v = window_features(wav, 0.0, (first_t, first_v))
    assert new_t.min() > first_t.max() and new_t.max() <= 3.0
    assert row[HNR] == pytest.approx(whole[HNR], abs=0.3)
    others = np.arange(NUM_FEATURES) != HNR
    np.testing.assert_allclose(row[others], whole[others], rtol=1e-9, atol=1e-9)
    # nothing known: the same as the batch functionals
    row, _, _ = window_features(wav, 5.0, (np.zeros(0), np.zeros(0)))
    np.testing.assert_allclose(row, whole, rtol=1e-9, atol=1e-9)


def test_loud_after_soft_speech_moves_the_posteriors(recogniser):
    """The stream's own statistics: the same voice louder reads as another emotion."""
    emotion = LiveEmotion(recogniser, FPS)
    feed(emotion, speech(14.0, 0.1, seed=2))
    soft, weight = emotion.target.copy(), emotion.speaker_weight
    assert emotion.updates >= 10 and weight > 0.9  # the speaker's statistics took over
    feed(emotion, speech(4.0, 1.0, seed=3))
    loud = emotion.target
    assert np.abs(loud - soft).sum() > 0.3, (soft.round(2), loud.round(2))
    assert soft.sum() == pytest.approx(1.0, abs=1e-5) and loud.sum() == pytest.approx(1.0, abs=1e-5)


def test_expression_rises_with_speech_and_eases_in_pauses(recogniser):
    emotion = LiveEmotion(recogniser, FPS)
    silence = np.zeros(FS, np.float32) + 1e-4 * np.random.default_rng(0).standard_normal(FS)
    quiet = feed(emotion, silence.astype(np.float32))
    assert np.abs(quiet).max() == 0.0 and emotion.updates == 0  # no speech: no update, no face
    talk = feed(emotion, speech(4.75, 1.0))  # ends with the end of a syllable
    assert emotion.updates >= 3
    pause = feed(emotion, np.zeros(3 * FS, np.float32))
    size = np.abs(np.concatenate([quiet, talk, pause])).sum(axis=1)
    p = len(quiet) + len(talk)  # the first frame of the pause
    assert size[: len(quiet)].max() == 0.0 and size[len(quiet) + 25 : p].max() > 0.05
    # held through the first 0.3 s of the pause, then easing (time constant 0.5 s)
    assert size[p + 5] > 0.8 * size[p - 1]
    assert size[p + 25] < 0.5 * size[p - 1] and size[-1] < 0.05 * size[p - 1]
    # frames ahead of the heard audio (a mouth with a short look-ahead) continue the last state
    ahead = emotion.expression(2)
    assert ahead.shape == (2, 17)
    assert np.abs(ahead).sum(axis=1).max() <= np.abs(pause[-1]).sum() + 1e-6  # still easing


def test_updates_run_off_the_stream_in_an_executor(recogniser):
    """With an executor the stream submits an update (one at a time; faster than real time,
    as here, most are skipped) and takes it at a later chunk when it is back."""
    with ThreadPoolExecutor(1) as pool:
        emotion = LiveEmotion(recogniser, FPS, executor=pool)
        feed(emotion, speech(4.0, 1.0))
        if emotion._pending is not None:
            emotion._pending.result()
        emotion.accept(np.zeros(640, np.float32))
    assert emotion.updates >= 1 and emotion.target[EMOTIONS.index("neutral")] < 1.0


def test_the_worker_process_computes_the_same_update():
    """serve's executor: a spawned process runs :func:`window_features` (pickled arguments)."""
    wav = speech(3.0, 1.0)
    pool = expression_executor()
    try:
        row, t, v = pool.submit(window_features, wav, 0.0, (np.zeros(0), np.zeros(0))).result(
            timeout=120
        )
    finally:
        pool.shutdown()
    np.testing.assert_allclose(row, voice_functionals(wav, FS), rtol=1e-9, atol=1e-9)
    assert len(t) == len(v) > 100


def test_live_expressive_adds_the_expression_to_the_mouth_stream(recogniser):
    from espnet_cause.inference.speech2au import Speech2AU

    mouth = Speech2AU("builtin_live")
    live = LiveExpressive(mouth, recogniser)
    assert live.fs == FS and live.algorithmic_latency == mouth.algorithmic_latency
    wav = speech(4.0, 1.0)
    plain, expressive = mouth.streamer(), live.streamer()
    a, b = [], []
    for i in range(0, len(wav), 640):
        a.append(plain.accept(wav[i : i + 640]))
        b.append(expressive.accept(wav[i : i + 640]))
    a, b = np.concatenate(a + [plain.finish()]), np.concatenate(b + [expressive.finish()])
    assert a.shape == b.shape == (100, 17)
    assert b.min() >= 0 and b.max() <= 5
    # the expression (prototypes are raised AUs) is added to the same mouth frames
    assert (b - a).min() >= -1e-6 and (b - a).max() > 0.02
    assert expressive.emotion.updates >= int(3.0 / UPDATE_S)


def test_live_expressive_needs_an_au_mouth_at_16k(recogniser):
    class Mouth:
        target, fs = "arkit", FS

    with pytest.raises(CauseError, match="AU mouth model"):
        LiveExpressive(Mouth(), recogniser)
