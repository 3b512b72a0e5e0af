"""A still photo animated by AU sequences, written as mp4 with the speech: one or a set.

:class:`PhotoAnimator` reads the photo, its face and that face's own AUs once
(:func:`~espnet_cause.render.photo.read_face_photo`) and loads the renderer once (GANimation or the
training-free warp), then turns any number of AU sequences into videos; a video has one frame per
AU frame of the speech (:func:`~espnet_cause.io.timegrid.num_frames_for_samples`, as ``infer``).
:func:`animate_set` renders every utterance of a ``wav.scp`` with AUs predicted from its speech,
through the batch runner (:mod:`espnet_cause.jobs.batch`: resumable, ``render_report.tsv``).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS
from espnet_cause.avatar.head import speech_warp_pose
from espnet_cause.errors import CauseError
from espnet_cause.face.landmarker import close_all
from espnet_cause.ganimation.renderer import ganimation_frames, load_ganimation
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.au_files import align_aus
from espnet_cause.io.audio import load_speech
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.mp4 import write_mp4
from espnet_cause.io.timegrid import num_frames_for_samples
from espnet_cause.jobs.batch import DEFAULT_MAX_FAIL_FRACTION, finish, output_lock, run_batch
from espnet_cause.render.options import FPS_RANGE, check_range
from espnet_cause.render.panel import SidePanel
from espnet_cause.render.photo import read_face_photo
from espnet_cause.render.warp import WarpRenderer

logger = logging.getLogger(__name__)

#: The renderers.
RENDERERS = ("warp", "ganimation")
#: The report of a set, in its output directory, and its own columns.
REPORT_FILE = "render_report.tsv"
REPORT_COLUMNS = ("frames", "seconds")


class PhotoAnimator:
    """One photo, many AU sequences: the face is found and the renderer loaded once.

    Args:
        image: The face photo (JPEG/PNG; gray and alpha are converted).
        renderer: ``warp`` (training-free landmark warp) or ``ganimation``.
        ganimation_model: The trained ``generator.pth`` (ganimation).
        face_index: Face to animate (0 = the largest, then by size; equal sizes left to right).
        face_landmarker_path: MediaPipe model (None: the packaged one).
        gain: Warp: AU intensity scale.
        absolute: Warp: AUs are targets from the photo's own AUs (False: offsets from the photo).
        head_motion: Warp: head motion scale (0 = still): with the speech, the head follows it
            (nods, drifts: :func:`espnet_cause.avatar.head.speech_warp_pose`); without, the idle
            random walk of :class:`WarpRenderer`.
        blink_rate: Warp: blinks per minute added where the AUs have none (0 = off).
        seed: Warp: seed of the idle motion.
        batch_size: GANimation: AU frames per generator call.
        device: GANimation torch device.
        fps: Video frame rate (the AU sequences must be at this rate).
        side_by_side: Add a panel with AU bars and the waveform.
    """

    def __init__(
        self,
        image: str | os.PathLike,
        *,
        renderer: str = "warp",
        ganimation_model: str | os.PathLike | None = None,
        face_index: int = 0,
        face_landmarker_path: str | os.PathLike | None = None,
        gain: float = 1.0,
        absolute: bool = True,
        head_motion: float = 0.0,
        blink_rate: float = 0.0,
        seed: int = 0,
        batch_size: int = 16,
        device: str = "cpu",
        fps: float = DEFAULT_AU_FPS,
        side_by_side: bool = False,
    ) -> None:
        if renderer not in RENDERERS:
            raise CauseError(f"unknown renderer {renderer!r}", fix=f"use one of {RENDERERS}")
        self.fps = check_range("--fps", fps, FPS_RANGE, "use --fps 25")
        if int(batch_size) < 1:
            raise CauseError(f"--batch_size must be at least 1, got {batch_size}")
        self.renderer, self.side_by_side = renderer, side_by_side
        self.batch_size = int(batch_size)
        self.warp = None
        if renderer == "warp":  # its settings are checked before the photo is read
            self.warp = WarpRenderer(
                face_landmarker_path,
                face_index=face_index,
                gain=gain,
                absolute=absolute,
                head_motion=head_motion,
                blink_rate=blink_rate,
                seed=seed,
                fps=fps,
            )
        self.ganimation = None
        if renderer == "ganimation":  # before the face search: a bad checkpoint fails fast
            self.ganimation = load_ganimation(ganimation_model, device)
        #: The photo, its face and the face's own AUs, read once.
        self.photo = read_face_photo(
            image, face_index, face_landmarker_path=face_landmarker_path, source=str(image)
        )
        self.image, self.face = self.photo.image, self.photo.face
        if self.warp is not None:
            self.warp.prepare_photo(self.photo)

    def frames(
        self, aus: np.ndarray, speech: np.ndarray | None = None, sample_rate: int | None = None
    ) -> Iterator[np.ndarray]:
        """(T, 17) AUs at :attr:`fps` -> T frames, (H, W, 3) uint8 RGB (wider with the panel)."""
        if self.ganimation is not None:
            frames = ganimation_frames(self.ganimation, self.image, self.face, aus, self.batch_size)
        else:
            pose = None
            if speech is not None and self.warp.head_motion != 0:
                pose = speech_warp_pose(
                    speech, sample_rate, len(aus), self.fps, self.warp.head_motion, self.warp.seed
                )
            frames = self.warp.frames(aus, pose)
        if not self.side_by_side:
            return frames
        height = self.image.shape[0] + self.image.shape[0] % 2
        panel = SidePanel(aus, height, audio=speech, sample_rate=sample_rate, fps=self.fps)
        return (
            panel.compose(np.pad(f, ((0, height - f.shape[0]), (0, 0), (0, 0)), mode="edge"), i)
            for i, f in enumerate(frames)
        )

    def write(
        self,
        output: str | os.PathLike,
        aus: np.ndarray,
        speech: np.ndarray | None = None,
        sample_rate: int | None = None,
        *,
        source: str = "AU track",
        progress: bool = False,
    ) -> int:
        """Write the video of ``aus`` (cropped or padded to the speech) with the speech.

        With speech the video has ``ceil(duration * fps)`` frames, as many as ``infer`` gives
        for it (frame k shows time k / fps; the last frame is on screen when the audio ends).

        Returns:
            The number of frames written.
        """
        from tqdm import tqdm

        if speech is not None:
            num_frames = num_frames_for_samples(len(speech), sample_rate, self.fps)
            aus = align_aus(aus, num_frames, source=source)
        logger.info("%d frames at %g fps with the %s renderer", len(aus), self.fps, self.renderer)
        frames = tqdm(
            self.frames(aus, speech, sample_rate),
            total=len(aus),
            desc="render",
            unit="frame",
            disable=not progress,
        )
        write_mp4(output, frames, self.fps, audio=speech, sample_rate=sample_rate)
        return len(aus)

    def close(self) -> None:
        if self.warp is not None:
            self.warp.close()


def speech_aus(speech2au, speech: np.ndarray, sample_rate: int, fps: float) -> np.ndarray:
    """AUs predicted from speech by a loaded ``Speech2AU`` on the ``fps`` grid, as
    ``infer --output_fps fps`` gives them: (ceil(duration * fps), 17)."""
    aus = speech2au.to_aus(np.asarray(speech2au(speech, sample_rate), dtype=np.float32))
    if aus.ndim != 2 or aus.shape[1] != NUM_AUS:
        raise CauseError(f"the CAUSE model returned shape {aus.shape}, expected (T, {NUM_AUS})")
    return speech2au.to_grid(aus, len(speech), sample_rate, output_fps=fps)[0]


def setup_animation(cause_model: str, **animator_options) -> dict:
    """Per-worker environment of :func:`animate_item`: the animator and the CAUSE model."""
    return {
        "animator": PhotoAnimator(**animator_options),
        "speech2au": Speech2AU(model=cause_model),
    }


def animate_item(key: str, payload: dict, *, animator: PhotoAnimator, speech2au) -> dict:
    """One utterance: its speech drives the photo -> ``payload['output']`` (runs on workers)."""
    speech, rate = load_speech(payload["wav"], name=f"{key} ({payload['wav']})")
    aus = speech_aus(speech2au, speech, rate, animator.fps)
    frames = animator.write(payload["output"], aus, speech, rate, source=f"AUs of {key}")
    return {"frames": frames, "seconds": round(len(speech) / rate, 3)}


def animate_set(
    wav_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    cause_model: str,
    parallel_config=None,
    max_fail_fraction: float = DEFAULT_MAX_FAIL_FRACTION,
    **animator_options,
) -> dict[str, dict]:
    """Every utterance of ``wav_scp`` -> ``output_dir/<utt>.mp4`` and ``render_report.tsv``.

    Args:
        wav_scp: ``<utt> <wav.scp value>`` lines.
        output_dir: Where the videos and the report go.
        cause_model: The CAUSE ``model.zip`` that predicts the AUs from each speech.
        parallel_config: From :func:`espnet_cause.jobs.parallel.load_parallel_config`.
        max_fail_fraction: The batch failure rule (:func:`espnet_cause.jobs.batch.finish`).
        **animator_options: :class:`PhotoAnimator` arguments (``image`` first of all).

    Raises:
        CauseError: when no utterance could be rendered (the report says why).
    """

    output_dir = Path(output_dir)
    wavs = read_kaldi_map(wav_scp, check_sorted=False)
    items = [(k, {"wav": v, "output": str(output_dir / f"{k}.mp4")}) for k, v in wavs.items()]
    settings = {"cause_model": str(cause_model), **{k: str(v) for k, v in animator_options.items()}}
    with output_lock(output_dir):  # one writer for the whole job, report included
        records = run_batch(
            items,
            animate_item,
            output_dir=output_dir,
            settings=settings,
            item_files=lambda key: [output_dir / f"{key}.mp4"],
            setup_fn=functools.partial(setup_animation, cause_model, **animator_options),
            teardown_fn=close_all,
            parallel_config=parallel_config,
            desc="render",
            keys_from=wav_scp,
        )
        finish(
            output_dir / REPORT_FILE,
            wavs,
            records,
            REPORT_COLUMNS,
            what="utterance",
            max_fail_fraction=max_fail_fraction,
        )
    return records
