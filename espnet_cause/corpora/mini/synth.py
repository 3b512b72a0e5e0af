"""One planned mini-corpus utterance spoken: its wav, AU CSV, ARKit track and timed phonemes.

eSpeak NG speaks the sentence with the planned voice settings, the rule of
:mod:`espnet_cause.corpora.mini.teacher` turns the speech and its timed phonemes into an AU track, and
the phonemes are kept as a Kaldi CTM (``phonemes/<utt>.ctm``, TTS tokens of
:mod:`espnet_cause.tts.durations`) for FastSpeech2 durations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from espnet_cause.arkit import aus_to_blendshapes
from espnet_cause.corpora.mini import flite
from espnet_cause.corpora.mini.moods import mood_gain
from espnet_cause.corpora.mini.plan import (
    CALIBRATION_SENTENCES,
    SAMPLE_RATE,
    MiniItem,
)
from espnet_cause.corpora.mini.teacher import au_track_from_speech
from espnet_cause.corpora.mini.teacher import speaker_f0_stats as stats
from espnet_cause.io.audio import resample, write_wav
from espnet_cause.io.blendshapes import blendshape_csv_path, write_blendshape_csv
from espnet_cause.io.ctm import write_ctm
from espnet_cause.io.openface import write_openface_csv
from espnet_cause.io.track import AUTrack
from espnet_cause.tts import espeak
from espnet_cause.tts.durations import phoneme_token
from espnet_cause.tts.espeak import VoiceSettings, get_synthesizer

#: Range of the silence before the voice, seconds (uniform per utterance, from its seed). Real
#: recordings start with a pause of any length; eSpeak speaks from sample 0, so without it every
#: training utterance starts at a speech onset and a model learns to open the mouth at the start.
LEAD_SILENCE_S = (0.0, 0.8)


def synthesize_16k(text: str, settings: VoiceSettings) -> np.ndarray:
    """Speak ``text`` (eSpeak NG, or Flite for a ``flite:<voice>``): (N,) float32 samples at 16 kHz."""
    return synthesize_16k_phonemes(text, settings)[0]


def synthesize_16k_phonemes(text: str, settings: VoiceSettings) -> tuple[np.ndarray, list]:
    """Speak ``text``: (N,) float32 samples at 16 kHz and the timed phonemes (seconds).

    eSpeak NG speaks it, or CMU Flite for a ``flite:<voice>`` (:mod:`espnet_cause.corpora.mini.flite`).
    """

    engine = flite if flite.is_flite_voice(settings.voice) else espeak
    samples, sr, phonemes = engine.synthesize_phonemes(text, settings)
    return resample(samples, sr, SAMPLE_RATE), phonemes


def speak_item(item: MiniItem) -> tuple[np.ndarray, list]:
    """An utterance's speech as written to the corpus and its timed phonemes (seconds of it).

    eSpeak's speech at the mood's level, preceded by :data:`LEAD_SILENCE_S` of digital silence
    (the phoneme times moved with it).

    Returns:
        (N,) float32 samples at 16 kHz and the timed phonemes.
    """
    import dataclasses

    samples, phonemes = synthesize_16k_phonemes(item.text, item.settings)
    samples = np.clip(samples * mood_gain(item.emotion, item.mood), -1.0, 1.0)
    lead = float(np.random.default_rng([*item.seed, 1 << 21]).uniform(*LEAD_SILENCE_S))
    num = int(round(lead * SAMPLE_RATE))
    samples = np.concatenate([np.zeros(num, np.float32), samples.astype(np.float32)])
    shift = num / SAMPLE_RATE
    phonemes = [
        dataclasses.replace(ph, start=ph.start + shift, end=ph.end + shift) for ph in phonemes
    ]
    if phonemes and shift > 0:  # the silence is a pause
        phonemes.insert(
            0, dataclasses.replace(phonemes[0], name="_", start=0.0, end=shift, stress=0)
        )
    return samples, phonemes


_F0_STATS: dict[VoiceSettings, tuple[float, float]] = {}


def speaker_f0_stats(settings: VoiceSettings) -> tuple[float, float]:
    """Log-F0 mean and std of a voice, from its calibration sentences (cached per process)."""

    if settings not in _F0_STATS:
        audio = [synthesize_16k(s, settings) for s in CALIBRATION_SENTENCES]
        _F0_STATS[settings] = stats(audio, SAMPLE_RATE)
    return _F0_STATS[settings]


def utterance_paths(corpus_dir: Path, utt_id: str) -> tuple[Path, Path, Path]:
    return (
        corpus_dir / "wav" / f"{utt_id}.wav",
        corpus_dir / "au" / f"{utt_id}.csv",
        corpus_dir / "video" / f"{utt_id}.mp4",
    )


def phoneme_path(corpus_dir: Path, utt_id: str) -> Path:
    """The utterance's timed phonemes (Kaldi CTM of TTS tokens)."""
    return corpus_dir / "phonemes" / f"{utt_id}.ctm"


def item_done(corpus_dir: Path, utt_id: str) -> bool:
    """Whether the utterance's wav, AU CSV and phonemes are all written."""
    wav_path, csv_path, _ = utterance_paths(corpus_dir, utt_id)
    return all(p.is_file() for p in (wav_path, csv_path, phoneme_path(corpus_dir, utt_id)))


def write_phonemes(corpus_dir: Path, utt_id: str, phonemes: list) -> Path:
    """Write eSpeak's timed phonemes of one utterance as ``phonemes/<utt>.ctm``."""

    path = phoneme_path(corpus_dir, utt_id)
    segments = [(p.start, p.end - p.start, phoneme_token(p.name, p.stress)) for p in phonemes]
    write_ctm(path, {utt_id: segments})
    return path


def generate_item(item: MiniItem, corpus_dir: Path, au_fps: float) -> dict:
    """Synthesize one utterance and write its wav and AU CSV (atomically).

    Returns:
        ``{"utt_id", "seconds", "frames"}``.
    """

    wav_path, csv_path, _ = utterance_paths(corpus_dir, item.utt_id)
    samples, phonemes = speak_item(item)
    f0_mean, f0_std = speaker_f0_stats(item.speaker_settings)
    aus = au_track_from_speech(
        samples,
        SAMPLE_RATE,
        f0_mean=f0_mean,
        f0_std=f0_std,
        mood=item.mood,
        emotion=item.emotion,
        rng=np.random.default_rng(list(item.seed)),
        fps=au_fps,
        phonemes=phonemes,
    )
    write_openface_csv(csv_path, AUTrack.from_array(aus, au_fps, source=str(csv_path)))
    write_arkit_track(csv_path, aus, au_fps)
    write_phonemes(corpus_dir, item.utt_id, phonemes)
    write_wav(wav_path, samples, SAMPLE_RATE)  # last: its presence marks the item done
    return {"utt_id": item.utt_id, "seconds": len(samples) / SAMPLE_RATE, "frames": len(aus)}


def write_arkit_track(au_csv: Path, aus: np.ndarray, au_fps: float) -> Path:
    """The utterance's ARKit track: its AU track through the AU -> ARKit table.

    Written as ``<utt>.blendshapes.csv`` beside the AU CSV, where stage 2 imports it for
    ``target: arkit`` models (utterances with a video get MediaPipe's own blendshapes of the
    video instead). Synthetic like the AUs: left and right equal, no gaze, no tongue.
    """

    path = blendshape_csv_path(au_csv)
    return write_blendshape_csv(path, aus_to_blendshapes(aus), np.arange(len(aus)) / au_fps)


_PROGRESS = None  # queue to the parent process, set in worker processes


def init_worker(progress) -> None:
    global _PROGRESS
    _PROGRESS = progress


def generate_speaker(items: list[MiniItem], corpus_dir: Path, au_fps: float, seed: int) -> int:
    """Make the missing utterances of one speaker, in a fresh process.

    eSpeak keeps state between utterances, so for reproducible audio every speaker is synthesized
    in a new process in the same order -- seed, calibration sentences, then every utterance of the
    speaker (finished ones are synthesized again, 5 ms each, but not written; only their timed
    phonemes are, if a corpus made before they were kept lacks them).

    Returns:
        Number of utterances written.
    """

    get_synthesizer().set_seed(seed)
    speaker_f0_stats(items[0].speaker_settings)
    written = 0
    for it in items:
        if all(p.is_file() for p in utterance_paths(corpus_dir, it.utt_id)[:2]):
            _, phonemes = speak_item(it)  # keeps eSpeak's history the same
            if not phoneme_path(corpus_dir, it.utt_id).is_file():
                write_phonemes(corpus_dir, it.utt_id, phonemes)
                written += 1
                if _PROGRESS is not None:
                    _PROGRESS.put(1)
        else:
            generate_item(it, corpus_dir, au_fps)
            written += 1
            if _PROGRESS is not None:
                _PROGRESS.put(1)
    return written
