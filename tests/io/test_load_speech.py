"""wav.scp values read as Kaldi reads them: files, ``ark:offset`` entries and ``cmd |`` pipes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from espnet_cause.errors import CauseError
from espnet_cause.io.audio import load_audio, load_speech

FS = 16000


@pytest.fixture
def tone():
    t = np.arange(FS) / FS
    return (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_ark_offset_entry_is_read(tmp_path, tone):
    import kaldiio

    pcm = np.round(tone * 32768).clip(-32768, 32767).astype(np.int16)
    ark = tmp_path / "wavs.ark"
    kaldiio.save_ark(str(ark), {"utt": (FS, pcm)}, scp=str(tmp_path / "wavs.scp"))
    value = (tmp_path / "wavs.scp").read_text().split()[1]
    assert value.endswith(".ark:4")
    samples, sr = load_speech(value)
    assert sr == FS and samples.dtype == np.float32
    np.testing.assert_allclose(samples, tone, atol=1 / 32768)


def test_ark_offset_of_a_missing_archive_names_it(tmp_path):
    with pytest.raises(CauseError, match="archive .*nope.ark not found"):
        load_speech(f"{tmp_path}/nope.ark:8")


def test_pipe_output_is_read(tmp_path, tone):
    wav = tmp_path / "a.wav"
    sf.write(wav, tone, FS)
    samples, sr = load_speech(f"cat {wav} |")
    assert sr == FS
    np.testing.assert_allclose(samples, tone, atol=1e-4)


def test_failing_pipe_reason_is_its_stderr():
    with pytest.raises(CauseError) as e:
        load_speech("sh -c 'echo sox FAIL: cannot open input >&2; exit 3' |", name="utt1")
    text = str(e.value)
    assert "utt1" in text and "status 3" in text and "sox FAIL: cannot open input" in text


def test_pipe_that_writes_no_audio():
    with pytest.raises(CauseError, match="not audio"):
        load_speech("echo hello |")


def test_directory_is_reported_as_a_directory(tmp_path):
    for read in (load_speech, load_audio):
        with pytest.raises(CauseError, match="is a directory"):
            read(str(tmp_path))
