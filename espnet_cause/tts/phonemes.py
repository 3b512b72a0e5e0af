"""Plain text -> the phoneme tokens the recipe's voices are trained on (eSpeak NG).

Stage 1 keeps the phonemes eSpeak spoke for each mini-corpus utterance and stage 8 trains the
voices on them (``token_type: word``: space-separated eSpeak mnemonics with their stress mark,
``_`` for a pause, see :func:`espnet_cause.tts.durations.phoneme_token`). A sentence given as
plain text is turned into the same tokens here, the way stage 8's syntheses
(``tts_expressivity``) do it.
"""

from __future__ import annotations

from collections.abc import Sequence

from espnet_cause.errors import CauseError
from espnet_cause.tts.durations import phoneme_token
from espnet_cause.tts.espeak import VoiceSettings, synthesize_phonemes

#: eSpeak voice that phonemises plain text by default (stage 8's).
DEFAULT_VOICE = "en"


def espeak_tokens(text: str, voice: str = DEFAULT_VOICE) -> list[str]:
    """The eSpeak phoneme tokens of a sentence, as the mini corpus's training text has them.

    Args:
        text: Plain text (``"hello world"``).
        voice: eSpeak voice (language) that phonemises it.

    Returns:
        The tokens, e.g. ``['_', 'h', '@', 'l', "'oU", 'w', "'3:", 'l', 'd', '_']``.
    """
    settings = VoiceSettings(voice=voice, rate=165, pitch=50, pitch_range=50)
    _, _, phonemes = synthesize_phonemes(text, settings)
    return [phoneme_token(p.name, p.stress) for p in phonemes]


def check_tokens(tokens: Sequence[str], token_list: Sequence[str], source: str) -> None:
    """Refuse tokens the model does not know (ESPnet would map them to ``<unk>`` silently).

    Args:
        tokens: The sentence's tokens.
        token_list: The model's token list.
        source: The model's config, named in the message.

    Raises:
        CauseError: naming the unknown tokens and a few of the known ones.
    """
    known = set(token_list)
    unknown = list(dict.fromkeys(t for t in tokens if t not in known))
    if unknown:
        some = " ".join(t for t in token_list if not t.startswith("<"))[:120]
        raise CauseError(
            f"{len(unknown)} token(s) of the text are not in the model's token list: "
            f"{' '.join(unknown)} (it knows: {some} ...)",
            path=source,
            fix="give plain text (it is phonemised with eSpeak, as stage 8 trains), or with "
            "--tokens the model's own tokens separated by spaces",
        )
