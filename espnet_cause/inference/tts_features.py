"""Speech -> AU conditioning features for ESPnet TTS/VC (the job of ``bin/export_tts_features``).

For every utterance of a ``wav.scp`` (optionally with ``segments``) :func:`export_tts_features`
runs the CAUSE model and writes frame-level AUs on the TTS feature grid (``au.scp``/``au.ark``,
:func:`espnet_cause.io.timegrid.to_hop_grid`), the 35-dim utterance embedding
(``au_embed.scp``/``au_embed.ark``, :mod:`espnet_cause.tts.features`), ``grid.yaml`` and
``export_report.tsv``, through the batch runner (:mod:`espnet_cause.jobs.batch`).

With a model that hears emotion (``expressive``) the expression part of the stream is the emotion
recognised in each utterance, normalised per speaker when a ``utt2spk`` lies beside the
``wav.scp`` (as ``infer --wav_scp`` does), or, for a corpus whose emotions are known
(``emotion_labels``), the labelled emotion's prototype: a voice trained on such streams learns
what each emotion's face stands for in its speech, not what the recogniser hears in its voices.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np
import yaml

from espnet_cause.au import AU_NAMES, NUM_AUS
from espnet_cause.emotion import one_hot, parse_emotion
from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import SpeakerStats
from espnet_cause.inference.expressive_zip import load_recogniser
from espnet_cause.inference.infer_set import speaker_payloads
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.atomic import atomic_write, check_output_dir
from espnet_cause.io.audio import load_speech
from espnet_cause.io.audio import resample as resample_audio
from espnet_cause.io.cache import sha256_file
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.timegrid import to_hop_grid
from espnet_cause.jobs import batch
from espnet_cause.tts.features import AU_EMBED_DIM, EMBED_SCALE, MAGNITUDE_CHANNEL, au_embed

logger = logging.getLogger(__name__)

GRID_FILE = "grid.yaml"
REPORT_FILE = "export_report.tsv"
#: The job's own columns of the report (after key, status, reason).
REPORT_COLUMNS = ("num_samples", "num_frames", "au_frames", "mean_intensity")
#: Per-utterance results in the runner's item directory.
ITEM_SUFFIXES = (".au.npy", ".au_embed.npy")


def export_item(
    key: str,
    payload: dict,
    *,
    speech2au,
    fs: int,
    hop_length: int,
    n_fft: int | None,
    items_dir: str,
    resample: bool = False,
) -> dict:
    """AU features of one utterance, saved as ``<items_dir>/<key>.au.npy`` and ``.au_embed.npy``.

    Args:
        key: Utterance id.
        payload: ``{"wav": wav.scp value, "start": s or None, "end": s or None}``, and
            optionally ``"speaker"`` (the speaker's statistics: ``mean``, ``sd``, ``count``) and
            ``"emotion"`` (a known emotion label, shown instead of the heard one).
        speech2au: A :class:`espnet_cause.inference.speech2au.Speech2AU`.
        fs, hop_length, n_fft: The TTS feature extractor's grid.
        items_dir: Directory of the per-utterance results.
        resample: Resample audio at another rate to ``fs`` instead of refusing it.

    Returns:
        A record with ``num_samples``, ``num_frames`` and ``mean_intensity``.
    """

    speech, rate = load_speech(payload["wav"], name=f"{key} ({payload['wav']})")
    if rate != fs and resample:
        speech, rate = resample_audio(speech, rate, fs), fs
    if rate != fs:
        raise CauseError(
            f"{key}: audio is at {rate} Hz but --fs is {fs}",
            fix="export from the wav.scp ESPnet trains on (dump/raw, resampled to fs), pass "
            "the matching --fs, or add --resample",
        )
    if payload.get("start") is not None:
        start = int(round(payload["start"] * rate))
        end = len(speech) if payload["end"] is None else int(round(payload["end"] * rate))
        speech = speech[start:end]
    stats, label = dict(payload.get("speaker") or {}), payload.get("emotion")
    functionals = stats.pop("functionals", None)  # computed once, with the speaker's statistics
    aus = speech2au(
        speech, rate, name=key, speaker=SpeakerStats(**stats) if stats else None,
        functionals=functionals if payload.get("start") is None else None,
        emotion=one_hot(label) if label else None,
    )  # fmt: skip
    aus = speech2au.to_aus(aus)  # AUs, also from an ARKit model
    grid = to_hop_grid(aus, speech2au.au_fps, len(speech), fs, hop_length, n_fft=n_fft)
    embed = au_embed(aus)
    out = Path(items_dir)
    for suffix, array in ((".au.npy", grid), (".au_embed.npy", embed)):
        with atomic_write(out / f"{key}{suffix}") as tmp:
            np.save(tmp, array)
    return {
        "num_samples": len(speech),
        "num_frames": len(grid),
        "au_frames": len(aus),
        "mean_intensity": round(float(aus.mean()), 4),
    }


def load_speech2au(model: str, device: str, backend: str = "auto") -> dict:
    """Per-worker environment: the CAUSE model (module level so that it pickles for Dask)."""

    return {"speech2au": Speech2AU(model, device=device, backend=backend)}


def read_items(wav_scp: Path, segments: Path | None) -> list[tuple[str, dict]]:
    """``(key, payload)`` pairs from ``wav.scp`` (and ``segments``)."""

    wavs = read_kaldi_map(wav_scp, check_sorted=False)
    if segments is None:
        return [(k, {"wav": v, "start": None, "end": None}) for k, v in sorted(wavs.items())]
    items = []
    for lineno, (key, value) in enumerate(read_kaldi_map(segments, check_sorted=False).items(), 1):
        parts = value.split()
        try:
            reco, start, end = parts[0], float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise CauseError(
                f"bad segments line {value!r}", path=segments, line=lineno,
                fix="use '<utt> <recording> <start_s> <end_s>'",
            ) from None  # fmt: skip
        if reco not in wavs:
            raise CauseError(f"recording {reco!r} is not in {wav_scp}", path=segments, line=lineno)
        items.append((key, {"wav": wavs[reco], "start": start, "end": end if end > 0 else None}))
    return sorted(items)


def read_emotion_labels(path: Path, keys: list[str]) -> dict[str, str]:
    """utt -> emotion class of every key, from a Kaldi ``<utt> <emotion>`` file.

    Raises:
        CauseError: naming the file and line of an unknown label, or the first key it lacks.
    """
    labels = read_kaldi_map(path, check_sorted=False)
    out = {}
    for lineno, (utt, value) in enumerate(labels.items(), 1):
        try:
            out[utt] = parse_emotion(value.split()[0])
        except CauseError as e:
            raise CauseError(e.message, path=path, line=lineno, fix=e.fix) from None
    missing = [k for k in keys if k not in out]
    if missing:
        raise CauseError(
            f"{len(missing)} utterance(s) have no emotion label, e.g. {missing[0]!r}",
            path=path, fix="label every utterance of the wav.scp, or leave out --emotion_labels",
        )  # fmt: skip
    return out


def export_tts_features(
    wav_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    model: str | os.PathLike,
    fs: int,
    hop_length: int,
    n_fft: int | None = None,
    segments: str | os.PathLike | None = None,
    emotion_labels: str | os.PathLike | None = None,
    resample: bool = False,
    device: str = "cpu",
    backend: str = "auto",
    parallel_config=None,
    retry_errors: bool = False,
    max_fail_fraction: float = batch.DEFAULT_MAX_FAIL_FRACTION,
) -> list[str]:
    """Export the AU features of a set; returns the keys that were written.

    Args:
        wav_scp: Kaldi ``wav.scp`` of the TTS/VC corpus (audio at ``fs``).
        output_dir: Where ``au.scp``, ``au_embed.scp``, ``grid.yaml`` and the report go.
        model: CAUSE ``model.zip``.
        fs, hop_length, n_fft: The TTS feature extractor's grid (``feats_extract_conf``).
        segments: Kaldi ``segments``, if any.
        emotion_labels: Kaldi ``<utt> <emotion>`` of every utterance (e.g. a data dir's
            ``emotion``): for a model with an emotion recogniser, the stream shows each
            utterance's labelled emotion (its prototype, :func:`espnet_cause.emotion.one_hot`)
            instead of the heard one. Without it, such a model hears each utterance, with its
            speaker's statistics when a ``utt2spk`` lies beside ``wav_scp`` (and no
            ``segments``). Models without a recogniser ignore both.
        resample: Resample audio at another rate to ``fs`` instead of skipping it.
        device, backend: :class:`Speech2AU` options.
        parallel_config: :func:`espnet_cause.jobs.parallel.load_parallel_config` (None: in-process).
        retry_errors: Re-run items that failed in an earlier run.
        max_fail_fraction: The batch failure rule (:func:`espnet_cause.jobs.batch.finish`).
    """
    model = Path(model)
    if not model.is_file():
        raise CauseError("model file not found", path=model, fix="pass the recipe's model.zip")
    if fs <= 0 or hop_length <= 0:
        raise CauseError(f"--fs {fs} and --hop_length {hop_length} must be positive")
    out = check_output_dir(output_dir)
    items = read_items(Path(wav_scp), Path(segments) if segments else None)
    if not items:
        raise CauseError("no utterances", path=wav_scp, fix="give a non-empty wav.scp")
    hears = load_recogniser(model) is not None
    labels, speakers = {}, {}
    if hears and emotion_labels:
        labels = read_emotion_labels(Path(emotion_labels), [k for k, _ in items])
        logger.info("emotion: the labels of %s, not the recogniser's", emotion_labels)
    elif hears and not segments:
        speakers = speaker_payloads(wav_scp, dict((k, p["wav"]) for k, p in items), model)
    elif emotion_labels:
        logger.warning("%s has no emotion recogniser: --emotion_labels unused", model)
    for key, payload in items:
        payload.update(speaker=speakers.get(key), emotion=labels.get(key))
    grid = {
        "fs": fs,
        "hop_length": hop_length,
        "n_fft": n_fft,
        "resample": resample,
        "frames": "1 + num_samples // hop_length (ESPnet LogMelFbank, center=True)",
        "model": str(model),
        "model_sha256": sha256_file(model),
        "au_names": list(AU_NAMES),
        "au_embed": {
            "dim": AU_EMBED_DIM,
            "layout": f"[{MAGNITUDE_CHANNEL}, mean(AU)/{EMBED_SCALE:g} x{NUM_AUS}, "
            f"std(AU)/{EMBED_SCALE:g} x{NUM_AUS}]",
        },
    }
    with batch.output_lock(out):  # one writer for the whole job, arks and report included
        where = batch.BatchDir(out)
        fn = functools.partial(
            export_item, fs=fs, hop_length=hop_length, n_fft=n_fft, items_dir=str(where.items),
            resample=resample,
        )  # fmt: skip
        records = batch.run_batch(
            items,
            fn,
            output_dir=out,
            settings={
                **{k: grid[k] for k in ("fs", "hop_length", "n_fft", "resample", "model_sha256")},
                "emotion_labels": sha256_file(emotion_labels) if labels else None,
                "utt2spk": sha256_file(Path(wav_scp).parent / "utt2spk") if speakers else None,
            },
            item_files=lambda key: [where.item(key, s) for s in ITEM_SUFFIXES],
            setup_fn=functools.partial(load_speech2au, str(model), device, backend),
            parallel_config=parallel_config,
            desc="export_tts_features",
            retry_errors=retry_errors,
            keys_from=segments or wav_scp,
        )
        with atomic_write(out / GRID_FILE) as tmp:
            tmp.write_text(yaml.safe_dump(grid, sort_keys=False))
        ok = batch.finish(
            out / REPORT_FILE,
            dict(items),
            records,
            REPORT_COLUMNS,
            what="utterance",
            max_fail_fraction=max_fail_fraction,
        )
        batch.gather_ark(out / "au.ark", out / "au.scp", {k: where.item(k, ".au.npy") for k in ok})
        batch.gather_ark(
            out / "au_embed.ark",
            out / "au_embed.scp",
            {k: where.item(k, ".au_embed.npy") for k in ok},
            vectors=True,
        )
    logger.info(
        "exported %d utterances (%d skipped, see %s) to %s/{au,au_embed}.scp",
        len(ok), len(items) - len(ok), out / REPORT_FILE, out,
    )  # fmt: skip
    return ok
