"""Speech -> emotion posteriors with a trained recogniser: one utterance, or a whole ``wav.scp``.

``Speech2Emotion(config, weights)(samples, fs) -> (T, 8)`` frame posteriors at the model's
``au_fps`` (rows sum to 1, the corpus's absent classes exactly 0); :func:`utterance_vector` is
their mean. :func:`infer_emotion_set` writes, in its output directory::

    posteriors.scp / posteriors.ark   (T, 8) float32 per utterance (Kaldi matrices); au_fps
    utterance.tsv                     utt, predicted class, the 8 utterance-level posteriors
    emotion_infer_report.tsv          key, status, reason, frames (bad items skipped with why)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.emotion import EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.au_files import AU_FPS_FILE, KaldiArkWriter, write_au_fps
from espnet_cause.io.audio import check_speech, load_speech, resample
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.jobs.batch import finish

logger = logging.getLogger(__name__)

POSTERIORS_SCP = "posteriors.scp"
UTTERANCE_TABLE = "utterance.tsv"
REPORT_FILE = "emotion_infer_report.tsv"


def utterance_vector(posteriors: np.ndarray) -> np.ndarray:
    """(T, 8) frame posteriors -> (8,) their mean (the utterance-level posteriors)."""
    return np.asarray(posteriors, dtype=np.float64).mean(0).astype(np.float32)


class Speech2Emotion:
    """A trained emotion recogniser, ready for numpy input.

    Args:
        train_config: The training ``config.yaml`` (default: beside ``model_file``).
        model_file: Its ``*.pth`` weights (e.g. ``valid.acc.best.pth``).
        device: Torch device.

    Attributes:
        au_fps: Frame rate of the posteriors.
        classes: The classes the model may output (the others are 0).
    """

    def __init__(
        self,
        train_config: str | os.PathLike | None = None,
        model_file: str | os.PathLike | None = None,
        device: str = "cpu",
    ) -> None:
        # torch + espnet2, loaded when the recogniser is used
        from espnet_cause.tasks.emotion import EmotionTask

        self.model, _ = EmotionTask.build_model_from_file(train_config, model_file, device)
        self.model.eval()
        self.device = device
        self.au_fps = self.model.au_fps
        self.classes = self.model.classes

    def __call__(self, samples: np.ndarray, fs: int) -> np.ndarray:
        """(N,) float mono speech at ``fs`` -> (T, 8) float32 frame posteriors."""
        import torch

        samples = np.asarray(samples, dtype=np.float32)
        if fs != self.model.fs:
            samples, fs = resample(samples, fs, self.model.fs), self.model.fs
        check_speech(samples, fs, 1.0 / self.au_fps)
        speech = torch.from_numpy(samples).to(self.device)
        return self.model.inference(speech).cpu().numpy().astype(np.float32)


def read_utterance_table(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``utterance.tsv`` -> utt -> (8,) utterance posteriors.

    Raises:
        CauseError: naming the file and line of a malformed row.
    """
    path = Path(path)
    if not path.is_file():
        raise CauseError("emotion table not found", path=path, fix="run emotion_infer first")
    out = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        try:
            if len(fields) != 2 + len(EMOTIONS):
                raise ValueError
            out[fields[0]] = np.asarray([float(v) for v in fields[2:]], dtype=np.float32)
        except ValueError:
            raise CauseError(
                f"expected utt, class and {len(EMOTIONS)} numbers", path=path, line=lineno
            ) from None
    return out


def infer_emotion_set(
    wav_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    recogniser: Speech2Emotion,
) -> dict[str, np.ndarray]:
    """Every utterance of ``wav_scp`` -> its posteriors (files: the module docstring).

    Returns:
        utt -> (8,) utterance posteriors of the utterances that worked.

    Raises:
        CauseError: when no utterance could be processed (the report says why).
    """

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    wavs = read_kaldi_map(wav_scp, check_sorted=False)
    records: dict[str, dict] = {}
    vectors: dict[str, np.ndarray] = {}
    with KaldiArkWriter(output_dir / "posteriors.ark", output_dir / POSTERIORS_SCP) as writer:
        for key, value in wavs.items():
            try:
                samples, fs = load_speech(value, name=f"{key} ({value})")
                post = recogniser(samples, fs)
            except CauseError as e:
                records[key] = {"key": key, "status": "error", "reason": str(e)}
                continue
            writer.write(key, post)
            vectors[key] = utterance_vector(post)
            records[key] = {"key": key, "status": "ok", "frames": len(post)}
    rows = ["utt\tpredicted\t" + "\t".join(EMOTIONS)]
    for key, vec in vectors.items():
        probs = "\t".join(f"{v:.6f}" for v in vec)
        rows.append(f"{key}\t{EMOTIONS[int(np.argmax(vec))]}\t{probs}")
    with atomic_write(output_dir / UTTERANCE_TABLE) as tmp:
        tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    write_au_fps(output_dir / AU_FPS_FILE, recogniser.au_fps)  # the posteriors' frame rate
    finish(output_dir / REPORT_FILE, wavs, records, ("frames",), what="utterance")
    return vectors
