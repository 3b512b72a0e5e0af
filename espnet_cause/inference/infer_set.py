"""Speech -> AU files: one wav, or a set through the batch runner (the job of ``bin/infer``).

:func:`infer_file` writes one utterance; :func:`infer_set` runs every utterance of a ``wav.scp``
as one item of :mod:`espnet_cause.jobs.batch` (in-process or on Dask; finished items are skipped
on a re-run, other model or grid settings start over; unusable items are skipped with their
reason in ``OUTPUT_DIR/infer_report.tsv``). Formats: ``ark`` (``au.ark``/``au.scp``), ``npy``,
``csv`` (one file per utterance), and the avatar formats ``livelink`` (Live Link Face CSV),
``arkit_json`` (52 ARKit blendshapes and the head and eye rotations; :mod:`espnet_cause.io.livelink`)
and ``visemes`` (Meta/Oculus visemes and Rhubarb cues), made from the model's frames and the
speech by the take writer the caller passes (``bin/infer`` passes
:func:`espnet_cause.avatar.animation.write_take`; the avatar package sits above this one).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from espnet_cause.arkit import NUM_BLENDSHAPES
from espnet_cause.assets import resolve_model
from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import SpeakerStats, speaker_functionals
from espnet_cause.inference.expressive_zip import load_recogniser
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.au_files import AU_FPS_FILE, write_au, write_au_fps
from espnet_cause.io.audio import float_samples, load_speech, mix_down
from espnet_cause.io.blendshapes import write_blendshapes
from espnet_cause.io.datadir import group_by_speaker, read_kaldi_map
from espnet_cause.io.livelink import DEFAULT_LIVELINK_FPS
from espnet_cause.jobs import batch

logger = logging.getLogger(__name__)

#: Formats for avatar tools (ARKit blendshapes with head motion, visemes), 60 fps unless an
#: output rate is given (written by a :data:`TakeWriter`).
ANIMATION_FORMATS = ("livelink", "arkit_json", "visemes")
OUTPUT_FORMATS = ("ark", "npy", "csv") + ANIMATION_FORMATS
#: File suffix of one utterance's output per format.
SUFFIXES = {
    "ark": ".npy",
    "npy": ".npy",
    "csv": ".csv",
    "livelink": ".csv",
    "arkit_json": ".json",
    "visemes": ".json",
}
REPORT_NAME = "infer_report.tsv"
#: Writes one avatar take: ``(path, values (T, D) at fps, mono speech, its rate, *, fps, target,
#: output_format, **motion)`` (:func:`espnet_cause.avatar.animation.write_take`).
TakeWriter = Callable[..., None]
#: The job's own columns of the report (after key, status, reason).
REPORT_COLUMNS = ("num_frames", "fps")


def grid_options(
    output_format: str,
    output_fps: float | None = None,
    output_fs: int | None = None,
    output_hop_length: int | None = None,
) -> dict:
    """The output frame grid (:meth:`Speech2AU.to_grid` keywords); animation formats default
    to :data:`~espnet_cause.io.livelink.DEFAULT_LIVELINK_FPS` (60, Live Link Face's rate)."""
    if output_fps is None and output_fs is None and output_format in ANIMATION_FORMATS:
        output_fps = DEFAULT_LIVELINK_FPS
    return {
        "output_fps": output_fps,
        "output_fs": output_fs,
        "output_hop_length": output_hop_length,
    }


def build_speech2au(**model_options) -> dict:
    """Per-worker setup of the batch runner: the loaded model."""
    return {"speech2au": Speech2AU(**model_options)}


def write_output(path: str | os.PathLike, values: np.ndarray, fps: float, output_format: str):
    """Write one utterance's frames as ``ark``/``npy``/``csv`` (csv or npy by the suffix).

    Args:
        path: The file.
        values: (T, 17) AUs or (T, 51) blendshapes at ``fps``.
        fps: Frame rate.
        output_format: ``ark``, ``npy`` or ``csv`` (the animation formats: :func:`write_result`).
    """
    if values.shape[1] == NUM_BLENDSHAPES:
        write_blendshapes(path, values, fps)
    else:
        write_au(path, values, fps=fps)


def write_result(
    path,
    values: np.ndarray,
    fps: float,
    output_format: str,
    speech2au,
    samples,
    sr,
    motion: dict,
    write_take: TakeWriter | None = None,
) -> None:
    """One utterance's output: the model's frames, or for the animation formats an avatar take
    made from them and the speech by ``write_take`` (``motion``: its ``head_motion``,
    ``blink_rate``, ``seed``)."""
    if output_format not in ANIMATION_FORMATS:
        write_output(path, values, fps, output_format)
        return
    if write_take is None:
        raise CauseError(
            f"output format {output_format!r} needs a take writer",
            fix="pass write_take=espnet_cause.avatar.animation.write_take",
        )
    mono = speech2au.prepare(samples, sr)
    write_take(
        path, values, mono, speech2au.fs, fps=fps, target=speech2au.target,
        output_format=output_format, **motion,
    )  # fmt: skip


def infer_item(key: str, payload: dict, *, speech2au, write_take: TakeWriter | None = None) -> dict:
    """One utterance of a set: read, estimate, resample, write ``payload['output']``."""
    samples, sr = load_speech(payload["wav"], name=f"{key} ({payload['wav']})")
    stats = dict(payload.get("speaker") or {})
    functionals = stats.pop("functionals", None)  # computed once, with the speaker's statistics
    speaker = SpeakerStats(**stats) if stats else None
    aus = speech2au(
        samples, sr, name=f"{key} ({payload['wav']})", speaker=speaker, functionals=functionals
    )
    aus, fps = speech2au.to_grid(aus, len(samples), sr, **payload["grid"])
    fmt, motion = payload.get("format", "ark"), payload.get("motion", {})
    write_result(payload["output"], aus, fps, fmt, speech2au, samples, sr, motion, write_take)
    return {"num_frames": len(aus), "fps": fps, "duration": round(len(samples) / sr, 4)}


def infer_file(
    wav: str | os.PathLike,
    output: str | os.PathLike,
    *,
    model_options: dict,
    grid: dict,
    output_format: str,
    motion: dict | None = None,
    write_take: TakeWriter | None = None,
) -> tuple[int, float]:
    """One audio file -> ``output``; errors name the file.

    Args:
        wav: The audio (any sample rate, mono or multi-channel).
        output: The file to write.
        model_options: :class:`Speech2AU` keywords (``model``, ``backend``, ``device``...).
        grid: :func:`grid_options`.
        output_format: One of :data:`OUTPUT_FORMATS`.
        motion: Animation formats: ``head_motion``, ``blink_rate``, ``seed`` (None: defaults).
        write_take: Animation formats: the :data:`TakeWriter`.

    Returns:
        (number of frames, frame rate).
    """
    speech2au = build_speech2au(**model_options)["speech2au"]
    samples, sr = load_speech(wav, name=str(wav))
    aus = speech2au(samples, sr, name=str(wav))
    aus, fps = speech2au.to_grid(aus, len(samples), sr, **grid)
    write_result(output, aus, fps, output_format, speech2au, samples, sr, motion or {}, write_take)
    kind = output_format if output_format in ANIMATION_FORMATS else Path(output).suffix[1:]
    logger.info("%s: %d frames at %g fps -> %s (%s)", wav, len(aus), fps, output, kind)
    return len(aus), fps


def speaker_payloads(
    wav_scp: str | os.PathLike, wavs: dict[str, str], model: str | os.PathLike | None
) -> dict[str, dict]:
    """utt -> its speaker's statistics for the emotion recogniser (``mean``, ``sd``, ``count``).

    Only for a model with an emotion recogniser (``expressive``) and a ``utt2spk`` beside
    ``wav_scp``: each speaker's utterances in the set are normalised together (per-speaker CMVN of
    :mod:`espnet_cause.inference.voice_functionals`). Otherwise (or for an utterance that cannot
    be read, skipped here and reported by its own item) ``{}``: each utterance is heard alone.
    """
    utt2spk_path = Path(wav_scp).parent / "utt2spk"
    if not utt2spk_path.is_file() or load_recogniser(resolve_model(model)) is None:
        return {}
    utt2spk = read_kaldi_map(utt2spk_path, check_sorted=False)
    by_speaker = group_by_speaker({u: s for u, s in utt2spk.items() if u in wavs})

    def load(utt: str):
        samples, rate = load_speech(wavs[utt], name=utt)
        return mix_down(float_samples(samples, utt), utt), rate

    out = {}
    for spk, utts in by_speaker.items():
        rows, running = speaker_functionals(((u, functools.partial(load, u)) for u in utts), spk)
        if rows:
            st = running.stats()
            out.update(
                {u: {"mean": st.mean, "sd": st.sd, "count": st.count, "functionals": rows[u]}
                 for u in rows}
            )  # fmt: skip
    logger.info("emotion: per-speaker statistics of %d speakers (utt2spk)", len(by_speaker))
    return out


def _file_stamp(path: str | None) -> str | None:
    """Path, size and modification time: a re-packed or retrained model invalidates results."""
    if not path:
        return None
    p = Path(path).resolve()
    if not p.is_file():
        return str(p)
    st = p.stat()
    return f"{p} {st.st_size} {st.st_mtime_ns}"


def infer_set(
    wav_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    model_options: dict,
    grid: dict,
    output_format: str = "ark",
    parallel_config=None,
    retry_errors: bool = False,
    max_fail_fraction: float = batch.DEFAULT_MAX_FAIL_FRACTION,
    motion: dict | None = None,
    write_take: TakeWriter | None = None,
) -> dict[str, dict]:
    """Every utterance of ``wav_scp``, one resumable item each; returns the records by key.

    Args:
        wav_scp: Kaldi ``wav.scp``; with a model that hears emotion (``expressive``), a
            ``utt2spk`` beside it normalises each speaker's voices together
            (:func:`speaker_payloads`).
        output_dir: Where the outputs, ``au_fps`` and ``infer_report.tsv`` go.
        model_options: :class:`Speech2AU` keywords (``model``, ``train_config``, ``model_file``,
            ``backend``, ``device``, ``num_threads``, ``cache_dir``).
        grid: :func:`grid_options`.
        output_format: One of :data:`OUTPUT_FORMATS`.
        parallel_config: :func:`espnet_cause.jobs.parallel.load_parallel_config` (None:
            in-process).
        retry_errors: Re-run items that failed in an earlier run.
        max_fail_fraction: The batch failure rule (:func:`espnet_cause.jobs.batch.finish`).
        motion: Animation formats: ``head_motion``, ``blink_rate``, ``seed`` (None: defaults).
        write_take: Animation formats: the :data:`TakeWriter` (a module-level function, so that
            Dask workers can receive it).
    """
    motion = motion or {}
    out_dir = Path(output_dir)
    wavs = read_kaldi_map(wav_scp, check_sorted=False)
    if not wavs:
        raise CauseError("wav.scp has no lines", path=wav_scp, fix="check the data dir")
    speakers = {}
    if model_options.get("model") is not None or not model_options.get("model_file"):
        speakers = speaker_payloads(wav_scp, wavs, model_options.get("model"))
    with batch.output_lock(out_dir):  # one writer for the whole job, ark and report included
        where = batch.BatchDir(out_dir)
        suffix = SUFFIXES[output_format]
        if output_format == "ark":
            output = where.item
        else:
            output = lambda k, sfx: out_dir / f"{k}{sfx}"  # noqa: E731
        items = [
            (key, {"wav": value, "output": str(output(key, suffix)), "grid": grid,
                   "format": output_format, "motion": motion, "speaker": speakers.get(key)})
            for key, value in wavs.items()
        ]  # fmt: skip
        settings = {
            "model": _file_stamp(model_options.get("model")),
            "model_file": _file_stamp(model_options.get("model_file")),
            "train_config": _file_stamp(model_options.get("train_config")),
            "utt2spk": _file_stamp(str(Path(wav_scp).parent / "utt2spk")) if speakers else None,
            "output_format": output_format,
            **grid,
            **(motion if output_format in ANIMATION_FORMATS else {}),
        }
        records = batch.run_batch(
            items,
            functools.partial(infer_item, write_take=write_take),
            output_dir=out_dir,
            settings=settings,
            item_files=lambda key: [output(key, suffix)],
            setup_fn=functools.partial(build_speech2au, **model_options),
            parallel_config=parallel_config,
            desc="infer",
            retry_errors=retry_errors,
            keys_from=wav_scp,
        )
        ok = batch.finish(
            out_dir / REPORT_NAME,
            wavs,
            records,
            REPORT_COLUMNS,
            what="utterance",
            max_fail_fraction=max_fail_fraction,
        )
        fps = records[ok[0]]["fps"]
        if output_format == "ark":
            files = {key: where.item(key, suffix) for key in sorted(ok)}
            width = np.load(next(iter(files.values())), mmap_mode="r").shape[1]
            batch.gather_ark(
                out_dir / "au.ark", out_dir / "au.scp", files, fps=fps, num_columns=width
            )
        else:
            write_au_fps(out_dir / AU_FPS_FILE, fps)
    return records
