"""The mini corpus's plan: its voices, moods and the deterministic list of utterances.

No audio is made here; :mod:`espnet_cause.corpora.mini.synth` speaks one planned utterance and
:mod:`espnet_cause.corpora.mini.corpus` builds the corpus. See :mod:`espnet_cause.corpora.mini.corpus` for what
the corpus is.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.corpora.mini.moods import draw_mood, mood_voice
from espnet_cause.corpora.mini.text import make_sentence
from espnet_cause.tts.espeak import VoiceSettings

#: Bumped whenever the synthesis or the AU rule changes, so old corpora are regenerated.
MINI_VERSION = 5  # 2: every AU driven by the speech, ...; 3: mouth from phonemes, more voices;
# 4: the mouth fully scaled by loudness, silence before the voice;
# 5: moods as emotion labels (metadata.tsv emotion + strength columns; same speech and AUs as 4)
SAMPLE_RATE = 16000
#: eSpeak NG's English voices (accents), cycled over the speakers.
ENGLISH_VOICES = (
    "en", "en-us", "en-gb-scotland", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-us-nyc", "en-gb-x-rp",
)  # fmt: skip
#: eSpeak NG's voice variants (espeak-ng-data/voices/!v) but the robotic, demonic and whispered.
VARIANTS = (
    "m1", "f2", "m3", "f4", "m7", "f3", "m2", "f1", "m4", "f5", "m5", "m6", "m8",
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene",
    "Gene2", "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen",
    "Reed", "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm", "adam", "anika",
    "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "croak", "david",
    "ed", "edward", "edward2", "fast", "grandma", "grandpa", "gustave", "ian", "iven", "iven2",
    "iven3", "iven4", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5",
    "klatt6", "linda", "marcelo", "max", "michel", "miguel", "mike2", "norbert", "pablo", "paul",
    "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis",
    "victor", "zac",
)  # fmt: skip
#: CMU Flite's natural-sounding English voices (Debian ``libflite1``) cycled over the extra
#: ``flite_speakers`` (:mod:`espnet_cause.corpora.mini.flite`; ``kal``, 8 kHz diphones, is left out).
FLITE_SPEAKER_VOICES = ("flite:slt", "flite:awb", "flite:rms")
#: Ranges of the per-speaker base settings.
SPEAKER_PITCH = (25, 75)
SPEAKER_RANGE = (35, 85)
SPEAKER_RATE = (130, 200)
#: Sentences spoken in each voice (neutral) to measure the speaker's F0 statistics.
CALIBRATION_SENTENCES = (
    "The morning was quiet and the river was calm.",
    "Did you see the bright lantern near the bridge?",
    "Please carry the heavy basket to the kitchen.",
    "What a strange and wonderful painting that was!",
)


@dataclasses.dataclass(frozen=True)
class MiniConfig:
    """Everything that determines the generated corpus (stored in ``mini_corpus.json``)."""

    num_speakers: int = 16
    utts_per_speaker: int = 20
    flite_speakers: int = 0
    num_videos: int = 12
    seed: int = 0
    au_fps: float = DEFAULT_AU_FPS
    version: int = MINI_VERSION


@dataclasses.dataclass(frozen=True)
class MiniItem:
    """The plan of one utterance (``emotion``: its mood, ``mood``: the mood's strength 0-1)."""

    utt_id: str
    speaker: str
    speaker_settings: VoiceSettings
    settings: VoiceSettings
    emotion: str
    mood: float
    text: str
    seed: tuple[int, int, int]


def speaker_id(k: int) -> str:
    return f"mini{k + 1:02d}"


def plan_corpus(config: MiniConfig) -> list[MiniItem]:
    """The deterministic list of utterances for ``config`` (no audio is made)."""

    items = []
    variants = np.random.default_rng([config.seed, 1 << 20]).permutation(len(VARIANTS))
    for k in range(config.num_speakers + config.flite_speakers):
        rng = np.random.default_rng([config.seed, k])
        if k < config.num_speakers:
            voice = (
                f"{ENGLISH_VOICES[k % len(ENGLISH_VOICES)]}+{VARIANTS[variants[k % len(VARIANTS)]]}"
            )
        else:  # the extra Flite speakers, after the eSpeak ones (their ids move no other)
            voice = FLITE_SPEAKER_VOICES[(k - config.num_speakers) % len(FLITE_SPEAKER_VOICES)]
        base = VoiceSettings(
            voice=voice,
            rate=int(rng.integers(*SPEAKER_RATE)),
            pitch=int(rng.integers(*SPEAKER_PITCH)),
            pitch_range=int(rng.integers(*SPEAKER_RANGE)),
        )
        for j in range(config.utts_per_speaker):
            emotion, mood = draw_mood(rng)
            settings = mood_voice(base, emotion, mood, rng)
            items.append(
                MiniItem(
                    utt_id=f"{speaker_id(k)}-{j + 1:04d}",
                    speaker=speaker_id(k),
                    speaker_settings=base,
                    settings=settings,
                    emotion=emotion,
                    mood=mood,
                    text=make_sentence(rng),
                    seed=(config.seed, k, j),
                )
            )
    return items
