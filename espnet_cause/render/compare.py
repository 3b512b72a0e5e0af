"""The AU-vs-emotion comparison: one photo driven by predicted AUs and by predicted emotions.

For each utterance the photo is rendered twice -- from the CAUSE model's AU sequence and from the
emotion recogniser's frame posteriors -- and written side by side in one mp4 with the speech:
``[AU bars | AU-driven face | emotion-driven face | emotion bars]``. Two renderers:

- ``ganimation``: the AU-conditioned generator takes the AUs, the emotion-conditioned generator
  the posteriors (both trained, e.g. by the recipe's stage 6);
- ``warp`` (training-free, :class:`~espnet_cause.render.warp.WarpRenderer`, absolute mode: the
  photo's own AUs are read and driven to the requested ones): the AUs as they are, and the
  posteriors through the FACS prototype table (:func:`espnet_cause.emotion.emotion_to_aus`: the
  probability-weighted mean of the prototypes; neutral is 0, so this face does not speak). This
  runs on any photo, e.g. a neutral frame of the speaker whose real clips are compared.

A measured proxy for the CAUSE poster's naturalness judgement (AU control more natural than
emotion control), where the corpus has real face tracks:

- **AU correlation**: the AUs of each rendered video are re-extracted with the built-in tracker
  (MediaPipe, :mod:`espnet_cause.extract.mediapipe`) and correlated with the AUs of the speaker's
  real video (stage 2's ``au.scp``): Pearson r per AU over the frames of all compared utterances
  (cropped to the shorter of each pair), and the mean over the AUs where r is defined (the
  tracker reads some AUs as constant, e.g. AU06 and AU09).
- **Mouth smoothness**: in a box around the photo's lips (the lip landmarks' box grown by half
  its size), the mean absolute frame-to-frame change of the gray level (``mouth_motion``, 0-255)
  and the mean absolute second difference (``mouth_jitter``: lower is smoother for the same
  motion).

Both systems go into one table, ``OUTPUT_DIR/scores.md`` (and ``scores.json``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_NAMES, DEFAULT_AU_FPS
from espnet_cause.emotion import NUM_EMOTIONS, emotion_to_aus
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.scoring import pcc
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.face.landmarker import FaceLandmarker, find_face
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.ganimation.renderer import ganimation_frames, load_ganimation
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.au_files import read_au_fps, read_au_scp
from espnet_cause.io.audio import load_speech
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.image import load_image
from espnet_cause.io.mp4 import write_mp4
from espnet_cause.jobs.batch import DEFAULT_MAX_FAIL_FRACTION, finish
from espnet_cause.render.emotion_panel import EmotionPanel
from espnet_cause.render.face_geometry import OUTER_LOWER_LIP, OUTER_UPPER_LIP
from espnet_cause.render.fidelity import read_back
from espnet_cause.render.panel import SidePanel
from espnet_cause.render.warp import WarpRenderer

logger = logging.getLogger(__name__)

#: The two systems, in table order.
SYSTEMS = ("au", "emotion")
LABELS = {"au": "AU-driven", "emotion": "emotion-driven"}
#: The renderers a comparison can use (module docstring).
COMPARE_RENDERERS = ("ganimation", "warp")
#: Longest side of the photo used for the comparison (keeps rendering and tracking cheap).
DEFAULT_MAX_SIDE = 320
#: The mouth box is the lips' box grown by this share of its size on each side.
MOUTH_MARGIN = 0.5


def fit_frames(x: np.ndarray, num_frames: int) -> np.ndarray:
    """Crop ``x`` (T, D) to ``num_frames`` rows, or pad it with its last row."""
    x = np.asarray(x, np.float32)
    if len(x) >= num_frames:
        return x[:num_frames]
    return np.concatenate([x, np.repeat(x[-1:], num_frames - len(x), axis=0)])


def mouth_box(face, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of the mouth region of ``face`` in an image of ``shape``."""

    lips = face.points[list(OUTER_UPPER_LIP + OUTER_LOWER_LIP)]
    (x0, y0), (x1, y1) = lips.min(0), lips.max(0)
    mx, my = MOUTH_MARGIN * (x1 - x0), MOUTH_MARGIN * (y1 - y0)
    h, w = shape[:2]
    return (max(0, int(y0 - my)), min(h, int(y1 + my) + 1),
            max(0, int(x0 - mx)), min(w, int(x1 + mx) + 1))  # fmt: skip


def mouth_smoothness(frames: np.ndarray, box: tuple[int, int, int, int]) -> dict[str, float]:
    """``mouth_motion`` (mean |first difference|) and ``mouth_jitter`` (mean |second
    difference|) of the gray level in ``box`` over (T, H, W, 3) uint8 frames (0-255 scale)."""
    y0, y1, x0, x1 = box
    gray = np.asarray(frames[:, y0:y1, x0:x1], np.float32).mean(-1)
    d1 = np.abs(np.diff(gray, axis=0)).mean() if len(gray) > 1 else 0.0
    d2 = np.abs(np.diff(gray, n=2, axis=0)).mean() if len(gray) > 2 else 0.0
    return {"mouth_motion": float(d1), "mouth_jitter": float(d2)}


def au_correlations(read: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(17,) Pearson r per AU over the frames where both are finite (NaN where undefined)."""

    ok = np.isfinite(read).all(1) & np.isfinite(ref).all(1)
    if ok.sum() < 3:
        return np.full(read.shape[1], np.nan)
    return pcc(ref[ok], read[ok])


class ConditionComparer:
    """The photo, both systems' renderers and the tracker, loaded once; :meth:`compare` per
    utterance.

    Args:
        image: The face photo.
        au_model: AU-conditioned ``generator.pth`` (``ganimation`` only).
        emotion_model: Emotion-conditioned ``generator.pth`` (``ganimation`` only).
        face_landmarker_path: MediaPipe model (None: the packaged one).
        fps: Video and condition frame rate.
        max_side: The photo is scaled down to this longest side.
        batch_size: Frames per generator call.
        renderer: ``ganimation`` or ``warp`` (module docstring).
    """

    def __init__(
        self,
        image: str | os.PathLike,
        au_model: str | os.PathLike | None = None,
        emotion_model: str | os.PathLike | None = None,
        face_landmarker_path: str | os.PathLike | None = None,
        fps: float = DEFAULT_AU_FPS,
        max_side: int = DEFAULT_MAX_SIDE,
        batch_size: int = 16,
        renderer: str = "ganimation",
    ) -> None:
        import cv2

        if renderer not in COMPARE_RENDERERS:
            raise CauseError(f"unknown renderer {renderer!r}", fix="use ganimation or warp")
        self.renderer = renderer
        if renderer == "ganimation":
            self._load_generators(au_model, emotion_model)
        photo = load_image(image)
        scale = min(1.0, max_side / max(photo.shape[:2]))
        if scale < 1.0:
            size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
            photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        self.image = photo[: photo.shape[0] // 2 * 2, : photo.shape[1] // 2 * 2]
        landmarker_path = resolve_face_landmarker(face_landmarker_path)
        with FaceLandmarker(landmarker_path) as landmarker:
            self.face = find_face(landmarker, self.image, 0, source=str(image))
        self.box = mouth_box(self.face, self.image.shape)
        if renderer == "warp":
            self.warp = WarpRenderer(landmarker_path, fps=fps)
            self.warp.prepare(self.image, source=str(image))
        self.extractor = MediaPipeAUExtractor(landmarker_path)
        self.fps, self.batch_size = fps, batch_size

    def _load_generators(self, au_model, emotion_model) -> None:
        if au_model is None or emotion_model is None:
            raise CauseError(
                "the ganimation comparison needs both generators",
                fix="give --generator and --emotion_generator, or use --renderer warp",
            )
        self.renderers = {"au": load_ganimation(str(au_model), "cpu"),
                          "emotion": load_ganimation(str(emotion_model), "cpu")}  # fmt: skip
        for name, size in (("au", len(AU_NAMES)), ("emotion", NUM_EMOTIONS)):
            if self.renderers[name].condition_size != size:
                path = au_model if name == "au" else emotion_model
                raise CauseError(
                    f"this generator takes {self.renderers[name].condition_size} conditions, "
                    f"the {name} system needs {size}",
                    path=path,
                    fix="train it with condition: au (17 AUs) or condition: emotion (8 classes)",
                )

    def render(self, system: str, conditions: np.ndarray) -> np.ndarray:
        """(T, D) conditions -> (T, H, W, 3) uint8 photos (AUs on 0-5, or posteriors)."""
        if self.renderer == "warp":
            aus = conditions if system == "au" else emotion_to_aus(conditions)
            return np.stack(list(self.warp.frames(aus)))
        frames = ganimation_frames(self.renderers[system], self.image, self.face, conditions,
                                   self.batch_size, normalized=system == "emotion")  # fmt: skip
        return np.stack(list(frames))

    def compare(
        self,
        output: str | os.PathLike,
        speech: np.ndarray,
        sample_rate: int,
        aus: np.ndarray,
        posteriors: np.ndarray,
    ) -> dict:
        """Render both systems, write the side-by-side mp4, re-track both videos.

        Args:
            output: The mp4 to write.
            speech: (N,) the utterance's speech.
            sample_rate: Its rate.
            aus: (T, 17) predicted AUs at ``fps``.
            posteriors: (T, 8) predicted emotion posteriors at ``fps``.

        Returns:
            ``{"frames", "read": {system: (T, 17) re-extracted AUs}, "smoothness": {system:
            {mouth_motion, mouth_jitter}}}``.
        """

        n = max(1, round(len(speech) / sample_rate * self.fps))
        conditions = {"au": fit_frames(aus, n), "emotion": fit_frames(posteriors, n)}
        frames = {s: self.render(s, conditions[s]) for s in SYSTEMS}
        height = self.image.shape[0]
        au_panel = SidePanel(conditions["au"], height, audio=speech, sample_rate=sample_rate,
                             fps=self.fps)  # fmt: skip
        emotion_panel = EmotionPanel(conditions["emotion"], height, title="emotion posteriors")

        def composed():
            for i in range(n):
                faces = [_caption(frames[s][i], LABELS[s]) for s in SYSTEMS]
                yield np.concatenate([au_panel.draw(i), *faces, emotion_panel.draw(i)], axis=1)

        write_mp4(output, composed(), self.fps, audio=speech, sample_rate=sample_rate)
        read = {}
        for s in SYSTEMS:
            try:
                read[s] = read_back(frames[s], self.extractor, self.fps)
            except CauseError as e:  # no face in any rendered frame: nothing to correlate
                logger.warning("%s: %s video: %s", output, LABELS[s], e)
                read[s] = np.full((n, len(AU_NAMES)), np.nan, np.float32)
        return {
            "frames": n,
            "read": read,
            "tracked": {s: float(np.isfinite(read[s]).all(1).mean()) for s in SYSTEMS},
            "smoothness": {s: mouth_smoothness(frames[s], self.box) for s in SYSTEMS},
        }

    def close(self) -> None:
        self.extractor.close()
        if self.renderer == "warp":
            self.warp.close()


def _caption(frame: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = frame.copy()
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (20, 20, 20), 1, cv2.LINE_AA)
    return out


def summarize(results: dict[str, dict], refs: dict[str, np.ndarray]) -> dict:
    """Per system: r per AU and its mean against ``refs`` (utterances that have one), and the
    frame-weighted mouth smoothness over all utterances."""
    out: dict = {"utterances": sorted(results), "with_reference": sorted(set(results) & set(refs))}
    for s in SYSTEMS:
        pairs = []
        for key in out["with_reference"]:
            read, ref = results[key]["read"][s], np.asarray(refs[key], np.float32)
            m = min(len(read), len(ref))
            pairs.append((read[:m], ref[:m]))
        r = (au_correlations(np.concatenate([p[0] for p in pairs]),
                             np.concatenate([p[1] for p in pairs]))
             if pairs else np.full(len(AU_NAMES), np.nan))  # fmt: skip
        weights = np.asarray([results[k]["frames"] for k in out["utterances"]], np.float64)
        smooth = {
            metric: float(np.average([results[k]["smoothness"][s][metric]
                                      for k in out["utterances"]], weights=weights))
            for metric in ("mouth_motion", "mouth_jitter")
        }  # fmt: skip
        finite = r[np.isfinite(r)]
        tracked = np.average([results[k]["tracked"][s] for k in out["utterances"]],
                             weights=weights)  # fmt: skip
        out[s] = {
            "tracked": float(tracked),
            "pcc": {a: (None if np.isnan(v) else float(v)) for a, v in zip(AU_NAMES, r)},
            "mean_pcc": float(finite.mean()) if len(finite) else None,
            "num_aus": int(len(finite)),
            **smooth,
        }
    return out


def markdown_table(summary: dict) -> str:
    """The one table: rows are metrics, columns the two systems."""
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    head = " | ".join(LABELS[s] for s in SYSTEMS)
    lines = [
        f"# AU-driven vs emotion-driven faces ({summary.get('renderer', 'ganimation')})",
        "",
        f"{len(summary['utterances'])} utterances rendered; AUs re-extracted from each rendered "
        f"video and correlated with the real video's AUs on {len(summary['with_reference'])} of "
        "them (Pearson r over their frames; AUs the tracker reads as constant are left out of "
        "the mean). Mouth motion and jitter: mean |1st| and |2nd| temporal difference of the "
        "mouth region's gray level (0-255; lower jitter is smoother).",
        "",
        f"| metric | {head} |",
        "| --- | --- | --- |",
    ]
    lines.append("| mean r vs real AUs | " + " | ".join(
        f"{fmt(summary[s]['mean_pcc'])} ({summary[s]['num_aus']} AUs)" for s in SYSTEMS) + " |")  # fmt: skip
    lines.append("| frames with a tracked face | " + " | ".join(
        f"{summary[s]['tracked']:.0%}" for s in SYSTEMS) + " |")  # fmt: skip
    for metric in ("mouth_motion", "mouth_jitter"):
        name = metric.replace("_", " ")
        lines.append(f"| {name} | " + " | ".join(fmt(summary[s][metric]) for s in SYSTEMS) + " |")
    for au in AU_NAMES:
        lines.append(
            f"| r {au} | " + " | ".join(fmt(summary[s]["pcc"][au]) for s in SYSTEMS) + " |"
        )
    return "\n".join(lines) + "\n"


def compare_set(
    wav_scp: str | os.PathLike,
    au_scp: str | os.PathLike,
    emotion_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    image: str | os.PathLike,
    au_model: str | os.PathLike | None = None,
    emotion_model: str | os.PathLike | None = None,
    renderer: str = "ganimation",
    ref_au_scp: str | os.PathLike | None = None,
    face_landmarker_path: str | os.PathLike | None = None,
    fps: float = DEFAULT_AU_FPS,
    max_fail_fraction: float = DEFAULT_MAX_FAIL_FRACTION,
) -> dict:
    """Compare the systems on every utterance of ``wav_scp`` that has both predictions.

    Writes ``OUTPUT_DIR/<utt>_compare.mp4``, ``scores.md``, ``scores.json`` and
    ``compare_report.tsv`` (utterances skipped, with why). Returns the summary.

    ``max_fail_fraction`` is the batch failure rule (:func:`espnet_cause.jobs.batch.finish`).

    Raises:
        CauseError: when no utterance, or too few, could be compared.
    """

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    wavs = read_kaldi_map(wav_scp, check_sorted=False)
    aus, posteriors = read_au_scp(au_scp), _read_matrices(emotion_scp)
    for path in (au_scp, emotion_scp):
        rate = read_au_fps(path, default=fps)
        if abs(rate - fps) > 1e-6:
            raise CauseError(f"frames at {rate} fps, the videos at {fps}", path=path)
    has_refs = ref_au_scp is not None and Path(ref_au_scp).stat().st_size > 0
    refs = read_au_scp(ref_au_scp) if has_refs else {}  # an empty list: no real video
    comparer = ConditionComparer(
        image, au_model, emotion_model, face_landmarker_path, fps, renderer=renderer
    )
    results, records = {}, {}
    try:
        for key, value in wavs.items():
            missing = [n for n, d in (("AUs", aus), ("emotion posteriors", posteriors))
                       if key not in d]  # fmt: skip
            if missing:
                reason = f"no {' and no '.join(missing)} predicted"
                records[key] = {"key": key, "status": "error", "reason": reason}
                continue
            try:
                speech, sr = load_speech(value, name=f"{key} ({value})")
                results[key] = comparer.compare(output_dir / f"{key}_compare.mp4", speech, sr,
                                                aus[key], posteriors[key])  # fmt: skip
            except CauseError as e:
                records[key] = {"key": key, "status": "error", "reason": str(e)}
                continue
            records[key] = {"key": key, "status": "ok", "frames": results[key]["frames"]}
    finally:
        comparer.close()
    finish(
        output_dir / "compare_report.tsv",
        wavs,
        records,
        ("frames",),
        what="utterance",
        max_fail_fraction=max_fail_fraction,
    )
    summary = {"renderer": renderer, **summarize(results, refs)}
    with atomic_write(output_dir / "scores.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    with atomic_write(output_dir / "scores.md") as tmp:
        tmp.write_text(markdown_table(summary), encoding="utf-8")
    return summary


def _read_matrices(scp: str | os.PathLike) -> dict[str, np.ndarray]:
    """A Kaldi matrix scp (e.g. ``posteriors.scp``) -> key -> (T, D) float32."""
    import kaldiio

    if not Path(scp).is_file():
        raise CauseError("scp file not found", path=scp, fix="run the step that writes it")
    with kaldiio.ReadHelper(f"scp:{scp}") as reader:
        return {key: np.asarray(mat, np.float32) for key, mat in reader}
