"""AU targets for emotional speech without faces (RAVDESS, CREMA-D audio): the expression table.

A labelled voice (emotion, intensity) has no face to track, so its training target is made:

    target(t) = base(t) + envelope(t) * prototype(emotion, intensity)

- ``base``: for the speech AUs (all but :data:`EXPRESSION_AUS`), the AUs a model without
  expression (the built-in model, the *teacher*) predicts from the same speech, so the
  expression is added on top of the speech motion and never replaces it; their level (the mean
  over the speech) is replaced by ``neutral``, the same speaker's neutral utterances' level. For
  the expression AUs (brows, lids, cheeks, nose, lip corners: :data:`EXPRESSION_AUS`), ``base``
  is the speaker's neutral level itself, flat: the teacher raises them with loudness alone (it
  learned its moods from synthetic voices), and a real voice's loudness is not a smile.
- ``prototype``: the emotion's AU change from neutral (:data:`espnet_cause.emotion.PROTOTYPES`
  times :data:`espnet_cause.emotion.INTENSITY_SCALE`).
- ``envelope``: how faces hold an expression through an utterance: rising from 0 over
  :data:`RISE_S` around the speech onset (starting :data:`LEAD_S` before it), 1 through the
  speech, easing after its end with time constant :data:`EASE_S`. Speech onset and end come from
  the frame energy (:func:`speech_span`).

Each utterance also gets per-AU loss weights (``au_weight.scp``: ``<utt> <path.npy>``, (17,)
float32, 0 = this AU does not teach): :data:`EXPRESSION_AU_WEIGHTS`. The AUs that carry
expression teach (brows, lids, cheeks, nose, and the lip AUs the prototypes move: AU10, AU12,
AU15, AU20, AU23, AU26, each as teacher + expression); the AUs that carry only speech or blinks
(AU14, AU17, AU25, AU45) do not: for them the teacher's guess on a real voice is no supervision,
the mouth is learned from faces (mini corpus, real talking faces).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_NAMES, NUM_AUS, au_index
from espnet_cause.emotion import EMOTIONS, prototype
from espnet_cause.errors import CauseError
from espnet_cause.inference.expression_envelope import (  # noqa: F401 (re-exported)
    EASE_S,
    LEAD_S,
    RISE_S,
    SPEECH_RANGE_DB,
    expression_envelope,
    frame_energy_db,
    speech_span,
)
from espnet_cause.io.au_files import AUArkWriter
from espnet_cause.io.audio import load_speech, write_wav
from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map

logger = logging.getLogger(__name__)

#: AUs whose made target is the speaker's neutral level + the prototype (no teacher motion).
EXPRESSION_AUS: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU12", "AU15",
)  # fmt: skip
#: AUs that carry no supervision on a voice without a face (weight 0).
SPEECH_ONLY_AUS: tuple[str, ...] = ("AU14", "AU17", "AU25", "AU45")
#: (17,) per-AU loss weights of an utterance whose target is made here.
EXPRESSION_AU_WEIGHTS: np.ndarray = np.array(
    [0.0 if name in SPEECH_ONLY_AUS else 1.0 for name in AU_NAMES], dtype=np.float32
)


def expression_target(
    teacher: np.ndarray,
    wav: np.ndarray,
    fs: int,
    au_fps: float,
    emotion: str,
    intensity: str | None,
    neutral: np.ndarray | None = None,
) -> np.ndarray:
    """The (T, 17) target of one labelled utterance (module docstring), clipped to 0-5.

    Args:
        teacher: (T, 17) AUs of a model without expression on the same speech.
        wav: (N,) the speech.
        fs: Its sample rate.
        au_fps: Frame rate of ``teacher``.
        emotion: The utterance's emotion class.
        intensity: ``normal``, ``strong`` or None.
        neutral: (17,) the speaker's neutral level (mean over the speech of the teacher on
            their neutral utterances); None keeps the teacher as it is.
    """
    teacher = np.asarray(teacher, dtype=np.float32)
    if teacher.ndim != 2 or teacher.shape[1] != NUM_AUS:
        raise CauseError(f"teacher AUs have shape {teacher.shape}, expected (T, {NUM_AUS})")
    energy = frame_energy_db(wav, fs, au_fps, len(teacher))
    onset, end = speech_span(energy)
    if neutral is not None:
        neutral = np.asarray(neutral, dtype=np.float32)
        teacher = teacher - teacher[onset : end + 1].mean(axis=0) + neutral
        flat = [au_index(name) for name in EXPRESSION_AUS]
        teacher[:, flat] = neutral[flat]
    env = expression_envelope(len(teacher), au_fps, onset, end)
    target = teacher + env[:, None] * prototype(emotion, intensity)[None, :]
    return np.clip(target, 0.0, 5.0).astype(np.float32)


def speaker_neutral_levels(
    tracks: dict[str, np.ndarray], utt2spk: dict[str, str], emotions: dict[str, str]
) -> dict[str, np.ndarray]:
    """Speaker -> (17,) mean over their neutral utterances of each utterance's mean AUs (a
    speaker without neutral utterances: over all of theirs). ``tracks``: each utterance's AUs
    over its speech."""
    out = {}
    for spk in sorted(set(utt2spk[u] for u in tracks)):
        mine = [u for u in tracks if utt2spk[u] == spk]
        chosen = [u for u in mine if emotions[u] == "neutral"] or mine
        out[spk] = np.mean([tracks[u].mean(axis=0) for u in chosen], axis=0)
    return out


def read_labels(data_dir: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """``wav.scp``, ``emotion`` and (optional) ``intensity`` of a data dir.

    Raises:
        CauseError: naming the file when ``wav.scp`` or ``emotion`` is missing or an utterance
            has no emotion label.
    """

    for name in ("wav.scp", "emotion"):
        if not (data_dir / name).is_file():
            raise CauseError(
                f"{name} not found",
                path=data_dir / name,
                fix="prepare a labelled corpus (python -m espnet_cause.bin.prepare_data --corpus "
                "ravdess|crema_d)",
            )
    wavs = read_kaldi_map(data_dir / "wav.scp")
    emotions = read_kaldi_map(data_dir / "emotion")
    missing = sorted(set(wavs) - set(emotions))
    if missing:
        raise CauseError(
            f"{len(missing)} utterance(s) have no emotion label, e.g. {missing[0]}",
            path=data_dir / "emotion",
        )
    path = data_dir / "intensity"
    intensity = read_kaldi_map(path) if path.is_file() else {}
    return wavs, emotions, intensity


def write_expression_dump(
    data_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    teacher,
) -> dict[str, int]:
    """A labelled audio-only data dir -> a training dump dir with made targets and weights.

    Writes ``output_dir/{wav.scp, utt2spk, emotion, au.ark, au.scp, au_weight.scp,
    au_weight/<utt>.npy}`` (``au_weight``: :data:`EXPRESSION_AU_WEIGHTS`; ``emotion``: the class
    index in :data:`~espnet_cause.emotion.EMOTIONS`, ESPnet ``text_int``, as stage 2 writes it
    for every labelled corpus). Audio at another
    rate than the teacher's is written as 16-bit wav under ``output_dir/wav/``.

    Args:
        data_dir: Data dir with ``wav.scp``, ``utt2spk``, ``emotion`` (and ``intensity``).
        output_dir: The dump dir.
        teacher: A :class:`espnet_cause.inference.Speech2AU` without expression (the built-in).

    Returns:
        Emotion -> number of utterances written.
    """

    data_dir, output_dir = Path(data_dir), Path(output_dir)
    wavs, emotions, intensity = read_labels(data_dir)
    utt2spk = read_kaldi_map(data_dir / "utt2spk")
    (output_dir / "au_weight").mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    wav_out: dict[str, str] = {}
    weights_out: dict[str, str] = {}
    speech: dict[str, tuple[np.ndarray, int, np.ndarray]] = {}
    for utt, value in sorted(wavs.items()):
        wav, fs = load_speech(value, name=utt)
        if fs != teacher.fs:
            wav, fs = teacher.prepare(wav, fs, name=utt), teacher.fs
            value = str((output_dir / "wav" / f"{utt}.wav").resolve())
            write_wav(value, wav, fs)
        speech[utt] = (wav, fs, teacher(wav, fs, name=utt))
        wav_out[utt] = value
    spans = {}
    for utt, (wav, fs, aus) in speech.items():
        first, last = speech_span(frame_energy_db(wav, fs, teacher.au_fps, len(aus)))
        spans[utt] = aus[first : last + 1]
    neutral = speaker_neutral_levels(spans, utt2spk, emotions)
    with AUArkWriter(
        (output_dir / "au.ark").resolve(), output_dir / "au.scp", fps=teacher.au_fps
    ) as writer:
        for utt, (wav, fs, aus) in speech.items():
            target = expression_target(
                aus, wav, fs, teacher.au_fps, emotions[utt], intensity.get(utt),
                neutral=neutral[utt2spk[utt]],
            )  # fmt: skip
            writer.write(utt, target)
            npy = (output_dir / "au_weight" / f"{utt}.npy").resolve()
            np.save(npy, EXPRESSION_AU_WEIGHTS)
            weights_out[utt] = str(npy)
            counts[emotions[utt]] = counts.get(emotions[utt], 0) + 1
    write_kaldi_map(output_dir / "wav.scp", wav_out)
    write_kaldi_map(output_dir / "au_weight.scp", weights_out)
    write_kaldi_map(output_dir / "utt2spk", {u: utt2spk[u] for u in wav_out})
    write_kaldi_map(output_dir / "emotion", {u: str(EMOTIONS.index(emotions[u])) for u in wav_out})
    logger.info("%s: %d utterances, %s", output_dir, len(wav_out), counts)
    return counts
