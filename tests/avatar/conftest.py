"""Fixtures of the avatar tests: speech with a known leading silence, the built-in model."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

#: Leading silence of :func:`padded_speech`, seconds.
LEAD_S = 0.5


@pytest.fixture(scope="session")
def builtin_speech2au():
    from espnet_cause.inference import Speech2AU

    return Speech2AU()


@pytest.fixture(scope="session")
def padded_speech(demo_wav, tmp_path_factory):
    """(path, samples, sr, lead): ``lead`` (0.5) s of silence, then 1.5 s of the demo speech."""
    samples, sr = sf.read(str(demo_wav), dtype="float32")
    samples = np.concatenate([np.zeros(int(LEAD_S * sr), np.float32), samples[: int(1.5 * sr)]])
    path = tmp_path_factory.mktemp("avatar_speech") / "padded.wav"
    sf.write(str(path), samples, sr)
    return path, samples, sr, LEAD_S
