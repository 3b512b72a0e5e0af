"""AUText2Speech takes plain text as the CLI does: phonemised with eSpeak for a phoneme-token voice."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from espnet_cause.errors import CauseError


@pytest.fixture(scope="module")
def phoneme_tts(tiny_fastspeech2_au, tmp_path_factory):
    """The tiny FastSpeech2AU with eSpeak phoneme names for its 5 tokens, as stage 8's voices
    have (same weights; only the token names change)."""
    from espnet_cause.inference.text2speech import AUText2Speech

    exp, _ = tiny_fastspeech2_au
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    assert conf["token_list"] == ["<blank>", "<unk>", "a", "b", "c", "d", "e", "<sos/eos>"]
    conf["token_list"] = ["<blank>", "<unk>", "_", "h", "@", "l", "'oU", "<sos/eos>"]
    config = tmp_path_factory.mktemp("phoneme_tts") / "config.yaml"
    config.write_text(yaml.safe_dump(conf))
    return AUText2Speech(config, exp / "1epoch.pth")


def test_plain_text_is_phonemised_like_its_tokens(phoneme_tts):
    assert phoneme_tts.model_text("hello") == "_ h @ l 'oU _"
    smile = np.zeros((1, 17), np.float32)
    plain = phoneme_tts("hello", au=smile)
    tokens = phoneme_tts("_ h @ l 'oU _", au=smile, tokens=True)
    # 6 tokens + <sos/eos>: each token got a duration (it was one <unk> before)
    assert plain["duration"].shape == (7,)
    np.testing.assert_array_equal(plain["duration"], tokens["duration"])
    np.testing.assert_allclose(plain["feat_gen"], tokens["feat_gen"], rtol=0, atol=1e-6)


def test_unknown_tokens_are_refused_by_name(phoneme_tts):
    with pytest.raises(CauseError, match="not in the model's token list: hello world"):
        phoneme_tts("hello world", tokens=True)
