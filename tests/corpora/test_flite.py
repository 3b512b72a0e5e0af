"""CMU Flite's voices through ctypes (Debian libflite1; `make deps` installs it): timed
phonemes, voice settings, and the mini corpus's extra Flite speakers."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.corpora.mini.flite import (
    CMU_TO_ESPEAK,
    FLITE_VOICES,
    _segments,
    flite_available,
    synthesize_phonemes,
)
from espnet_cause.corpora.mini.teacher import speaker_f0_stats
from espnet_cause.corpora.mini.visemes import LEAD_S, mouth_track
from espnet_cause.errors import CauseError
from espnet_cause.tts import visemes
from espnet_cause.tts.espeak import VoiceSettings
from espnet_cause.tts.visemes import VISEMES

# An optional Debian library (like importorskip for a PyPI one); `make deps` (run by `make test`)
# installs it, so `make test` and CI never skip.
pytestmark = pytest.mark.skipif(
    not flite_available(), reason="make deps (or apt-get install -y libflite1)"
)

TEXT = "Bob made five blue boats."


@pytest.mark.parametrize("voice", sorted(FLITE_VOICES))
def test_phonemes_cover_the_utterance_and_match_the_text(voice):
    samples, sr, phonemes = synthesize_phonemes(TEXT, VoiceSettings(f"flite:{voice}", 175, 50, 50))
    assert sr == FLITE_VOICES[voice] and samples.dtype == np.float32
    assert 0.01 < np.sqrt(np.mean(samples**2)) and np.abs(samples).max() <= 1.0
    starts = np.array([p.start for p in phonemes])
    assert starts[0] == 0.0 and np.all(np.diff(starts) > 0)
    for a, b in zip(phonemes, phonemes[1:], strict=False):
        assert a.end == b.start
    assert phonemes[-1].end == pytest.approx(len(samples) / sr)
    spoken = [p.name for p in phonemes if not p.is_pause]
    # b-aa-b m-ey-d f-ay-v b-l-uw b-ow-t-s, in eSpeak's mnemonics; every vowel is stressed
    assert spoken == "b A: b m eI d f aI v b l u: b oU t s".split()
    assert [p.stress for p in phonemes if p.name in ("A:", "eI", "aI", "u:", "oU")] == [2] * 5


def test_phonemes_are_where_the_sound_is():
    samples, sr, phonemes = synthesize_phonemes(TEXT, VoiceSettings("flite:slt", 175, 50, 50))
    lead = phonemes[0]
    assert lead.is_pause and lead.end > 0.05
    vowel = next(p for p in phonemes if p.name == "aI")  # "five"
    rms = [np.sqrt(np.mean(samples[int(a * sr) : int(b * sr)] ** 2)) for a, b in (
        (0.0, lead.end - 0.02), (vowel.start, vowel.end))]  # fmt: skip
    assert rms[0] < 0.05 * rms[1]


def test_a_bilabial_closes_the_lips_in_the_track():
    _, _, phonemes = synthesize_phonemes("a map", VoiceSettings("flite:awb", 150, 50, 50))
    m = next(p for p in phonemes if p.name == "m")
    a = next(p for p in phonemes if p.name == "a")
    lips = au_index("AU25")
    times = np.arange(0.0, phonemes[-1].end, 0.005)
    track = mouth_track(phonemes, times)[:, lips]
    closed = track[(times >= m.start - LEAD_S) & (times < m.end)].min()
    opened = track[(times >= a.start - LEAD_S) & (times < a.end)].max()
    assert closed < 0.25 * opened and opened > 0.5 * VISEMES["open"].targets["AU25"]


def test_rate_and_pitch_change_the_voice():
    def spoken(rate, pitch):
        x, sr, _ = synthesize_phonemes(TEXT, VoiceSettings("flite:slt", rate, pitch, 50))
        return len(x) / sr, float(np.exp(speaker_f0_stats([x], sr)[0]))

    (d_slow, f0_low), (d_fast, f0_high) = spoken(130, 25), spoken(200, 75)
    assert d_slow > 1.3 * d_fast
    assert f0_high > 1.25 * f0_low  # 2 ** 0.5 in theory


def test_bad_voice_and_unknown_phone():
    with pytest.raises(CauseError, match="no English voice 'nosuch'"):
        synthesize_phonemes(TEXT, VoiceSettings("flite:nosuch", 175, 50, 50))
    with pytest.raises(CauseError, match="not a Flite voice"):
        from espnet_cause.corpora.mini.flite import get_flite

        get_flite().synthesize_phonemes(TEXT, VoiceSettings("en+m3", 175, 50, 50))
    with pytest.raises(RuntimeError, match="outside its CMU set: 'qq'"):
        _segments([("pau", 0.1, False), ("qq", 0.2, False)], 0.3)


def test_segments_name_schwa_and_cover_the_audio():
    out = _segments([("pau", 0.1, False), ("ah", 0.2, False), ("ah", 0.3, True)], 0.35)
    assert [(p.name, p.start, p.end, p.stress) for p in out] == [
        ("_", 0.0, 0.1, 0), ("@", 0.1, 0.2, 0), ("V", 0.2, 0.35, 2)]  # fmt: skip
    known = {**visemes.CONSONANTS, **visemes.VOWELS, **visemes.DIPHTHONGS}
    assert [n for n in CMU_TO_ESPEAK.values() if n != "_" and n not in known] == []


def test_mini_plan_adds_flite_speakers_after_the_espeak_ones():
    from espnet_cause.corpora.common import split_speakers
    from espnet_cause.corpora.mini.plan import FLITE_SPEAKER_VOICES, MiniConfig, plan_corpus

    base = plan_corpus(MiniConfig(num_speakers=4, utts_per_speaker=2))
    more = plan_corpus(MiniConfig(num_speakers=4, utts_per_speaker=2, flite_speakers=4))
    assert more[: len(base)] == base  # the eSpeak speakers are unchanged
    voices = [it.speaker_settings.voice for it in more[len(base) :: 2]]
    assert voices == [*FLITE_SPEAKER_VOICES, FLITE_SPEAKER_VOICES[0]]
    speakers = sorted({it.speaker for it in more})
    assert speakers[-4:] == ["mini05", "mini06", "mini07", "mini08"]
    # with 16 eSpeak speakers, adding Flite ones keeps the test and valid speakers
    ids = [f"mini{k:02d}" for k in range(1, 17)]
    plain = split_speakers(ids, valid_speakers=1, test_speakers=1)
    extended = split_speakers(
        [*ids, "mini17", "mini18", "mini19"], valid_speakers=1, test_speakers=1
    )
    assert {k: plain[k] for k in ("test", "valid")} == {k: extended[k] for k in ("test", "valid")}


def test_mini_corpus_speaks_flite_speakers(tmp_path):
    from espnet_cause.corpora.mini.corpus import generate_mini_corpus, list_mini
    from espnet_cause.io.audio import load_audio

    corpus = generate_mini_corpus(
        tmp_path / "mini", num_speakers=1, utts_per_speaker=1, num_videos=0, flite_speakers=1
    )
    utts = {u.speaker: u for u in list_mini(corpus)}
    assert sorted(utts) == ["mini01", "mini02"]
    meta = (corpus / "metadata.tsv").read_text().splitlines()
    assert any("\tflite:slt\t" in line for line in meta)
    speech, sr = load_audio(utts["mini02"].audio)
    assert sr == 16000 and np.sqrt(np.mean(speech**2)) > 0.01
    ctm = (corpus / "phonemes" / f"{utts['mini02'].utt_id}.ctm").read_text().split("\n")
    assert len([line for line in ctm if line.strip()]) > 5
