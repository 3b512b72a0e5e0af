"""Do the AUs steer the voice? (the job of ``bin/tts_expressivity``)

 Happy, sad and own-AU syntheses of fixed sentences, measured.

For each model given, every sentence of ``--sentences`` (eSpeak phoneme tokens, as in training)
is synthesised with the AU stream of a happy and of a sad reference utterance (``--au_scp``,
e.g. stage 7's CAUSE prediction of the test speaker; happy means mood >= ``--mood_threshold``
in ``--utt2mood``, sad <= minus it; or, with ``--reference_emotion`` (a data dir's ``emotion``
file, e.g. RAVDESS's), the utterances labelled ``happy`` and ``sad``; synthesis ``i`` takes
sentence ``i`` and the ``i``-th happy and sad reference, each cycling; ``--num_syntheses``
(default: one per sentence) makes enough to use every reference):

- ``--tts_dir`` (``FastSpeech2AU``): ``happy``, ``sad``, ``own`` (its own AU prediction), and
  with ``--model`` ``ref_happy``/``ref_sad`` (the reference *speech* through CAUSE on the
  fly, as ``au_tts_infer --reference_wav`` does);
- ``--spembs_tts_dir`` (stock FastSpeech2 with the 35-dim AU embedding as ``spembs``): ``happy``,
  ``sad`` (the embedding of the same streams);
- ``--control_tts_dir`` (the same FastSpeech2 trained without AU input): ``happy``, ``sad``.

Each synthesis is measured (:mod:`espnet_cause.tts.prosody`: F0 median and range in semitones,
phonemes per second, energy in dB) next to the same statistics of the corpus's own happy and
sad utterances (``--corpus_wav_scp`` with ``--corpus_ctm`` for their phoneme counts). Writes
into ``--output_dir``: ``<model>/<condition>/<i>.wav``, ``prosody.tsv`` (one row per wav),
``table.md`` (mean happy - sad difference per statistic and model, and whether it moves the way
the corpus's does) and ``summary.json``.

"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from pathlib import Path

import kaldiio
import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.inference.text2speech import AUText2Speech
from espnet_cause.io.atomic import atomic_write, check_output_dir
from espnet_cause.io.audio import load_speech, write_wav
from espnet_cause.io.ctm import read_ctm
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.tts.durations import PAUSE
from espnet_cause.tts.phonemes import espeak_tokens
from espnet_cause.tts.prosody import measure

logger = logging.getLogger(__name__)

#: The sentences synthesised when no --sentences file is given (not in the mini corpus's lists).
DEFAULT_SENTENCES = (
    "The morning was quiet and the river was calm.",
    "Did you see the bright lantern near the bridge?",
    "Please carry the heavy basket to the kitchen.",
    "What a strange and wonderful painting that was!",
    "We walked along the shore until the sun went down.",
    "Nobody knew where the old map had come from.",
)
STATS = ("f0_median", "f0_range", "rate", "energy_db")
LABELS = {
    "f0_median": "F0 median (semitones re 100 Hz)",
    "f0_range": "F0 range, 5-95% (semitones)",
    "rate": "speaking rate (phonemes/s)",
    "energy_db": "energy (dB re full scale)",
}
#: The done-when of the expressive TTS demo: happy - sad F0 median of the AU model and control.
MIN_AU_F0_SHIFT, MAX_CONTROL_F0_SHIFT = 1.0, 0.3


def read_moods(path: str | os.PathLike) -> dict[str, float]:
    """``<utt> <mood>`` lines (-1 sad .. 1 happy) as a dict."""

    out = {}
    for lineno, (key, value) in enumerate(read_kaldi_map(path, check_sorted=False).items(), 1):
        try:
            out[key] = float(value)
        except ValueError:
            raise CauseError(f"mood {value!r} is not a number", path=path, line=lineno) from None
    return out


def emotion_moods(path: str | os.PathLike) -> dict[str, float]:
    """``<utt> <emotion>`` lines (a data dir's ``emotion``) as moods: happy 1, sad -1, others 0."""

    signs = {"happy": 1.0, "sad": -1.0}
    return {
        k: signs.get(v.strip(), 0.0) for k, v in read_kaldi_map(path, check_sorted=False).items()
    }


def corpus_prosody(wav_scp: str, ctm: str, moods: dict, threshold: float) -> dict:
    """Mean statistics of the corpus's happy and sad utterances: ``{mood: {stat: value}}``."""

    alignments = read_ctm(ctm)
    groups: dict[str, list] = {"happy": [], "sad": []}
    for key, value in read_kaldi_map(wav_scp, check_sorted=False).items():
        mood = moods.get(key)
        group = "happy" if mood is not None and mood >= threshold else None
        group = "sad" if mood is not None and mood <= -threshold else group
        if group is None or key not in alignments:
            continue
        speech, fs = load_speech(value, name=key)
        phones = sum(tok != PAUSE for _, _, tok in alignments[key])
        groups[group].append(measure(speech, fs, phones))
    if not groups["happy"] or not groups["sad"]:
        raise CauseError(
            f"the corpus has {len(groups['happy'])} happy and {len(groups['sad'])} sad "
            f"utterances with mood beyond +-{threshold}",
            path=wav_scp,
            fix="give --utt2mood for these utterances or lower --mood_threshold",
        )
    return {g: _means(ps) | {"count": len(ps)} for g, ps in groups.items()}


def _means(prosodies: list) -> dict[str, float]:
    return {s: float(np.nanmean([getattr(p, s) for p in prosodies])) for s in STATS}


def _conditions(name: str, tts, has_reference: bool) -> list[str]:
    if name == "au":
        return ["happy", "sad", "own"] + (["ref_happy", "ref_sad"] if has_reference else [])
    return ["happy", "sad"]


def measure_expressivity(
    *,
    tts_dir: str | os.PathLike,
    au_scp: str | os.PathLike,
    utt2mood: str | os.PathLike,
    corpus_wav_scp: str | os.PathLike,
    corpus_ctm: str | os.PathLike,
    output_dir: str | os.PathLike,
    control_tts_dir: str | os.PathLike | None = None,
    spembs_tts_dir: str | os.PathLike | None = None,
    model_file: str = "valid.loss.best.pth",
    wav_scp: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
    mood_threshold: float = 0.6,
    reference_emotion: str | os.PathLike | None = None,
    num_syntheses: int | None = None,
    sentences_file: str | os.PathLike | None = None,
    voice: str = "en",
    vocoder: str = "world",
    device: str = "cpu",
) -> tuple[dict, str]:
    """Synthesise, measure and compare; see the module docstring.

    Args:
        tts_dir: The FastSpeech2AU experiment directory (``config.yaml``, ``model_file``).
        au_scp: AU streams of the reference utterances.
        utt2mood: ``<utt> <mood>`` lines (-1 sad .. 1 happy).
        corpus_wav_scp: The corpus's own speech.
        corpus_ctm: Its phonemes (for the speaking rate).
        output_dir: Where the wavs, ``prosody.tsv``, ``summary.json`` and ``table.md`` go.
        control_tts_dir: Experiment of the same FastSpeech2 without AU input.
        spembs_tts_dir: Experiment of stock FastSpeech2 with the AU embedding as ``spembs``.
        model_file: The weights file in each experiment directory.
        wav_scp: The reference utterances' speech (for ``model``).
        model: CAUSE ``model.zip``: adds the ``ref_happy``/``ref_sad`` conditions.
        mood_threshold: Happy is mood >= this, sad <= minus this.
        reference_emotion: ``<utt> <emotion>`` of the reference utterances (their happy and sad
            are the references; ``utt2mood`` then serves the corpus's own utterances only).
        num_syntheses: Syntheses per condition (sentences and references cycle; default: one per
            sentence).
        sentences_file: One sentence a line (default :data:`DEFAULT_SENTENCES`).
        voice: eSpeak voice that phonemises them.
        vocoder: ``world`` or ``griffin_lim``.
        device: Torch device.

    Returns:
        (the summary, the Markdown table).
    """
    out = check_output_dir(output_dir)
    if model is not None and wav_scp is None:
        raise CauseError("--model needs --wav_scp (the reference speech)")
    moods = read_moods(utt2mood)
    ref_moods = moods if reference_emotion is None else emotion_moods(reference_emotion)
    streams = dict(kaldiio.load_scp(str(au_scp)))
    happy = [k for k in sorted(streams) if ref_moods.get(k, 0.0) >= mood_threshold]
    sad = [k for k in sorted(streams) if ref_moods.get(k, 0.0) <= -mood_threshold]
    if not happy or not sad:
        raise CauseError(
            f"{len(happy)} happy and {len(sad)} sad reference utterances",
            path=au_scp,
            fix="use a set with both moods, or lower --mood_threshold",
        )
    if num_syntheses is not None and num_syntheses < 1:
        raise CauseError(f"--num_syntheses must be at least 1, got {num_syntheses}")
    ref_wavs = read_kaldi_map(wav_scp, check_sorted=False) if wav_scp else {}
    if sentences_file is not None:
        sentences = [s.strip() for s in Path(sentences_file).read_text().splitlines() if s.strip()]
    else:
        sentences = list(DEFAULT_SENTENCES)
    tokens = [espeak_tokens(s, voice) for s in sentences]
    tokens = [tokens[i % len(tokens)] for i in range(num_syntheses or len(tokens))]

    models = {"au": tts_dir, "spembs": spembs_tts_dir, "control": control_tts_dir}
    rows, results = [], {}

    for name, exp in models.items():
        if exp is None:
            continue
        exp = Path(exp)
        for f in (exp / "config.yaml", exp / model_file):
            if not f.is_file():
                raise CauseError("not found", path=f, fix="train the model first (stage 8)")
        cause = model if name == "au" else None
        tts = AUText2Speech(
            exp / "config.yaml", exp / model_file, cause_model=cause,
            vocoder=vocoder, device=device,
        )  # fmt: skip
        fs = int(tts.world.fs if tts.world is not None else tts.vocoder.fs)
        results[name] = {}
        for cond in _conditions(name, tts, cause is not None):
            measured = []
            for i, toks in enumerate(tokens):
                refs = happy if cond.endswith("happy") else sad
                ref = refs[i % len(refs)]
                kwargs = {}
                if cond in ("happy", "sad"):
                    kwargs["au"] = streams[ref]
                elif cond.startswith("ref_"):
                    speech, rate = load_speech(ref_wavs[ref], name=ref)
                    kwargs.update(reference_speech=speech, reference_fs=rate)
                else:
                    ref = ""
                wav = tts(tts.token_ids(" ".join(toks)), **kwargs)["wav"]
                peak = float(np.abs(wav).max()) if len(wav) else 0.0
                if peak > 1.0:
                    logger.warning("%s %s %d: peak %.2f, clipped", name, cond, i, peak)
                write_wav(out / name / cond / f"{i}.wav", np.clip(wav, -1.0, 1.0), fs)
                p = measure(wav, fs, sum(t != "_" for t in toks))
                measured.append(p)
                rows.append({"model": name, "condition": cond, "sentence": i, "reference": ref}
                            | dataclasses.asdict(p))  # fmt: skip
            results[name][cond] = measured
    corpus = corpus_prosody(corpus_wav_scp, corpus_ctm, moods, mood_threshold)
    summary = _summary(results, corpus, len(tokens))
    summary["references"] = {"happy": len(happy), "sad": len(sad)}
    header = list(rows[0])
    with atomic_write(out / "prosody.tsv") as tmp:
        Path(tmp).write_text(
            "\t".join(header) + "\n"
            + "".join("\t".join(_fmt(r[h]) for h in header) + "\n" for r in rows),
            encoding="utf-8",
        )  # fmt: skip
    with atomic_write(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    table = render_table(summary)
    with atomic_write(out / "table.md") as tmp:
        Path(tmp).write_text(table, encoding="utf-8")
    return summary, table


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _shift(happy: list, sad: list, stat: str) -> float:
    """Mean over sentences of happy - sad (sentences where either is NaN left out)."""
    d = np.array([getattr(h, stat) - getattr(s, stat) for h, s in zip(happy, sad, strict=True)])
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else math.nan


def _summary(results: dict, corpus: dict, num_sentences: int) -> dict:
    shifts = {}
    for name, conds in results.items():
        pairs = [("happy", "sad")] + ([("ref_happy", "ref_sad")] if "ref_happy" in conds else [])
        for h, s in pairs:
            label = name if h == "happy" else f"{name}_reference"
            shifts[label] = {st: _shift(conds[h], conds[s], st) for st in STATS}
            shifts[label]["means"] = {c: _means(conds[c]) for c in (h, s)}
    if "own" in results.get("au", {}):
        shifts["au"]["means"]["own"] = _means(results["au"]["own"])
    corpus_shift = {st: corpus["happy"][st] - corpus["sad"][st] for st in STATS}
    checks = {"au_f0_shift_st": shifts["au"]["f0_median"], "min_au_f0_shift_st": MIN_AU_F0_SHIFT}
    checks["au_steers"] = bool(shifts["au"]["f0_median"] >= MIN_AU_F0_SHIFT)
    if "control" in shifts:
        checks["control_f0_shift_st"] = shifts["control"]["f0_median"]
        checks["max_control_f0_shift_st"] = MAX_CONTROL_F0_SHIFT
        checks["control_flat"] = bool(abs(shifts["control"]["f0_median"]) < MAX_CONTROL_F0_SHIFT)
    return {
        "num_sentences": num_sentences,
        "corpus": corpus,
        "corpus_shift": corpus_shift,
        "shifts": shifts,
        "checks": checks,
    }


def render_table(summary: dict) -> str:
    """The Markdown table of :func:`measure_expressivity`'s summary."""
    shifts, corpus = summary["shifts"], summary["corpus"]
    names = list(shifts)
    head = "| happy - sad | corpus (" + f"{corpus['happy']['count']} vs {corpus['sad']['count']}"
    head += " utts) | " + " | ".join(names) + " |"
    lines = [
        f"Mean happy - sad difference over {summary['num_sentences']} syntheses per model "
        "(corpus: its own happy vs sad utterances); in brackets whether it moves the corpus's way.",
        "",
        head,
        "|" + " --- |" * (2 + len(names)),
    ]
    for st in STATS:
        c = summary["corpus_shift"][st]
        cells = []
        for n in names:
            v = shifts[n][st]
            same = "yes" if math.isfinite(v) and v * c > 0 else "no"
            cells.append(f"{v:+.2f} ({same})")
        lines.append(f"| {LABELS[st]} | {c:+.2f} | " + " | ".join(cells) + " |")
    checks = summary["checks"]
    lines += [
        "",
        f"AU model F0 median shift {checks['au_f0_shift_st']:+.2f} st "
        f"(needs >= {checks['min_au_f0_shift_st']}): {'met' if checks['au_steers'] else 'NOT met'}",
    ]
    if "control_flat" in checks:
        lines.append(
            f"control F0 median shift {checks['control_f0_shift_st']:+.2f} st (needs |x| < "
            f"{checks['max_control_f0_shift_st']}): "
            f"{'met' if checks['control_flat'] else 'NOT met'}"
        )
    return "\n".join(lines) + "\n"
