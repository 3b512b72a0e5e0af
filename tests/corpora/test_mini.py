"""The synthetic mini corpus at a tiny size: real eSpeak NG speech and the documented AU rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from espnet_cause.au import au_index
from espnet_cause.corpora.mini.corpus import MARKER, generate_mini_corpus, list_mini, prepare_mini
from espnet_cause.corpora.mini.plan import MiniConfig, plan_corpus
from espnet_cause.corpora.mini.teacher import au_track_from_speech, loudness_track
from espnet_cause.errors import CauseError
from espnet_cause.io.ctm import read_ctm
from espnet_cause.io.datadir import read_kaldi_map, validate_data_dir
from espnet_cause.io.openface import read_openface_csv

SMALL = dict(num_speakers=3, utts_per_speaker=3, num_videos=0, num_workers=1)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini")
    counts = prepare_mini(root / "corpus", root / "data", **SMALL)
    return root, counts


def test_data_dirs(mini):
    root, counts = mini
    assert counts == {"train": 3, "valid": 3, "test": 3}
    for split in ("train", "valid", "test"):
        utts = validate_data_dir(root / "data" / split)
        assert set(read_kaldi_map(root / "data" / split / "au_csv.scp")) == set(utts)
        assert len(read_kaldi_map(root / "data" / split / "text")) == 3
        # eSpeak's timed phonemes, for TTS durations: every utterance, covering its audio
        ctm = read_ctm(root / "data" / split / "phones.ctm")
        assert set(ctm) == set(utts)
        wavs = read_kaldi_map(root / "data" / split / "wav.scp")
        for utt, segs in ctm.items():
            assert segs[0][0] == 0.0 and all(a[0] < b[0] for a, b in zip(segs, segs[1:]))
            end = segs[-1][0] + segs[-1][1]
            assert abs(end - sf.info(wavs[utt]).duration) < 1e-3


def test_speech_is_real_16k(mini):
    root, _ = mini
    for utt in list_mini(root / "corpus"):
        samples, sr = sf.read(utt.audio, dtype="float32")
        assert sr == 16000 and samples.ndim == 1
        assert 1.0 < len(samples) / sr < 10.0
        assert np.sqrt(np.mean(samples**2)) > 0.01  # not silent


def test_au_track_follows_the_rule(mini):
    """v3: the jaw follows the visemes of the phonemes eSpeak spoke, scaled by loudness."""
    from espnet_cause.corpora.mini.synth import speak_item
    from espnet_cause.corpora.mini.teacher import LOUDNESS_SCALE, gaussian_smooth
    from espnet_cause.corpora.mini.visemes import mouth_track

    root, _ = mini
    items = {it.utt_id: it for it in plan_corpus(MiniConfig(**{k: v for k, v in SMALL.items()
                                                            if k != "num_workers"}))}  # fmt: skip
    to_visemes, to_loudness = [], []
    for utt in list_mini(root / "corpus"):
        track = read_openface_csv(utt.au_csv)
        samples, sr = sf.read(utt.audio, dtype="float32")
        assert len(track) == math.ceil(len(samples) / sr * 25 - 1e-6)
        assert track.fps == 25.0
        aus = track.intensities
        assert aus.min() >= 0.0 and aus.max() <= 5.0
        times = np.arange(len(aus)) / 25.0
        loud = gaussian_smooth(loudness_track(samples, sr, times + 0.04), 1.0)
        _, phonemes = speak_item(items[utt.utt_id])
        jaw = mouth_track(phonemes, times)[:, au_index("AU26")]
        rule = jaw * (1 - LOUDNESS_SCALE + LOUDNESS_SCALE * loud)
        to_visemes.append(np.corrcoef(aus[:, au_index("AU26")], rule)[0, 1])
        to_loudness.append(np.corrcoef(aus[:, au_index("AU26")], loud)[0, 1])
    assert np.mean(to_visemes) > 0.9, to_visemes  # the rule, up to noise and clipping
    assert np.mean(to_visemes) > np.mean(to_loudness) + 0.1, (to_visemes, to_loudness)


def test_silence_before_the_voice_keeps_the_mouth_closed(mini):
    """v4: utterances start with a random pause (as recordings do) and the teacher's mouth is
    closed there; in the speech it opens."""
    from espnet_cause.corpora.mini.synth import LEAD_SILENCE_S

    root, _ = mini
    leads = []
    for utt in list_mini(root / "corpus"):
        samples, sr = sf.read(utt.audio, dtype="float32")
        lead = np.flatnonzero(np.abs(samples) > 1e-4)[0] / sr
        assert LEAD_SILENCE_S[0] <= lead <= LEAD_SILENCE_S[1] + 0.05
        leads.append(lead)
        aus = read_openface_csv(utt.au_csv).intensities
        mouth = aus[:, au_index("AU25")] + aus[:, au_index("AU26")]
        before = int((lead - 0.12) * 25)  # frames that end before the 40 ms lead and smoothing
        if before > 0:
            assert mouth[:before].max() < 0.6, mouth[:before]
        assert mouth.max() > 2.0
    assert np.ptp(leads) > 0.1  # lengths differ between utterances


def test_arkit_tracks_are_the_au_tracks_through_the_table(mini):
    from espnet_cause.arkit import BLENDSHAPE_NAMES, aus_to_blendshapes
    from espnet_cause.io.blendshapes import blendshape_csv_path, read_blendshape_csv

    root, _ = mini
    for utt in list_mini(root / "corpus"):
        track = read_openface_csv(utt.au_csv)
        values, times, pose = read_blendshape_csv(blendshape_csv_path(utt.au_csv))
        np.testing.assert_allclose(times, track.timestamps, atol=1e-3)
        # (the AU CSV stores rounded intensities)
        np.testing.assert_allclose(values, aus_to_blendshapes(track.intensities), atol=2e-3)
        assert pose is None
        jaw = values[:, BLENDSHAPE_NAMES.index("jawOpen")]
        assert jaw.max() > 0.3  # the jaw moves with the speech


def test_mood_is_in_face_and_voice(mini):
    root, _ = mini
    items = {
        it.utt_id: it
        for it in plan_corpus(MiniConfig(**{k: v for k, v in SMALL.items() if k != "num_workers"}))
    }
    from espnet_cause.corpora.mini.moods import MOODS

    seen = {}
    for utt in list_mini(root / "corpus"):
        it = items[utt.utt_id]
        assert utt.emotion == it.emotion
        aus = read_openface_csv(utt.au_csv).intensities[10:]
        for name, gain in MOODS[it.emotion].aus.items():
            assert aus[:, au_index(name)].mean() > 0.5 * gain * it.mood, (it.emotion, name)
        if it.emotion != "happy":
            assert aus[:, au_index("AU12")].mean() < 0.5
        seen[it.emotion] = it
    labels = read_kaldi_map(root / "data" / "train" / "emotion")
    assert set(labels.values()) <= set(MOODS)
    assert len(seen) >= 3, seen  # the tiny corpus (9 utterances) has several moods


def test_moods_change_the_voice():
    """Each mood's voice differs from the speaker's in the documented direction."""
    from espnet_cause.corpora.mini.moods import EMOTIONAL, MOODS

    items = plan_corpus(MiniConfig(num_speakers=4, utts_per_speaker=20, num_videos=0))
    by = {}
    for it in items:
        by.setdefault(it.emotion, []).append(it)
    assert set(by) == {"neutral", *EMOTIONAL}  # all occur in 80 utterances
    for name, its in by.items():
        d_range = np.mean([it.settings.pitch_range - it.speaker_settings.pitch_range for it in its])
        assert np.sign(round(d_range)) == np.sign(MOODS[name].pitch_range), name
    assert np.mean([it.mood for it in by["neutral"]]) == 0.0


def test_rule_on_a_synthetic_signal():
    """Loud and high-pitched halves drive the jaw and the brows, without any eSpeak."""
    sr, fps = 16000, 25.0
    t = np.arange(2 * sr) / sr
    f0 = np.where(t < 1.0, 120.0, 220.0)
    envelope = np.where((t % 0.5) < 0.25, 1.0, 0.2)  # quiet parts stay voiced
    samples = (0.3 * envelope * np.sin(2 * np.pi * np.cumsum(f0) / sr)).astype(np.float32)
    aus = au_track_from_speech(
        samples,
        sr,
        f0_mean=np.log(160.0),
        f0_std=0.2,
        mood=0.0,
        rng=np.random.default_rng(0),
        fps=fps,
    )
    assert aus.shape == (50, 17)
    jaw = aus[:, au_index("AU26")]
    loud = np.repeat([1, 0] * 4, 6)  # 0.25 s on/off = 6.25 frames
    assert jaw[:48][loud == 1].mean() > jaw[:48][loud == 0].mean() + 1.0
    brow_up = aus[:, au_index("AU01")]
    assert brow_up[30:].mean() > brow_up[:20].mean() + 0.5
    # Deterministic from the generator.
    again = au_track_from_speech(
        samples,
        sr,
        f0_mean=np.log(160.0),
        f0_std=0.2,
        mood=0.0,
        rng=np.random.default_rng(0),
        fps=fps,
    )
    np.testing.assert_array_equal(aus, again)


def test_idempotent_resume_and_config_change(mini, tmp_path):
    root, _ = mini
    corpus = root / "corpus"
    wav = sorted((corpus / "wav").glob("*.wav"))
    mtimes = {p: p.stat().st_mtime_ns for p in wav}
    generate_mini_corpus(corpus, **SMALL)  # complete: reused, nothing rewritten
    assert {p: p.stat().st_mtime_ns for p in wav} == mtimes

    # An interrupted run: one utterance missing, marker not complete -> only it is made again.
    victim = wav[0]
    victim.unlink()
    marker = json.loads((corpus / MARKER).read_text())
    marker["complete"] = False
    (corpus / MARKER).write_text(json.dumps(marker))
    generate_mini_corpus(corpus, **SMALL)
    assert victim.is_file()
    assert wav[1].stat().st_mtime_ns == mtimes[wav[1]]
    assert json.loads((corpus / MARKER).read_text())["complete"] is True

    # Another config regenerates into a fresh corpus of the new size.
    other = tmp_path / "other"
    generate_mini_corpus(other, num_speakers=1, utts_per_speaker=1, num_videos=0, num_workers=1)
    generate_mini_corpus(other, num_speakers=1, utts_per_speaker=2, num_videos=0, num_workers=1)
    assert len(list((other / "wav").glob("*.wav"))) == 2


def test_bad_corpus_dir(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(CauseError, match="file"):
        generate_mini_corpus(not_a_dir, **SMALL)


def test_flite_speakers_without_flite_are_a_clear_error(tmp_path, monkeypatch):
    from espnet_cause.corpora.mini import flite

    monkeypatch.setattr(flite, "flite_available", lambda: False)
    with pytest.raises(CauseError, match="--flite_speakers 2 needs CMU Flite") as err:
        generate_mini_corpus(tmp_path / "mini", **SMALL, flite_speakers=2)
    assert "apt-get install -y libflite1" in str(err.value)
    assert not (tmp_path / "mini").exists()  # nothing half-written
    with pytest.raises(CauseError, match="--flite_speakers >= 0"):
        generate_mini_corpus(tmp_path / "mini", **SMALL, flite_speakers=-1)


def test_videos(tmp_path, demo_image):
    import av

    from espnet_cause.render.warp import PhotoFrames

    # no face_landmarker_path: the packaged model
    with PhotoFrames(demo_image) as draw_frames:
        corpus = generate_mini_corpus(
            tmp_path / "c",
            num_speakers=1,
            utts_per_speaker=2,
            num_videos=1,
            num_workers=1,
            draw_frames=draw_frames,
        )

    videos = [u.video for u in list_mini(corpus) if u.video is not None]
    assert len(videos) == 1
    with av.open(str(videos[0])) as c:
        kinds = sorted(s.type for s in c.streams)
        frames = sum(1 for _ in c.decode(video=0))
    assert kinds == ["audio", "video"]
    track = read_openface_csv(corpus / "au" / (videos[0].stem + ".csv"))
    assert frames == len(track)


@pytest.mark.parametrize("emotion", ["angry", "surprised", "happy", "sad"])
def test_each_mood_adds_its_own_aus(emotion):
    """Each defined mood (drawn or not) adds its table's AUs, ramping in over 0.3 s."""
    from espnet_cause.corpora.mini.moods import MOODS

    sr = 16000
    t = np.arange(sr) / sr
    samples = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    kwargs = dict(f0_mean=np.log(140.0), f0_std=0.2, rng=np.random.default_rng(0), fps=25.0)
    base = au_track_from_speech(samples, sr, mood=0.0, **kwargs)
    kwargs["rng"] = np.random.default_rng(0)
    moved = au_track_from_speech(samples, sr, mood=0.8, emotion=emotion, **kwargs)
    diff = (moved - base)[10:].mean(0)
    for name, gain in MOODS[emotion].aus.items():
        assert diff[au_index(name)] > 0.6 * gain * 0.8, (emotion, name)
    others = [i for i in range(17) if i not in {au_index(n) for n in MOODS[emotion].aus}]
    assert np.abs(diff[others]).max() < 0.05


def test_photo_frames_names_a_missing_photo(tmp_path):
    from espnet_cause.render.warp import PhotoFrames

    with pytest.raises(CauseError, match="--face_image file not found"):
        PhotoFrames(tmp_path / "missing.jpg")
