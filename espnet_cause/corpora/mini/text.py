"""Sentences for the synthetic mini corpus, generated from word lists by templates.

Deterministic from a random generator: the same seed gives the same sentences. Statements,
questions and exclamations are mixed so that eSpeak's intonation (and thus F0) varies.
"""

from __future__ import annotations

import numpy as np

NAMES = (
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Grace", "Henry", "Iris", "Jonas",
    "Kate", "Leo", "Maya", "Noah", "Olivia", "Paul", "Rosa", "Sam", "Tina", "Victor",
)  # fmt: skip
ADJECTIVES = (
    "small", "bright", "quiet", "heavy", "golden", "broken", "careful", "sudden", "gentle",
    "ancient", "yellow", "narrow", "curious", "frozen", "happy", "lonely", "shiny", "wooden",
    "tired", "clever", "distant", "simple", "strange", "warm",
)  # fmt: skip
NOUNS = (
    "garden", "window", "letter", "river", "mountain", "kitchen", "bicycle", "teacher",
    "painting", "station", "market", "island", "candle", "forest", "bridge", "music",
    "morning", "village", "camera", "basket", "harbor", "blanket", "ladder", "orchestra",
    "library", "puzzle", "engine", "meadow", "lantern", "umbrella",
)  # fmt: skip
VERBS_PAST = (
    "found", "opened", "painted", "carried", "watched", "repaired", "followed", "cleaned",
    "visited", "forgot", "described", "noticed", "borrowed", "measured", "admired", "moved",
)  # fmt: skip
VERBS_BASE = (
    "find", "open", "paint", "carry", "watch", "repair", "follow", "clean", "visit",
    "describe", "notice", "borrow", "measure", "move",
)  # fmt: skip
PLACES = (
    "near the station", "behind the old bridge", "in the kitchen", "across the river",
    "at the market", "under the table", "on the island", "by the window", "in the forest",
    "after dinner", "before sunrise", "during the storm", "at the end of the road",
)  # fmt: skip
ADVERBS = ("slowly", "quickly", "carefully", "quietly", "suddenly", "happily", "again", "twice")
TIMES = ("yesterday", "last week", "this morning", "on Sunday", "every day", "tonight", "today")
NUMBERS = ("two", "three", "four", "five", "seven", "nine", "twelve", "twenty")


def _pick(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    return words[int(rng.integers(len(words)))]


def _a(word: str) -> str:
    """``word`` with its indefinite article (``a bright``, ``an ancient``)."""
    return ("an " if word[0] in "aeiou" else "a ") + word


def make_sentence(rng: np.random.Generator) -> str:
    """One random sentence of about 5-14 words.

    Args:
        rng: Random generator; consumed.

    Returns:
        The sentence, capitalised, with final punctuation.
    """
    p = lambda words: _pick(rng, words)  # noqa: E731
    templates = (
        lambda: f"{p(NAMES)} {p(VERBS_PAST)} the {p(ADJECTIVES)} {p(NOUNS)} {p(PLACES)}.",
        lambda: f"The {p(NOUNS)} was {p(ADJECTIVES)} and {p(ADJECTIVES)} {p(TIMES)}.",
        lambda: f"Did {p(NAMES)} {p(VERBS_BASE)} the {p(NOUNS)} {p(PLACES)}?",
        lambda: f"We {p(ADVERBS)} {p(VERBS_PAST)} {p(NUMBERS)} {p(ADJECTIVES)} {p(NOUNS)}s.",
        lambda: f"Why is the {p(NOUNS)} so {p(ADJECTIVES)} {p(TIMES)}?",
        lambda: f"What {_a(p(ADJECTIVES))} {p(NOUNS)} that was!",
        lambda: (
            f"{p(NAMES)} and {p(NAMES)} {p(VERBS_PAST)} {_a(p(NOUNS))}, "
            f"then they {p(ADVERBS)} {p(VERBS_PAST)} the {p(NOUNS)}."
        ),
        lambda: f"Please {p(VERBS_BASE)} the {p(ADJECTIVES)} {p(NOUNS)} {p(TIMES)}.",
        lambda: f"I think the {p(NOUNS)} is {p(PLACES)}, not {p(PLACES)}.",
        lambda: f"{p(NAMES)} {p(ADVERBS)} {p(VERBS_PAST)} the {p(NOUNS)}!",
    )
    return templates[int(rng.integers(len(templates)))]()
