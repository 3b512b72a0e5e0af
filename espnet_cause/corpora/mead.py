"""MEAD (Wang et al., ECCV 2020): 60 actors, 8 emotions at 3 levels, multi-view video.

Expected layout under ``--corpus_dir`` (each actor's ``video.tar``/``audio.tar`` unpacked)::

    <spk>/video/front/<emotion>/level_<n>/<id>.mp4    frontal camera (other views are ignored)
    <spk>/audio/<emotion>/level_<n>/<id>.m4a          the speech

e.g. ``M003/video/front/angry/level_1/001.mp4``. The speaker is ``<spk>``; the utterance id is
``<spk>_<emotion>_level<n>_<id>``. The m4a is the audio source (stage 2 decodes it); without it,
the frontal video is. ``video.scp`` lists the frontal videos found; ``emotion`` the class of
the ``<emotion>`` folder (MEAD's 8: angry, contempt, disgusted, fear, happy, neutral, sad,
surprised).
"""

from __future__ import annotations

import os
from pathlib import Path

from espnet_cause.corpora.common import Utterance, clean_id, find_files, require_dir, require_some
from espnet_cause.emotion import parse_emotion
from espnet_cause.errors import CauseError

LAYOUT = (
    "<spk>/video/front/<emotion>/level_<n>/<id>.mp4 and <spk>/audio/<emotion>/level_<n>/<id>.m4a"
)
#: The camera view used.
VIEW = "front"


def _emotion(folder: str) -> str | None:
    """The class of a MEAD emotion folder (``angry`` ...), None for an unknown folder."""
    try:
        return parse_emotion(folder)
    except CauseError:
        return None


def _key(spk: str, emotion: str, level: str, stem: str) -> tuple[str, str]:
    return clean_id(spk, emotion, level.replace("_", ""), stem), clean_id(spk)


def list_mead(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """List the MEAD utterances found under ``corpus_dir`` (layout: module docstring)."""
    root = require_dir(corpus_dir, "mead", LAYOUT)
    audio: dict[tuple[str, str], Path] = {}
    video: dict[tuple[str, str], Path] = {}
    emotions: dict[tuple[str, str], str | None] = {}
    for spk_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for p in find_files(spk_dir / "audio", (".m4a", ".wav")):
            rel = p.relative_to(spk_dir / "audio").parts
            if len(rel) == 3:  # <emotion>/level_<n>/<id>.m4a
                key = _key(spk_dir.name, rel[0], rel[1], p.stem)
                audio.setdefault(key, p)
                emotions[key] = _emotion(rel[0])
        for p in find_files(spk_dir / "video" / VIEW, (".mp4",)):
            rel = p.relative_to(spk_dir / "video" / VIEW).parts
            if len(rel) == 3:
                key = _key(spk_dir.name, rel[0], rel[1], p.stem)
                video[key] = p
                emotions[key] = _emotion(rel[0])
    utts = [
        Utterance(
            utt_id=key[0],
            speaker=key[1],
            audio=audio.get(key) or video[key],
            video=video.get(key),
            emotion=emotions.get(key),
        )
        for key in sorted(set(audio) | set(video))
    ]
    require_some(utts, root, "mead", LAYOUT)
    return utts
