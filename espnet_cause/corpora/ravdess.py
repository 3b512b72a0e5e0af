"""RAVDESS (Livingstone & Russo, PLoS ONE 2018): 24 actors, 8 emotions, 2 intensities, speech.

Expected layout under ``--corpus_dir`` (the audio-only speech files; any sample rate, wav or
flac)::

    Actor_01/03-01-05-02-01-01-01.flac      (or .wav)

The file name is the label: ``MM-VC-EE-II-SS-RR-AA`` with modality ``MM`` (01 full AV, 02 video
only, 03 audio only), vocal channel ``VC`` (01 speech, 02 song), emotion ``EE`` (01 neutral, 02
calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised), intensity ``II`` (01
normal, 02 strong; neutral has only 01), statement ``SS`` (01 "Kids are talking by the door", 02
"Dogs are sitting by the door"), repetition ``RR`` and actor ``AA`` (odd male, even female).
Only speech files (``VC`` 01) with an audio track (``MM`` 01 or 03) are listed: song and
silent video are not speech.

Written per utterance: ``wav.scp``, ``text`` (the statement), ``emotion`` (calm is written as
``neutral``: the class vocabulary has no calm, and the expression prototypes give both no AUs)
and ``intensity`` (``normal``/``strong``). The speaker is ``Actor_AA``.

The speakers are split by actor, fixed (:data:`SPLIT`), so every figure names the same people:
test Actor_17-20 (two men, two women), valid (dev) Actor_15-16 (one of each), train the others
(Actor_01-14, and Actor_21-24 where present). ``--valid_speakers``/``--test_speakers`` give the
hashed split of the other corpora instead.
"""

from __future__ import annotations

import os

from espnet_cause.corpora.common import Utterance, clean_id, find_files, require_dir, require_some

LAYOUT = "Actor_<AA>/03-01-<EE>-<II>-<SS>-<RR>-<AA>.flac|.wav"

#: Emotion code -> class of :data:`espnet_cause.emotion.EMOTIONS` (calm -> neutral).
EMOTION_CODES: dict[str, str] = {
    "01": "neutral",
    "02": "neutral",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgusted",
    "08": "surprised",
}
#: The emotion codes as the corpus names them (calm is kept apart here).
EMOTION_NAMES: dict[str, str] = dict(EMOTION_CODES, **{"02": "calm"})
#: Intensity code -> name.
INTENSITY_CODES: dict[str, str] = {"01": "normal", "02": "strong"}
#: Statement code -> text.
STATEMENTS: dict[str, str] = {
    "01": "Kids are talking by the door.",
    "02": "Dogs are sitting by the door.",
}
#: The fixed actor split (speaker ids); actors not named here are in train.
SPLIT: dict[str, tuple[str, ...]] = {
    "test": ("Actor_17", "Actor_18", "Actor_19", "Actor_20"),
    "valid": ("Actor_15", "Actor_16"),
}


def default_split(speakers) -> dict[str, list[str]]:
    """:data:`SPLIT` for the ``speakers`` present: split name -> sorted speaker ids."""
    speakers = sorted(set(speakers))
    held = {spk: split for split, names in SPLIT.items() for spk in names}
    out: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    for spk in speakers:
        out[held.get(spk, "train")].append(spk)
    return out


def parse_name(stem: str) -> dict[str, str] | None:
    """The labels of a RAVDESS file name (``03-01-05-02-01-01-01``), None for another name.

    Returns:
        ``emotion`` (class), ``emotion_name`` (with calm), ``intensity``, ``statement`` (code),
        ``repetition``, ``actor`` (``Actor_AA``), ``modality`` and ``channel`` codes.
    """
    fields = stem.split("-")
    if len(fields) != 7 or not all(len(f) == 2 and f.isdigit() for f in fields):
        return None
    modality, channel, emo, intensity, statement, repetition, actor = fields
    if emo not in EMOTION_CODES or intensity not in INTENSITY_CODES or statement not in STATEMENTS:
        return None
    return {
        "modality": modality,
        "channel": channel,
        "emotion": EMOTION_CODES[emo],
        "emotion_name": EMOTION_NAMES[emo],
        "intensity": INTENSITY_CODES[intensity],
        "statement": statement,
        "repetition": repetition,
        "actor": f"Actor_{actor}",
    }


def list_ravdess(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """List the RAVDESS speech utterances under ``corpus_dir`` (layout: module docstring)."""
    root = require_dir(corpus_dir, "ravdess", LAYOUT)
    utts = []
    for path in find_files(root, (".flac", ".wav")):
        labels = parse_name(path.stem)
        if labels is None or labels["channel"] != "01" or labels["modality"] == "02":
            continue
        utts.append(
            Utterance(
                utt_id=clean_id(labels["actor"], path.stem),
                speaker=labels["actor"],
                audio=path,
                text=STATEMENTS[labels["statement"]],
                emotion=labels["emotion"],
                intensity=labels["intensity"],
            )
        )
    require_some(utts, root, "ravdess", LAYOUT)
    return utts
