"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TTS_TESTS = Path(__file__).resolve().parents[1] / "tts"


def _load(name: str, path: Path):
    """Import a tests/tts module under a private name (no clash with pytest's own imports)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_fastspeech2_au(tmp_path_factory) -> tuple[Path, dict]:
    """(exp dir, corpus) of a FastSpeech2AU trained two steps on the tests/tts corpus, once per
    session; the exp dir holds ``config.yaml`` and ``1epoch.pth``. Tests only read it."""
    from espnet_cause.bin.au_tts_train import main as train

    corpus_mod = _load("_tts_corpus_conftest", TTS_TESTS / "conftest.py")
    training = _load("_tts_training_helpers", TTS_TESTS / "test_tts_training.py")
    root = tmp_path_factory.mktemp("tiny_fastspeech2_au")
    corpus = corpus_mod.write_corpus(root / "corpus")
    shape = training._shape_file(corpus, root / "speech_shape")
    args = training._common(root, "tts_fastspeech2_au_tiny.yaml")
    args += ["--token_list", str(corpus["token_list"])]
    extra = [("durations", "durations", "text_int"), ("au.scp", "au", "kaldi_ark")]
    args += training._data_args(corpus, extra, shape)
    train(args)
    return root / "exp", corpus
