"""Stage 8's steps on a tiny corpus: voiced subset of collected pitch, syntheses and their table."""

from __future__ import annotations

import json

import numpy as np
import pytest


def test_voiced_subset_drops_unvoiced_utterances_and_recomputes_pitch_stats(tmp_path):
    from espnet_cause.bin.tts_voiced_subset import main

    stats = tmp_path / "stats"
    pitches = {"a": np.array([5.0, 5.2, 0.0]), "b": np.zeros(3), "c": np.array([4.8, 4.9, 5.1])}
    for split in ("train", "valid"):
        cf = stats / split / "collect_feats"
        cf.mkdir(parents=True)
        lines = []
        for key, pitch in pitches.items():
            np.save(cf / f"{key}.npy", pitch.reshape(-1, 1).astype(np.float32))
            lines.append(f"{key} {cf / f'{key}.npy'}\n")
        (cf / "pitch.scp").write_text("".join(lines))
        for name in ("text_shape", "speech_shape"):
            (stats / split / name).write_text("a 3\nb 3\nc 3\n")
    main(["--stats_dir", str(stats)])
    for split in ("train", "valid"):
        voiced = stats / split / "voiced"
        assert (voiced / "text_shape").read_text() == "a 3\nc 3\n"
        assert (voiced / "speech_shape").read_text() == "a 3\nc 3\n"
        assert "no voiced token" in (voiced / "report.tsv").read_text()
    s = np.load(stats / "train" / "voiced" / "pitch_stats.npz")
    values = np.array([5.0, 5.2, 4.8, 4.9, 5.1])  # zeros (unvoiced) are not counted
    assert int(s["count"]) == 5 and float(s["sum"][0]) == pytest.approx(values.sum(), rel=1e-5)
    assert float(s["sum_square"][0]) == pytest.approx((values**2).sum(), rel=1e-5)
    assert not (stats / "valid" / "voiced" / "pitch_stats.npz").exists()


@pytest.fixture(scope="module")
def tiny_au_model(tiny_fastspeech2_au):
    """A FastSpeech2AU trained two steps on the tests/tts corpus, and that corpus."""
    return tiny_fastspeech2_au


def test_expressivity_writes_syntheses_table_and_summary(tiny_au_model, tmp_path):
    from espnet_cause.bin.tts_expressivity import main
    from espnet_cause.io.ctm import write_ctm

    exp, corpus = tiny_au_model
    keys = [ln.split()[0] for ln in corpus["wav.scp"].read_text().splitlines()]
    moods = dict(zip(keys, ["1.0", "-0.9", "0.7", "-0.8"], strict=True))
    (tmp_path / "utt2mood").write_text("".join(f"{k} {m}\n" for k, m in moods.items()))
    write_ctm(tmp_path / "phones.ctm", {k: [(0.0, 0.2, "_"), (0.2, 0.2, "a")] for k in keys})
    (tmp_path / "sentences").write_text("Hello there.\nA small test.\n")
    out = tmp_path / "synth"
    main(["--tts_dir", str(exp), "--model_file", "1epoch.pth", "--au_scp", str(corpus["au.scp"]),
          "--utt2mood", str(tmp_path / "utt2mood"), "--corpus_wav_scp", str(corpus["wav.scp"]),
          "--corpus_ctm", str(tmp_path / "phones.ctm"), "--sentences", str(tmp_path / "sentences"),
          "--output_dir", str(out)])  # fmt: skip
    for cond in ("happy", "sad", "own"):
        assert sorted(p.name for p in (out / "au" / cond).iterdir()) == ["0.wav", "1.wav"]
    rows = (out / "prosody.tsv").read_text().splitlines()
    assert rows[0].startswith("model\tcondition\tsentence\treference\tf0_median")
    assert len(rows) == 1 + 3 * 2
    happy_refs = {r.split("\t")[3] for r in rows[1:] if r.split("\t")[1] == "happy"}
    assert happy_refs == {"utt0", "utt2"}  # mood >= 0.6, one per sentence
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_sentences"] == 2
    assert summary["corpus"]["happy"]["count"] == 2 and summary["corpus"]["sad"]["count"] == 2
    assert set(summary["shifts"]["au"]) >= {"f0_median", "f0_range", "rate", "energy_db", "means"}
    assert "own" in summary["shifts"]["au"]["means"]
    assert set(summary["checks"]) >= {"au_f0_shift_st", "au_steers"}
    table = (out / "table.md").read_text()
    assert "| speaking rate (phonemes/s) |" in table and "AU model F0 median shift" in table


def test_expressivity_needs_both_moods(tiny_au_model, tmp_path, capsys):
    from espnet_cause.bin.tts_expressivity import main

    exp, corpus = tiny_au_model
    keys = [ln.split()[0] for ln in corpus["wav.scp"].read_text().splitlines()]
    (tmp_path / "utt2mood").write_text("".join(f"{k} 0.9\n" for k in keys))
    with pytest.raises(SystemExit) as e:
        main(["--tts_dir", str(exp), "--au_scp", str(corpus["au.scp"]),
              "--utt2mood", str(tmp_path / "utt2mood"), "--corpus_wav_scp", "x",
              "--corpus_ctm", "y", "--output_dir", str(tmp_path / "o")])  # fmt: skip
    assert e.value.code == 2
    assert "0 sad reference utterances" in capsys.readouterr().err


def test_expressivity_with_labelled_references_uses_every_one(tiny_au_model, tmp_path):
    from espnet_cause.bin.tts_expressivity import main
    from espnet_cause.io.ctm import write_ctm

    exp, corpus = tiny_au_model
    keys = [ln.split()[0] for ln in corpus["wav.scp"].read_text().splitlines()]
    # the corpus's moods (for its own happy/sad statistics) and, apart, the references' labels:
    # the mood file would make utt0/utt2 happy; the emotion labels make utt1 and utt3 happy
    moods = dict(zip(keys, ["1.0", "-0.9", "0.7", "-0.8"], strict=True))
    (tmp_path / "utt2mood").write_text("".join(f"{k} {m}\n" for k, m in moods.items()))
    labels = dict(zip(keys, ["sad", "happy", "angry", "happy"], strict=True))
    (tmp_path / "emotion").write_text("".join(f"{k} {e}\n" for k, e in labels.items()))
    write_ctm(tmp_path / "phones.ctm", {k: [(0.0, 0.2, "_"), (0.2, 0.2, "a")] for k in keys})
    (tmp_path / "sentences").write_text("Hello there.\n")
    out = tmp_path / "synth"
    main(["--tts_dir", str(exp), "--model_file", "1epoch.pth", "--au_scp", str(corpus["au.scp"]),
          "--utt2mood", str(tmp_path / "utt2mood"), "--corpus_wav_scp", str(corpus["wav.scp"]),
          "--corpus_ctm", str(tmp_path / "phones.ctm"), "--sentences", str(tmp_path / "sentences"),
          "--reference_emotion", str(tmp_path / "emotion"), "--num_syntheses", "2",
          "--output_dir", str(out)])  # fmt: skip
    rows = [r.split("\t") for r in (out / "prosody.tsv").read_text().splitlines()[1:]]
    refs = {c: [r[3] for r in rows if r[1] == c] for c in ("happy", "sad")}
    assert refs == {"happy": [keys[1], keys[3]], "sad": [keys[0], keys[0]]}
    assert sorted(p.name for p in (out / "au" / "own").iterdir()) == ["0.wav", "1.wav"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["references"] == {"happy": 2, "sad": 1} and summary["num_sentences"] == 2
    assert summary["corpus"]["happy"]["count"] == 2  # from --utt2mood, not the labels
    with pytest.raises(SystemExit):
        main(["--tts_dir", str(exp), "--model_file", "1epoch.pth", "--au_scp",
              str(corpus["au.scp"]), "--utt2mood", str(tmp_path / "utt2mood"),
              "--corpus_wav_scp", "x", "--corpus_ctm", "y", "--num_syntheses", "0",
              "--reference_emotion", str(tmp_path / "emotion"), "--output_dir",
              str(tmp_path / "o")])  # fmt: skip
