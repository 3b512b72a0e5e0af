"""CREMA-D (Cao et al., 2014): 91 actors, 12 sentences, 6 emotions, audio-visual.

Expected layout under ``--corpus_dir`` (as distributed in the CREMA-D git-lfs repository)::

    AudioWAV/1001_DFA_ANG_XX.wav        16 kHz mono speech
    VideoFlash/1001_DFA_ANG_XX.flv      video (an .mp4 with the same stem is also accepted,
                                        e.g. after converting the flv files)

Audio without video may also lie flat in ``--corpus_dir`` (``1002_DFA_ANG_XX.wav``, as a copy
of a few of the wavs is kept).

File names are ``<actor>_<sentence>_<emotion>_<level>``; the speaker is the actor (first field).
An utterance needs its wav; the video is optional (``video.scp`` lists the ones found). A video
without a wav is used as the audio source too. ``intensity`` holds the level: ``HI`` strong,
``LO`` and ``MD`` normal, ``XX`` (unspecified) none. ``text`` holds the sentence for the 12 sentence
codes of the corpus, ``emotion`` the class of the emotion code (``ANG DIS FEA HAP NEU SAD``).
"""

from __future__ import annotations

import os
from pathlib import Path

from espnet_cause.corpora.common import Utterance, clean_id, find_files, require_dir, require_some
from espnet_cause.emotion import parse_emotion
from espnet_cause.errors import CauseError

LAYOUT = "AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav and VideoFlash/<same stem>.flv|.mp4"

#: The 12 CREMA-D sentences by code.
SENTENCES = {
    "IEO": "It's eleven o'clock.",
    "TIE": "That is exactly what happened.",
    "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.",
    "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.",
    "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.",
    "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.",
    "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}
VIDEO_DIR = "VideoFlash"
AUDIO_DIR = "AudioWAV"
#: Level code -> intensity name (``XX``, unspecified, has none).
LEVELS = {"LO": "normal", "MD": "normal", "HI": "strong"}


def _emotion(code: str) -> str | None:
    """The class of a CREMA-D emotion code (``ANG`` ...), None for an unknown code."""
    try:
        return parse_emotion(code)
    except CauseError:
        return None


def list_crema_d(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """List the CREMA-D utterances found under ``corpus_dir`` (layout: module docstring)."""
    root = require_dir(corpus_dir, "crema_d", LAYOUT)
    audio = {p.stem: p for p in find_files(root / AUDIO_DIR, (".wav",))}
    for p in sorted(root.glob("*.wav")):  # audio without video, flat
        audio.setdefault(p.stem, p)
    video: dict[str, Path] = {}
    for p in find_files(root / VIDEO_DIR, (".flv", ".mp4")):
        video.setdefault(p.stem, p)  # .flv sorts before .mp4
    utts = []
    for stem in sorted(set(audio) | set(video)):
        fields = stem.split("_")
        if len(fields) < 3 or not fields[0]:
            continue
        utts.append(
            Utterance(
                utt_id=clean_id(stem),
                speaker=clean_id(fields[0]),
                audio=audio.get(stem) or video[stem],
                video=video.get(stem),
                text=SENTENCES.get(fields[1]),
                emotion=_emotion(fields[2]),
                intensity=LEVELS.get(fields[3]) if len(fields) > 3 else None,
            )
        )
    require_some(utts, root, "crema_d", LAYOUT)
    return utts
