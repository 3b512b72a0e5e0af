"""A tiny generated TTS corpus: token ids, random wavs, teacher durations, AU streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FS = 16000
HOP = 256
N_FFT = 512
TOKENS = ["<blank>", "<unk>", "a", "b", "c", "d", "e", "<sos/eos>"]
NUM_UTTS = 4


def write_corpus(root: Path, fs: int = FS, hop: int = HOP, num_utts: int = NUM_UTTS) -> dict:
    """Write a corpus under ``root``; returns the paths of its files.

    Files: ``token_list``, ``text`` (space-separated tokens), ``wav.scp`` (random noise wavs,
    0.4-0.6 s), ``durations`` (``text_int``: frames per token plus the eos, summing to
    ``1 + n // hop``), ``au.scp`` (frame-level AU on the feature grid) and ``au_embed.scp``.
    """
    import kaldiio
    import soundfile as sf

    from espnet_cause.tts.features import au_embed

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    (root / "token_list").write_text("".join(t + "\n" for t in TOKENS))
    text, wavs, durs, aus, embeds = {}, {}, {}, {}, {}
    for i in range(num_utts):
        key = f"utt{i}"
        n = int(fs * (0.4 + 0.05 * i))
        wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
        path = root / "wav" / f"{key}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, wav, fs)
        frames = 1 + n // hop
        ntok = 3 + i % 3
        toks = rng.choice(TOKENS[2:-1], size=ntok)
        cuts = np.sort(rng.choice(np.arange(1, frames - 1), size=ntok, replace=False))
        d = np.diff(np.concatenate([[0], cuts, [frames]]))  # ntok + 1 durations (eos included)
        au = np.clip(rng.uniform(0, 2, size=(frames, 17)) * (1 + i), 0, 5).astype(np.float32)
        text[key], wavs[key] = " ".join(toks), str(path)
        durs[key], aus[key], embeds[key] = " ".join(map(str, d)), au, au_embed(au)
    for name, mapping in (("text", text), ("wav.scp", wavs), ("durations", durs)):
        (root / name).write_text("".join(f"{k} {v}\n" for k, v in sorted(mapping.items())))
    kaldiio.save_ark(str(root / "au.ark"), aus, scp=str(root / "au.scp"))
    kaldiio.save_ark(str(root / "au_embed.ark"), embeds, scp=str(root / "au_embed.scp"))
    return {
        name: root / name
        for name in ("token_list", "text", "wav.scp", "durations", "au.scp", "au_embed.scp")
    }


@pytest.fixture(scope="module")
def tts_corpus(tmp_path_factory) -> dict:
    """The generated corpus (module-scoped: written once per test file)."""
    return write_corpus(tmp_path_factory.mktemp("tts_corpus"))
