"""Does the predicted face show the voice's emotion? The checks behind ``check_expression``.

**Labelled emotional speech** (RAVDESS, CREMA-D): for every utterance, the mean of the predicted
AUs over its speech (the frames within :data:`espnet_cause.inference.expression_envelope.SPEECH_RANGE_DB`
of its loudest frame) minus its speaker's neutral mean (the mean of that speaker's neutral
utterances, RAVDESS calm included) is read as the emotion whose prototype
(:data:`espnet_cause.emotion.PROTOTYPES`) it is closest to by cosine, among the six emotions of
:data:`espnet_cause.emotion.SCORED_EMOTIONS` (chance 1/6). Reported: the prototype accuracy, the
confusion matrix (and its PNG) and the mean change per emotion.

**Emotional face videos** (eNTERFACE'05, MEAD): for every clip, the predicted AUs (from its
soundtrack) and the face's own AUs (the built-in MediaPipe tracker on its video), each averaged
over the speech frames where the face was tracked, minus the same speaker's neutral clip (the
mean of the speaker's neutral clips; a speaker with none is compared with the mean of all of
their clips, which needs two clips at least). Per clip: Pearson r between the two changes over
the AUs (those the tracker moves: an AU whose tracked change is 0 in every clip, such as AU06
and AU09 in MediaPipe, and the blink AU45 are left out) and the ratio of their magnitudes
(Euclidean norms over the same AUs; 1 = as large as the face's).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_NAMES, NUM_AUS, au_index
from espnet_cause.corpora import CORPORA
from espnet_cause.corpora.common import VIDEO_SUFFIXES, find_files
from espnet_cause.corpora.emotions import CORPUS_CLASSES
from espnet_cause.corpora.expression import read_labels
from espnet_cause.emotion import EMOTIONS, SCORED_EMOTIONS, classify_change, parse_emotion
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.emotion_scoring import plot_confusion, score_emotions
from espnet_cause.inference.expression_envelope import frame_energy_db, speech_span
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.audio import load_speech, resample
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.video import read_audio_track

logger = logging.getLogger(__name__)

#: A predictor: (N,) float32 speech at its rate, the rate -> (T, 17) AUs at ``fps``.
Predict = Callable[[np.ndarray, int], np.ndarray]
#: The model adapted to one speaker, from all of that speaker's ``(wav, fs)``.
ForSpeaker = Callable[[Sequence[tuple[np.ndarray, int]]], Predict]
#: AUs never compared on faces (blinks are not an expression).
FACE_EXCLUDED_AUS: tuple[str, ...] = ("AU45",)
#: Chunk (s) a speaker's utterances are streamed in by :func:`score_speech_stream`.
CHUNK_S = 0.04
#: Default seed of the streaming order (:func:`stream_order`); fixed before any measurement.
STREAM_SEED = 0
#: A tracked change smaller than this (AU units) in every clip counts as "the tracker never moves
#: this AU".
MOVED_THRESHOLD = 0.01
#: File-name tokens of emotional-face corpora (eNTERFACE'05 codes) -> class.
FACE_NAME_CODES: dict[str, str] = {
    "an": "angry",
    "di": "disgusted",
    "ha": "happy",
    "sa": "sad",
    "su": "surprised",
    "fe": "fearful",
}


@dataclasses.dataclass(frozen=True)
class Item:
    """One labelled recording: an utterance (audio) or a clip (video with sound)."""

    name: str
    speaker: str
    emotion: str
    path: str


def speech_mean(aus: np.ndarray, wav: np.ndarray, fs: int, fps: float) -> np.ndarray:
    """(17,) mean of (T, 17) ``aus`` over the speech frames of ``wav`` (NaN frames skipped)."""
    energy = frame_energy_db(wav, fs, fps, len(aus))
    first, last = speech_span(energy)
    seg = aus[first : last + 1]
    seg = seg[np.isfinite(seg).all(axis=1)]
    if len(seg) == 0:
        raise CauseError("no valid frame in the speech")
    return seg.mean(axis=0)


def neutral_means(means: dict[str, np.ndarray], items: Sequence[Item]) -> dict[str, np.ndarray]:
    """Speaker -> mean of their neutral items' means; a speaker without neutral items gets the
    mean over all of their items (see the module docstring)."""
    out = {}
    for spk in sorted({it.speaker for it in items}):
        mine = [it for it in items if it.speaker == spk and it.name in means]
        neutral = [it for it in mine if it.emotion == "neutral"]
        chosen = neutral or mine
        if chosen:
            out[spk] = np.mean([means[it.name] for it in chosen], axis=0)
    return out


def _adapted(for_speaker: ForSpeaker | None, audio: list, speaker: str, predict: Predict):
    """``for_speaker(audio)``, or ``predict`` without it, audio, or when adapting fails."""
    if for_speaker is None or not audio:
        return predict
    try:
        return for_speaker(audio)
    except CauseError as e:
        logger.warning("speaker %s: not adapted (%s); each recording heard alone", speaker, e)
        return predict


def score_speech(
    items: Sequence[Item],
    predict: Predict,
    fps: float,
    load,
    for_speaker: ForSpeaker | None = None,
) -> dict:
    """The prototype check on labelled speech (module docstring).

    Args:
        items: Utterances with speaker and emotion; each speaker needs neutral ones.
        predict: The model.
        fps: Its AU frame rate.
        load: ``path -> (wav, fs)``.
        for_speaker: Given all of one speaker's ``(wav, fs)`` (every emotion), the model
            adapted to that speaker (``expressive``: its per-speaker statistics); None: ``predict``
            for everyone.

    Returns:
        ``accuracy``, ``chance``, ``confusion``/``classes`` (rows reference, columns read),
        ``num_utterances``, ``mean_change`` (emotion -> (17,) list), ``per_speaker`` accuracy,
        ``reads`` (utt -> emotion read) and ``skipped`` (utt -> reason).
    """

    means: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    for spk in sorted({it.speaker for it in items}):
        audio = {}
        for it in items:
            if it.speaker != spk:
                continue
            try:
                audio[it.name] = load(it.path)
            except CauseError as e:
                skipped[it.name] = str(e)
                logger.warning("%s: skipped: %s", it.name, e)
        model = _adapted(for_speaker, list(audio.values()), spk, predict)
        for name, (wav, fs) in audio.items():
            try:
                means[name] = speech_mean(model(wav, fs), wav, fs, fps)
            except CauseError as e:
                skipped[name] = str(e)
                logger.warning("%s: skipped: %s", name, e)
    return score_means(items, means, skipped)


def score_means(
    items: Sequence[Item], means: dict[str, np.ndarray], skipped: dict[str, str] | None = None
) -> dict:
    """The prototype check from each utterance's (17,) mean AUs over its speech: the second half
    of :func:`score_speech` (and of :func:`score_speech_stream`); returns what they return."""
    skipped = skipped or {}
    no_neutral = sorted(
        {it.speaker for it in items} - {it.speaker for it in items if it.emotion == "neutral"}
    )
    if no_neutral:
        raise CauseError(
            f"speaker(s) {', '.join(no_neutral)} have no neutral utterance to compare with",
            fix="include each speaker's neutral utterances",
        )
    base = neutral_means(means, items)
    scored = [it for it in items if it.name in means and it.emotion in SCORED_EMOTIONS]
    if not scored:
        raise CauseError("no utterance of the six scored emotions", fix="check the labels")
    changes = {it.name: means[it.name] - base[it.speaker] for it in scored}
    reads = {
        name: SCORED_EMOTIONS[int(np.argmax(classify_change(c)))] for name, c in changes.items()
    }
    ref = {it.name: it.emotion for it in scored}
    scores = score_emotions(ref, reads, SCORED_EMOTIONS)
    per_speaker = {}
    for spk in sorted({it.speaker for it in scored}):
        mine = [it.name for it in scored if it.speaker == spk]
        per_speaker[spk] = float(np.mean([reads[n] == ref[n] for n in mine]))
    mean_change = {
        e: np.mean([changes[it.name] for it in scored if it.emotion == e], axis=0).tolist()
        for e in SCORED_EMOTIONS
        if any(it.emotion == e for it in scored)
    }
    return {
        "num_utterances": len(scored),
        "accuracy": scores["accuracy"],
        "chance": 1.0 / len(SCORED_EMOTIONS),
        "classes": scores["classes"],
        "confusion": scores["confusion"],
        "macro_f1": scores["macro_f1"],
        "per_speaker": per_speaker,
        "mean_change": mean_change,
        "reads": reads,
        "skipped": skipped,
    }


def stream_order(names: Sequence[str], seed: int) -> list[str]:
    """The order a speaker's utterances are streamed in: shuffled with ``seed`` (a live speaker's
    moods come in no order; RAVDESS's sorted names would stream all neutral ones first)."""
    order = sorted(names)
    np.random.default_rng(seed).shuffle(order)
    return order


def score_speech_stream(
    items: Sequence[Item],
    open_stream: Callable[[], object],
    fs: int,
    fps: float,
    load,
    seed: int = STREAM_SEED,
) -> dict:
    """The prototype check on each speaker's utterances heard as one live stream.

    Per speaker, the utterances (each padded with silence to whole AU frames) are streamed in
    :func:`stream_order` in :data:`CHUNK_S` chunks through a new ``open_stream()``; each
    utterance's frames of the stream are scored as :func:`score_speech` scores an utterance's
    AUs (:func:`score_means`); ``tail_accuracy`` scores the mean AUs of each utterance's frames
    after its speech (the face when the speaker stops: a causal recogniser has heard the
    utterance by then). A stream with a live recogniser (``stream.emotion``, a
    :class:`~espnet_cause.inference.live_expression.LiveEmotion`) is also read by its newest
    posteriors at each utterance's end (the most probable of the six scored emotions):
    ``posterior_accuracy``.

    Args:
        items: Utterances with speaker and emotion; each speaker needs neutral ones.
        open_stream: A new stream (``accept(chunk) -> (n, 17)``, ``finish()``) at ``fs``.
        fs: Its sample rate. fps: Its AU frame rate.
        load: ``path -> (wav, fs)``.
        seed: :func:`stream_order`'s.
    """
    hop = int(round(fs / fps))
    chunk = int(round(CHUNK_S * fs))
    means: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    last_read: dict[str, str] = {}
    tails: dict[str, np.ndarray] = {}  # mean AUs after each utterance's speech (its pause)
    for spk in sorted({it.speaker for it in items}):
        mine = {it.name: it for it in items if it.speaker == spk}
        stream = open_stream()
        frames: list[np.ndarray] = []
        spans = {}  # name -> (its first frame in the stream, its padded samples)
        fed = 0
        for name in stream_order(list(mine), seed):
            try:
                wav, rate = load(mine[name].path)
            except CauseError as e:
                skipped[name] = str(e)
                continue
            wav = np.asarray(resample(wav, rate, fs) if rate != fs else wav, np.float32)
            wav = np.pad(wav, (0, -len(wav) % hop))
            for i in range(0, len(wav), chunk):
                frames.extend(stream.accept(wav[i : i + chunk]))
            spans[name] = (fed // hop, wav)
            fed += len(wav)
            emotion = getattr(stream, "emotion", None)
            if emotion is not None:
                p = np.asarray(emotion.target)[[EMOTIONS.index(e) for e in SCORED_EMOTIONS]]
                last_read[name] = SCORED_EMOTIONS[int(np.argmax(p))]
        frames.extend(stream.finish())
        track = np.asarray(frames, np.float32)
        for name, (start, wav) in spans.items():
            aus = track[start : start + len(wav) // hop]
            try:
                means[name] = speech_mean(aus, wav, fs, fps)
            except CauseError as e:
                skipped[name] = str(e)
                continue
            end = speech_span(frame_energy_db(wav, fs, fps, len(aus)))[1]
            tails[name] = aus[min(end + 1, len(aus) - 1) :].mean(axis=0)
    scores = score_means(items, means, skipped)
    scores["tail_accuracy"] = score_means(items, tails)["accuracy"]
    if last_read:
        ref = {it.name: it.emotion for it in items if it.name in last_read}
        scored = [n for n in last_read if ref.get(n) in SCORED_EMOTIONS]
        scores["posterior_accuracy"] = float(np.mean([last_read[n] == ref[n] for n in scored]))
    scores["stream_seed"] = seed
    return scores


def list_speech(
    corpus: str, corpus_dir: str | os.PathLike, speakers: Iterable[str] | None = None
) -> list[Item]:
    """The labelled utterances of a corpus on disk (``ravdess``, ``crema_d``, ``mead``), of
    ``speakers`` only when given.

    Raises:
        CauseError: for a corpus without emotion labels, or when no utterance is left.
    """

    if corpus not in CORPORA or corpus not in CORPUS_CLASSES or corpus == "mini":
        labelled = sorted(set(CORPORA) & set(CORPUS_CLASSES) - {"mini"})
        raise CauseError(
            f"{corpus!r} is not a corpus with emotion labels on disk",
            fix=f"use one of {', '.join(labelled)}",
        )
    module, func = CORPORA[corpus].split(":")
    utts = getattr(importlib.import_module(module), func)(corpus_dir)
    chosen = set(speakers) if speakers else None
    items = [
        Item(u.utt_id, u.speaker, u.emotion, str(u.audio))
        for u in utts
        if u.emotion and (chosen is None or u.speaker in chosen)
    ]
    if not items:
        raise CauseError(
            f"no labelled utterance of speaker(s) {', '.join(sorted(chosen or []))}",
            path=corpus_dir,
            fix="check --speakers against the corpus's speaker ids (e.g. Actor_17, 1002)",
        )
    return items


def add_speech_arguments(parser) -> None:
    """``--speech`` and ``--data_dir`` (labelled speech) on an argparse parser; read them with
    :func:`speech_sources`."""
    parser.add_argument(
        "--speech",
        action="append",
        default=[],
        metavar="CORPUS:DIR[:SPK,SPK]",
        help="labelled emotional speech: ravdess|crema_d|mead, its folder, optional speakers "
        "(repeatable)",
    )
    parser.add_argument(
        "--data_dir",
        action="append",
        default=[],
        type=Path,
        help="labelled speech as a Kaldi data dir (wav.scp, utt2spk, emotion) (repeatable)",
    )


def speech_sources(
    specs: Iterable[str] = (), data_dirs: Iterable[str | os.PathLike] = ()
) -> dict[str, list[Item]]:
    """Labelled speech named on a command line: source name -> its utterances.

    Args:
        specs: ``CORPUS:DIR`` or ``CORPUS:DIR:SPK,SPK`` (:func:`list_speech`).
        data_dirs: Kaldi data dirs with ``emotion`` (:func:`list_data_dir`).

    Raises:
        CauseError: naming a malformed spec.
    """
    sources = {}
    for spec in specs:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise CauseError(
                f"--speech {spec!r}: expected CORPUS:DIR or CORPUS:DIR:SPK,SPK",
                fix="e.g. --speech ravdess:/data/ravdess:Actor_17,Actor_18",
            )
        speakers = parts[2].split(",") if len(parts) == 3 and parts[2] else None
        name = f"{parts[0]}:{Path(parts[1]).name}" + (f":{parts[2]}" if speakers else "")
        sources[name] = list_speech(parts[0], parts[1], speakers)
    for d in data_dirs:
        sources[str(d)] = list_data_dir(d)
    return sources


def list_data_dir(data_dir: str | os.PathLike) -> list[Item]:
    """The utterances of a Kaldi data dir with ``wav.scp``, ``utt2spk`` and ``emotion``."""

    data_dir = Path(data_dir)
    wavs, emotions, _ = read_labels(data_dir)
    utt2spk = read_kaldi_map(data_dir / "utt2spk")
    return [Item(u, utt2spk[u], parse_emotion(emotions[u]), wavs[u]) for u in sorted(wavs)]


def face_emotion(stem: str) -> str | None:
    """The emotion a face clip's file name names (``s1_an_1`` -> angry, ``M030_sad_3_001`` ->
    sad, ``surprised`` -> surprised), or None."""
    for token in stem.replace("-", "_").split("_"):
        key = token.lower()
        if key in FACE_NAME_CODES:
            return FACE_NAME_CODES[key]
        try:
            return parse_emotion(key)
        except CauseError:
            continue
    return None


def list_face_dir(directory: str | os.PathLike) -> list[Item]:
    """The clips of a folder of emotional face videos, labelled by file name.

    The emotion is the first token of the stem that names one (:func:`face_emotion`); the
    speaker is the stem's first token when that is not the emotion (``M030_sad_3_001`` ->
    ``M030``), else the folder's name.

    Raises:
        CauseError: naming the folder when it has no labelled video.
    """

    directory = Path(directory)
    if not directory.is_dir():
        raise CauseError("face video folder not found", path=directory, fix="check the path")
    items = []
    for path in find_files(directory, VIDEO_SUFFIXES):
        emotion = face_emotion(path.stem)
        if emotion is None:
            logger.warning("%s: no emotion in the file name; skipped", path)
            continue
        first = path.stem.replace("-", "_").split("_")[0]
        speaker = first if face_emotion(first) is None and first != path.stem else directory.name
        items.append(Item(f"{directory.name}/{path.stem}", speaker, emotion, str(path)))
    if not items:
        raise CauseError(
            "no video with an emotion in its file name",
            path=directory,
            fix="name clips like s1_an_1.avi, M030_sad_3_001.mp4 or surprised.mp4",
        )
    return items


def face_au_mask(face_changes: Iterable[np.ndarray]) -> np.ndarray:
    """(17,) True for the AUs compared: moved by the tracker in some clip, not excluded."""
    moved = np.any([np.abs(c) > MOVED_THRESHOLD for c in face_changes], axis=0)
    for name in FACE_EXCLUDED_AUS:
        moved[au_index(name)] = False
    return moved


def score_faces(pairs: dict[str, tuple[np.ndarray, np.ndarray]], items: Sequence[Item]) -> dict:
    """The face-change check from per-clip (predicted mean, face mean), each (17,).

    Returns:
        ``clips`` (name -> r, ratio, emotion, speaker), ``mean_r``, ``mean_ratio``, ``aus``
        (the AUs compared) and, per clip, both changes.
    """
    named = [it for it in items if it.name in pairs]
    pred_base = neutral_means({n: p for n, (p, _) in pairs.items()}, named)
    face_base = neutral_means({n: f for n, (_, f) in pairs.items()}, named)
    clips = {}
    usable = []
    for it in named:
        mine = [o for o in named if o.speaker == it.speaker]
        has_neutral = any(o.emotion == "neutral" for o in mine)
        if it.emotion == "neutral" or (not has_neutral and len(mine) < 2):
            continue
        usable.append(it)
    face_changes = {it.name: pairs[it.name][1] - face_base[it.speaker] for it in usable}
    pred_changes = {it.name: pairs[it.name][0] - pred_base[it.speaker] for it in usable}
    if not usable:
        raise CauseError(
            "no clip to score: each speaker needs a neutral clip or two clips at least"
        )
    mask = face_au_mask(face_changes.values())
    for it in usable:
        p, f = pred_changes[it.name][mask], face_changes[it.name][mask]
        r = float(np.corrcoef(p, f)[0, 1]) if p.std() > 0 and f.std() > 0 else float("nan")
        ratio = float(np.linalg.norm(p) / max(np.linalg.norm(f), 1e-8))
        clips[it.name] = {
            "speaker": it.speaker,
            "emotion": it.emotion,
            "r": r,
            "ratio": ratio,
            "pred_change": pred_changes[it.name].tolist(),
            "face_change": face_changes[it.name].tolist(),
        }
    rs = [c["r"] for c in clips.values() if np.isfinite(c["r"])]
    return {
        "clips": clips,
        "aus": [n for n, m in zip(AU_NAMES, mask) if m],
        "mean_r": float(np.mean(rs)) if rs else None,
        "mean_ratio": float(np.mean([c["ratio"] for c in clips.values()])),
    }


def clip_means(
    item: Item, predict: Predict, fs: int, fps: float, tracker, wav: np.ndarray | None = None
) -> tuple:
    """(predicted mean, face mean), each (17,), over the speech frames with a tracked face
    (``wav``: the clip's soundtrack at ``fs`` when already read)."""

    wav = read_audio_track(item.path, sample_rate=fs) if wav is None else wav
    pred = predict(wav, fs)
    face, _ = tracker(item.path).resample(fps)
    n = min(len(pred), len(face.intensities))
    pred, ref = pred[:n], face.intensities[:n]
    ok = np.isfinite(ref).all(axis=1)
    if not ok.any():
        raise CauseError("no frame with a face", path=item.path)
    first, last = speech_span(frame_energy_db(wav, fs, fps, n))
    span = np.zeros(n, dtype=bool)
    span[first : last + 1] = True
    use = ok & span if (ok & span).any() else ok
    return pred[use].mean(axis=0), ref[use].mean(axis=0)


def speech_report(name: str, scores: dict) -> list[str]:
    """Markdown lines of one speech check."""
    lines = [
        f"## {name}: prototype accuracy {scores['accuracy']:.3f} "
        f"(chance {scores['chance']:.3f}, {scores['num_utterances']} utterances)",
        "",
        "| speaker | accuracy |",
        "| --- | --- |",
    ]
    lines += [f"| {s} | {a:.3f} |" for s, a in scores["per_speaker"].items()]
    lines += ["", "Confusion (rows: label, columns: read as)", ""]
    lines.append("| | " + " | ".join(scores["classes"]) + " |")
    lines.append("| --- " * (len(scores["classes"]) + 1) + "|")
    for c, row in zip(scores["classes"], scores["confusion"]):
        lines.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "Mean change from the speaker's neutral (AUs)", ""]
    lines.append("| emotion | " + " | ".join(AU_NAMES) + " |")
    lines.append("| --- " * (NUM_AUS + 1) + "|")
    for e, v in scores["mean_change"].items():
        lines.append(f"| {e} | " + " | ".join(f"{x:+.2f}" for x in v) + " |")
    return lines + [""]


def face_report(name: str, scores: dict) -> list[str]:
    """Markdown lines of one face check."""
    if "error" in scores:
        return [f"## {name}: not scored: {scores['error']}", ""]
    mean_r = "-" if scores["mean_r"] is None else f"{scores['mean_r']:.3f}"
    lines = [
        f"## {name}: mean r {mean_r}, mean magnitude ratio {scores['mean_ratio']:.3f}",
        "",
        f"AUs compared: {' '.join(scores['aus'])}",
        "",
        "| clip | speaker | emotion | r | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for clip, c in scores["clips"].items():
        lines.append(
            f"| {clip} | {c['speaker']} | {c['emotion']} | {c['r']:.3f} | {c['ratio']:.3f} |"
        )
    return lines + [""]


def write_report(results: dict, output_dir: str | os.PathLike, model: str) -> Path:
    """``scores.json``, ``scores.md`` and ``confusion_<source>.png`` in ``output_dir``."""

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"# Expression check: {model}", ""]
    for name, scores in results.get("speech", {}).items():
        lines += speech_report(name, scores)
        plot_confusion(scores, output_dir / f"confusion_{name.replace('/', '_')}.png")
    for name, scores in results.get("faces", {}).items():
        lines += face_report(name, scores)
    with atomic_write(output_dir / "scores.json") as tmp:
        tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    md = output_dir / "scores.md"
    with atomic_write(md) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return md


def check_expression(
    predict: Predict,
    fs: int,
    fps: float,
    output_dir: str | os.PathLike,
    model: str,
    speech: dict[str, Sequence[Item]] | None = None,
    faces: dict[str, Sequence[Item]] | None = None,
    tracker=None,
    for_speaker: ForSpeaker | None = None,
    open_stream: Callable[[], object] | None = None,
    stream_seed: int = STREAM_SEED,
) -> dict:
    """Both checks on named sources, written to ``output_dir``.

    Args:
        predict: The model (``(wav, fs) -> (T, 17)``).
        fs: Its sample rate (face soundtracks are decoded at it).
        fps: Its AU frame rate.
        output_dir: Where ``scores.{md,json}`` and the confusion PNGs go.
        model: What the report names as the model.
        speech: Source name -> labelled utterances.
        faces: Source name -> labelled clips.
        tracker: ``path -> AUTrack`` (the MediaPipe extractor); needed with ``faces``.
        for_speaker: See :func:`score_speech`; on faces, the speaker's clips' soundtracks.
        open_stream: Speech heard as live streams instead (:func:`score_speech_stream`, each
            speaker's utterances in a row, ``stream_seed`` their order); faces as without it.

    Returns:
        ``{"model", "speech": {source: scores}, "faces": {source: scores}}``.
    """

    results: dict = {"model": model, "speech": {}, "faces": {}}
    for name, items in (speech or {}).items():
        if open_stream is not None:
            results["speech"][name] = score_speech_stream(
                items, open_stream, fs, fps, load_speech, stream_seed
            )
        else:
            results["speech"][name] = score_speech(items, predict, fps, load_speech, for_speaker)
        logger.info("%s: prototype accuracy %.3f", name, results["speech"][name]["accuracy"])
    for name, items in (faces or {}).items():
        pairs = {}
        for spk in sorted({it.speaker for it in items}):
            audio = {}
            for it in items:
                if it.speaker == spk:
                    try:
                        audio[it.name] = read_audio_track(it.path, sample_rate=fs)
                    except CauseError as e:
                        logger.warning("%s: skipped: %s", it.name, e)
            heard = _adapted(for_speaker, [(wav, fs) for wav in audio.values()], spk, predict)
            for it in items:
                if it.name not in audio:
                    continue
                try:
                    pairs[it.name] = clip_means(it, heard, fs, fps, tracker, audio[it.name])
                except CauseError as e:
                    logger.warning("%s: skipped: %s", it.name, e)
        try:
            results["faces"][name] = score_faces(pairs, items)
        except CauseError as e:  # a source that cannot be scored is reported, not fatal
            logger.warning("%s: not scored: %s", name, e)
            results["faces"][name] = {"error": str(e), "skipped": sorted(set(
                it.name for it in items) - set(pairs))}  # fmt: skip
            continue
        logger.info("%s: face change r %s", name, results["faces"][name]["mean_r"])
    write_report(results, output_dir, model)
    return results
