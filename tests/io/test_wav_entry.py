"""load_speech: one reader for every kind of wav.scp value."""

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from espnet_cause.errors import CauseError
from espnet_cause.io.audio import load_speech, mix_down, pcm_to_float

SR = 16000


@pytest.fixture
def stereo_pcm():
    t = np.arange(SR // 4) / SR
    left = np.round(0.5 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    return np.stack([left, left // 2], axis=1)  # (N, 2) int16


def test_file_ark_offset_and_pipe_read_the_same(tmp_path, stereo_pcm):
    wav = tmp_path / "a.wav"
    sf.write(wav, stereo_pcm, SR, subtype="PCM_16")
    ark = tmp_path / "wav.ark"
    kaldiio.save_ark(str(ark), {"a": (SR, stereo_pcm)}, scp=str(tmp_path / "wav.scp"))
    offset_entry = (tmp_path / "wav.scp").read_text().split(maxsplit=1)[1].strip()
    assert offset_entry.startswith(str(ark) + ":")
    from_file, rate = load_speech(str(wav))
    assert rate == SR and from_file.shape == (len(stereo_pcm),) and from_file.dtype == np.float32
    expected = stereo_pcm.astype(np.float32).mean(axis=1) / 32768
    np.testing.assert_allclose(from_file, expected, atol=1e-6)
    for entry in (offset_entry, f"cat {wav} |"):
        samples, rate = load_speech(entry)
        assert rate == SR
        np.testing.assert_allclose(samples, from_file, atol=1e-6)
    resampled, rate = load_speech(f"cat {wav} |", target_sr=8000)
    assert rate == 8000 and len(resampled) == len(from_file) // 2


def test_bad_entries_name_themselves(tmp_path):
    with pytest.raises(CauseError, match="not found"):
        load_speech(str(tmp_path / "nope.wav"))
    with pytest.raises(CauseError, match="exited with status") as e:
        load_speech("false |", name="utt7")
    assert "utt7" in str(e.value)


def test_pcm_scaling_and_mix_down():
    assert pcm_to_float(np.array([-32768, 0, 16384], np.int16)).tolist() == [-1.0, 0.0, 0.5]
    assert pcm_to_float(np.array([0, 128, 192], np.uint8)).tolist() == [-1.0, 0.0, 0.5]
    assert mix_down(np.ones((2, 100)) * [[1.0], [3.0]]).tolist() == [2.0] * 100  # (C, N)
    assert mix_down(np.zeros((0, 2)), channel_axis=1).shape == (0,)
    with pytest.raises(CauseError, match="shape"):
        mix_down(np.zeros((2, 2, 2)))
