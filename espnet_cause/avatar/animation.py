"""Speech -> a whole avatar take: 52 ARKit blendshapes, head and eye rotations, visemes.

One pipeline for every avatar output (``infer --output_format livelink|arkit_json|visemes``, the
``livelink`` UDP sender):

1. the model's frames (:class:`~espnet_cause.inference.Speech2AU`) on the take's grid
   (``fps``, 60 by default: Live Link Face's rate);
2. the speech's loudness, F0, frication and F2 rounding on that grid
   (:mod:`espnet_cause.avatar.acoustics`);
3. visemes (:mod:`espnet_cause.avatar.visemes`);
4. head pose and gaze (:mod:`espnet_cause.avatar.head`; ``head_motion`` scales both, 0 = a
   still head looking ahead);
5. blinks added at ``blink_rate`` a minute (:func:`espnet_cause.avatar.idle.add_blinks`), then
   the whole face (:mod:`espnet_cause.avatar.face`).

Everything random is seeded by ``seed``: the same speech and seed give the same take.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES, arkit_frames, blendshapes_to_aus
from espnet_cause.avatar.acoustics import speech_features
from espnet_cause.avatar.face import BLINK_RATE, add_gaze, whole_face
from espnet_cause.avatar.head import eye_gaze, head_pose, livelink_rotations
from espnet_cause.avatar.idle import add_blinks
from espnet_cause.avatar.visemes import VISEME_NAMES, rhubarb_cues, viseme_weights
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.livelink import write_arkit_json, write_livelink_csv

#: Live Link Face's frame rate, the default of avatar takes.
DEFAULT_FPS = 60.0
#: Decimals written per value in JSON.
DECIMALS = 5


@dataclasses.dataclass(frozen=True)
class Animation:
    """One avatar take on a regular grid (frame ``k`` at ``k / fps``).

    Attributes:
        fps: Frame rate.
        arkit: (T, 52) blendshape weights in 0..1, :data:`~espnet_cause.arkit.ARKIT_NAMES` order.
        rotations: (T, 9) radians, :data:`~espnet_cause.arkit.LIVELINK_ROTATION_NAMES` order.
        visemes: (T, 15) viseme weights summing to 1, :data:`~espnet_cause.avatar.visemes.VISEME_NAMES`.
        aus: (T, 17) the AUs (with added blinks) on 0-5.
    """

    fps: float
    arkit: np.ndarray
    rotations: np.ndarray
    visemes: np.ndarray
    aus: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.arkit)


def animate(
    values: np.ndarray,
    samples: np.ndarray,
    sr: int,
    *,
    fps: float,
    target: str = "au",
    head_motion: float = 1.0,
    blink_rate: float = BLINK_RATE,
    seed: int = 0,
) -> Animation:
    """Make a take from a model's frames and the speech they came from.

    Args:
        values: (T, 17) AUs (``target`` ``au``) or (T, 51) blendshapes (``arkit``) at ``fps``.
        samples: (N,) mono speech.
        sr: Its sample rate.
        fps: Frame rate of ``values``.
        target: The model's target space.
        head_motion: Scale of head motion and gaze shifts (0: still head, eyes ahead).
        blink_rate: Blinks per minute added where the stream has none (0: only the stream's).
        seed: Seed of drifts, gaze and blinks.

    Returns:
        The :class:`Animation`.
    """
    values = np.nan_to_num(np.asarray(values, np.float32))
    features = speech_features(samples, sr, len(values), fps)
    aus = blendshapes_to_aus(values) if target == "arkit" else values
    if blink_rate > 0:
        aus = add_blinks(aus, fps, blink_rate, seed)
    visemes = viseme_weights(aus, features)
    head = head_pose(features.loudness, features.log_f0, fps, head_motion, seed)
    gaze = eye_gaze(head, fps, head_motion, seed)
    if target == "arkit":
        arkit = add_gaze(arkit_frames(values), gaze)
    else:
        arkit = whole_face(aus, visemes, gaze, fps, seed)
    return Animation(
        fps=float(fps),
        arkit=arkit,
        rotations=livelink_rotations(head, gaze),
        visemes=visemes,
        aus=aus,
    )


def write_take(
    path: str | os.PathLike,
    values: np.ndarray,
    samples: np.ndarray,
    sr: int,
    *,
    fps: float,
    target: str,
    output_format: str,
    **motion,
) -> Path:
    """Make a take from a model's frames and the speech and write it (the ``infer`` job's avatar
    formats, :data:`espnet_cause.inference.infer_set.TakeWriter`).

    Args:
        path: The file.
        values: (T, 17) AUs or (T, 51) blendshapes at ``fps``.
        samples: (N,) mono speech.
        sr: Its sample rate.
        fps: Frame rate of ``values`` and the take.
        target: ``au`` or ``arkit`` (what ``values`` are).
        output_format: ``livelink``, ``arkit_json`` or ``visemes``.
        **motion: :func:`animate`'s ``head_motion``, ``blink_rate``, ``seed``.
    """
    take = animate(values, samples, sr, fps=fps, target=target, **motion)
    return write_animation(path, take, output_format)


def animate_speech(
    speech2au,
    samples: np.ndarray,
    sr: int,
    *,
    fps: float = DEFAULT_FPS,
    name: str = "input",
    **kwargs,
) -> Animation:
    """Run the model on speech and make the take (:func:`animate`'s ``kwargs``).

    Args:
        speech2au: A :class:`~espnet_cause.inference.Speech2AU`.
        samples: (N,) or (N, C) speech.
        sr: Its sample rate.
        fps: Frame rate of the take.
        name: How errors name the input.
    """
    values = speech2au(samples, sr, name=name)
    values, fps = speech2au.to_grid(values, len(samples), sr, output_fps=fps)
    mono = speech2au.prepare(samples, sr, name)
    return animate(values, mono, speech2au.fs, fps=fps, target=speech2au.target, **kwargs)


def visemes_document(animation: Animation) -> dict:
    """The ``visemes`` output: per-frame Meta/Oculus weights and Rhubarb mouth cues."""
    weights = np.round(animation.visemes.astype(np.float64), DECIMALS)
    return {
        "fps": animation.fps,
        "visemes": list(VISEME_NAMES),
        "frames": weights.tolist(),
        "mouth_cues": [
            {"start": start, "shape": shape}
            for start, shape in rhubarb_cues(animation.visemes, animation.fps)
        ],
    }


def write_visemes(path: str | os.PathLike, animation: Animation) -> Path:
    """Write ``{"fps", "visemes", "frames", "mouth_cues"}`` JSON atomically."""
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(visemes_document(animation), separators=(",", ":")) + "\n")
    return path


def write_animation(path: str | os.PathLike, animation: Animation, output_format: str) -> Path:
    """Write a take as ``livelink`` (CSV), ``arkit_json`` or ``visemes`` (JSON)."""
    if output_format == "livelink":
        return write_livelink_csv(
            path, animation.arkit, ARKIT_NAMES, animation.fps, rotations=animation.rotations
        )
    if output_format == "arkit_json":
        return write_arkit_json(
            path, animation.arkit, ARKIT_NAMES, animation.fps, rotations=animation.rotations
        )
    if output_format == "visemes":
        return write_visemes(path, animation)
    raise ValueError(f"not an animation format: {output_format!r}")
