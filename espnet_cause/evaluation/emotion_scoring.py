"""Scores of utterance-level emotion predictions: accuracy, macro-F1, confusion matrix (+ plot).

The classes scored are the corpus's (``classes``; default: those in the references or the
predictions). Macro-F1 is the unweighted mean over those classes of the per-class F1
(2PR / (P + R), 0 for a class that is never predicted correctly); a class with no reference and
no prediction is left out of the mean. Chance level for a uniform guess is ``1 / classes``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from espnet_cause.emotion import EMOTIONS, parse_emotion
from espnet_cause.io.atomic import atomic_write


def confusion_matrix(ref: Sequence[str], hyp: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """(C, C) counts: row = reference class, column = predicted class, in ``classes`` order."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r, h in zip(ref, hyp, strict=True):
        out[index[r], index[h]] += 1
    return out


def f1_scores(confusion: np.ndarray) -> np.ndarray:
    """(C,) per-class F1 from a confusion matrix (NaN for a class absent from both sides)."""
    tp = np.diag(confusion).astype(np.float64)
    ref_n = confusion.sum(1).astype(np.float64)
    hyp_n = confusion.sum(0).astype(np.float64)
    denom = ref_n + hyp_n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / denom, np.nan)


def score_emotions(
    ref: Mapping[str, str], hyp: Mapping[str, str], classes: Sequence[str] | None = None
) -> dict:
    """Score the utterances present in both ``ref`` and ``hyp`` (utt -> class name).

    Returns:
        ``{"num_utterances", "num_missing_predictions", "classes", "accuracy", "macro_f1",
        "f1": {class: value}, "confusion": [[...]], "chance"}``.
    """
    keys = sorted(set(ref) & set(hyp))
    refs = [parse_emotion(ref[k]) for k in keys]
    hyps = [parse_emotion(hyp[k]) for k in keys]
    chosen = set(classes or ()) | set(refs) | set(hyps)
    order = [e for e in EMOTIONS if e in chosen]
    conf = confusion_matrix(refs, hyps, order)
    f1 = f1_scores(conf)
    acc = float(np.trace(conf) / max(1, conf.sum()))
    return {
        "num_utterances": len(keys),
        "num_missing_predictions": len(set(ref) - set(hyp)),
        "classes": order,
        "accuracy": acc,
        "macro_f1": float(np.nanmean(f1)) if np.isfinite(f1).any() else None,
        "f1": {c: (None if np.isnan(v) else float(v)) for c, v in zip(order, f1)},
        "confusion": conf.tolist(),
        "chance": 1.0 / max(1, len(order)),
    }


def markdown_report(scores: dict) -> str:
    """The scores as a Markdown section (metrics table and confusion matrix)."""
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [
        "# Emotion recognition",
        "",
        f"{scores['num_utterances']} utterances, {len(scores['classes'])} classes "
        f"(chance {scores['chance']:.3f}); missing predictions: "
        f"{scores['num_missing_predictions']}",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| accuracy | {fmt(scores['accuracy'])} |",
        f"| macro-F1 | {fmt(scores['macro_f1'])} |",
    ]
    lines += [f"| F1 {c} | {fmt(v)} |" for c, v in scores["f1"].items()]
    lines += ["", "Confusion (rows: reference, columns: predicted)", ""]
    lines.append("| | " + " | ".join(scores["classes"]) + " |")
    lines.append("| --- " * (len(scores["classes"]) + 1) + "|")
    for c, row in zip(scores["classes"], scores["confusion"]):
        lines.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def plot_confusion(scores: dict, path: str | os.PathLike) -> None:
    """Write the confusion matrix as a PNG (counts in the cells)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf = np.asarray(scores["confusion"])
    names = scores["classes"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(names), 1.0 + 0.6 * len(names)))
    ax.imshow(conf, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    for i in range(len(names)):
        for j in range(len(names)):
            colour = "white" if conf[i, j] > conf.max() / 2 else "black"
            ax.text(j, i, str(conf[i, j]), ha="center", va="center", color=colour)
    ax.set_title(f"accuracy {scores['accuracy']:.3f}, macro-F1 {scores['macro_f1'] or 0:.3f}")
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def write_scores(scores: dict, output_dir: str | os.PathLike) -> Path:
    """``scores.json``, ``scores.md`` and ``confusion.png`` in ``output_dir``; returns the md."""

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(output_dir / "scores.json") as tmp:
        tmp.write_text(json.dumps(scores, indent=1) + "\n", encoding="utf-8")
    with atomic_write(output_dir / "scores.md") as tmp:
        tmp.write_text(markdown_report(scores), encoding="utf-8")
    plot_confusion(scores, output_dir / "confusion.png")
    return output_dir / "scores.md"
