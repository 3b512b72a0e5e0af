"""Head and eye motion from speech: nods on stressed syllables, slow seeded drifts, gaze shifts.

Speakers' heads move with their speech: the head dips (a nod) on prominent, stressed syllables,
drifts slowly in yaw, pitch and roll, and moves more while talking than while listening; the
eyes hold a point for a second or so, then jump to another (saccades) and partly counter-rotate
against the head (the vestibulo-ocular reflex). This module makes such motion from the speech's
loudness and pitch, seeded, so a take comes out the same every time:

- **Drift** (:func:`smoothed_walk`, also the warp renderer's idle motion,
  :func:`espnet_cause.avatar.idle.head_motion`): white noise low-passed twice (time constant
  :data:`DRIFT_SMOOTH_S`), standard deviations :data:`DRIFT_DEG` (yaw, pitch, roll), scaled by
  ``0.5 + 0.5 * activity`` (activity: the loudness envelope smoothed over 1 s, 0 silent .. 1).
- **Nods**: syllable nuclei are the peaks of the loudness envelope (``l`` in 0..1, praat
  intensity relative to the take's peak, :func:`espnet_cause.io.loudness.loudness_track`)
  at least :data:`MIN_SYLLABLE_S` apart and :data:`MIN_PROMINENCE` above their surroundings;
  a nucleus's emphasis is its loudness times ``1 + max(z, 0)`` with ``z`` its F0 excursion
  above the take's median in standard deviations. Nuclei with emphasis at least
  :data:`STRESS_SHARE` of the take's largest are *stressed* and get a nod: the head pitches down
  by ``NOD_DEG * emphasis / max emphasis`` degrees in a raised-cosine of :data:`NOD_S`, peaking
  :data:`NOD_LEAD_S` before the syllable's loudness peak (head movement leads the stressed
  syllable slightly).
- **Gaze**: fixations lasting ``0.3 + exponential(GAZE_HOLD_S)`` seconds, the first straight
  ahead, each next one across the centre from the last (yaw and pitch each change sign; their
  sizes are half-normal with scales :data:`GAZE_DEG`), each eye rotation minus
  :data:`VOR_GAIN` times the head's rotation.

Angles are radians. Conventions (the Live Link rotations and the ARKit JSON's ``rotations``):
yaw positive = the head turns to the subject's left, pitch positive = the chin goes down (a nod),
roll positive = the head tilts to the subject's left; eye yaw/pitch the same way.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from espnet_cause.io.loudness import log_f0_track, loudness_track
from espnet_cause.io.timegrid import frame_times_fps

#: Drift: standard deviations (degrees) of yaw, pitch and roll at scale 1, and its time scale.
DRIFT_DEG = (2.0, 1.2, 1.0)
DRIFT_SMOOTH_S = 0.6
#: Nods: peak pitch (degrees) of the most emphatic syllable, duration, lead on the syllable.
NOD_DEG = 4.0
NOD_S = 0.4
NOD_LEAD_S = 0.05
#: Syllable nuclei: least distance and prominence (loudness units, 0..1) of envelope peaks.
MIN_SYLLABLE_S = 0.15
MIN_PROMINENCE = 0.1
#: How far either side a nucleus's prominence is measured, seconds.
PROMINENCE_S = 0.3
#: Nuclei with emphasis >= this share of the take's largest are stressed (get a nod).
STRESS_SHARE = 0.6
#: Gaze: fixation hold (mean of the exponential part, s), target spread (yaw, pitch degrees),
#: and the share of the head's rotation the eyes compensate.
GAZE_HOLD_S = 0.7
GAZE_DEG = (4.0, 2.5)
VOR_GAIN = 0.5
#: The warp renderer shifts the face this many eye distances per radian of yaw or pitch.
WARP_SHIFT_PER_RAD = 0.5
#: ARKit's eyeLook* blendshapes reach 1 at this eye rotation (degrees).
EYE_LOOK_FULL_DEG = 30.0


def smoothed_walk(
    num_frames: int,
    fps: float,
    std: np.ndarray | tuple[float, ...],
    smooth_s: float = DRIFT_SMOOTH_S,
    seed: int = 0,
) -> np.ndarray:
    """A seeded smoothed random walk, one column per standard deviation, starting at 0.

    White noise low-passed twice by a first-order filter of time constant ``smooth_s``, each
    column scaled so its standard deviation over long stretches is ``std``.

    Args:
        num_frames: T.
        fps: Frame rate.
        std: (K,) standard deviations of the columns.
        smooth_s: Time constant of the smoothing, seconds.
        seed: Random seed.

    Returns:
        (T, K) float32, row 0 all zeros.
    """
    std = np.asarray(std, dtype=np.float64)
    if num_frames <= 0 or not np.any(std):
        return np.zeros((max(num_frames, 0), len(std)), np.float32)
    rng = np.random.default_rng(seed)
    warm = int(round(4 * smooth_s * fps))  # burn-in, so the start looks like the rest
    noise = rng.standard_normal((num_frames + warm, len(std)))
    a = float(np.exp(-1.0 / (smooth_s * fps)))
    # twice y[i] = a y[i-1] + (1-a) x[i], from rest (a live stream makes 10 minutes of it at once)
    walk = lfilter([1 - a], [1.0, -a], lfilter([1 - a], [1.0, -a], noise, axis=0), axis=0)
    walk = walk[warm:]
    walk = walk - walk[0]  # start at rest
    # the filtered noise's own standard deviation (impulse response (1-a)^2 (n+1) a^n)
    lags = np.arange(int(40 * smooth_s * fps) + 10)
    own = (1 - a) ** 2 * float(np.sqrt((((lags + 1) * a**lags) ** 2).sum()))
    return (walk / own * std).astype(np.float32)


def syllable_nuclei(loudness: np.ndarray, fps: float) -> np.ndarray:
    """Frame indices of syllable nuclei: peaks of the loudness envelope (module docstring).

    A nucleus is the largest value within +-:data:`MIN_SYLLABLE_S` (the earliest of equal
    ones) that stands :data:`MIN_PROMINENCE` above the lower of the minima on either side
    within +-:data:`PROMINENCE_S`.

    Args:
        loudness: (T,) loudness in 0..1.
        fps: Its frame rate.

    Returns:
        (S,) int frame indices, increasing.
    """
    x = np.nan_to_num(np.asarray(loudness, np.float64))
    half = max(1, int(round(MIN_SYLLABLE_S * fps)))
    reach = max(1, int(round(PROMINENCE_S * fps)))
    peaks = []
    for i in range(len(x)):
        around = x[max(0, i - half) : i + half + 1]
        if x[i] < around.max() or (i > 0 and x[i - 1] == x[i]):
            continue
        left, right = x[max(0, i - reach) : i + 1].min(), x[i : i + reach + 1].min()
        if x[i] - max(left, right) >= MIN_PROMINENCE:
            peaks.append(i)
    return np.asarray(peaks, dtype=int)


def _emphasis(loudness: np.ndarray, log_f0: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    voiced = log_f0[np.isfinite(log_f0)]
    if len(voiced) >= 5:
        med, sd = float(np.median(voiced)), max(float(voiced.std()), 1e-3)
        z = np.nan_to_num((log_f0[peaks] - med) / sd, nan=0.0)
    else:
        z = np.zeros(len(peaks))
    return loudness[peaks] * (1.0 + np.maximum(z, 0.0))


def nods(loudness: np.ndarray, log_f0: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Pitch-down nods on stressed syllables.

    Args:
        loudness: (T,) loudness in 0..1 at ``fps``.
        log_f0: (T,) natural-log F0, NaN where unvoiced.
        fps: Frame rate.

    Returns:
        (T,) pitch in radians (>= 0: chin down) and the (N,) frame indices of the stressed
        syllables' loudness peaks.
    """
    pitch = np.zeros(len(loudness), np.float64)
    peaks = syllable_nuclei(loudness, fps)
    if len(peaks) == 0:
        return pitch.astype(np.float32), peaks
    emphasis = _emphasis(loudness, log_f0, peaks)
    stressed = emphasis >= STRESS_SHARE * emphasis.max()
    half = NOD_S / 2
    t = np.arange(len(loudness)) / fps
    for peak, e in zip(peaks[stressed], emphasis[stressed], strict=True):
        centre = peak / fps - NOD_LEAD_S
        inside = np.abs(t - centre) < half
        bump = 0.5 * (1 + np.cos(np.pi * (t[inside] - centre) / half))
        amp = np.deg2rad(NOD_DEG) * e / emphasis.max()
        pitch[inside] = np.maximum(pitch[inside], amp * bump)
    return pitch.astype(np.float32), peaks[stressed]


def head_pose(
    loudness: np.ndarray, log_f0: np.ndarray, fps: float, scale: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Head yaw, pitch and roll following the speech (module docstring).

    Args:
        loudness: (T,) loudness in 0..1 at ``fps``.
        log_f0: (T,) natural-log F0, NaN where unvoiced.
        fps: Frame rate.
        scale: Amplitude (0: a still head, all zeros).
        seed: Seed of the drifts.

    Returns:
        (T, 3) float32 radians: yaw, pitch, roll.
    """
    num = len(loudness)
    if num == 0 or scale == 0:
        return np.zeros((num, 3), np.float32)
    from scipy.ndimage import gaussian_filter1d

    activity = np.clip(gaussian_filter1d(np.nan_to_num(loudness), fps * 0.5), 0.0, 1.0)
    drift = smoothed_walk(num, fps, np.deg2rad(DRIFT_DEG), DRIFT_SMOOTH_S, seed)
    pose = drift * (0.5 + 0.5 * activity)[:, None]
    pose[:, 1] += nods(loudness, log_f0, fps)[0]
    return (pose * scale).astype(np.float32)


def warp_pose(head: np.ndarray) -> np.ndarray:
    """Head yaw/pitch/roll as the warp renderer's in-plane pose: roll, x and y shift.

    A photo cannot turn, so yaw and pitch become shifts of the face: :data:`WARP_SHIFT_PER_RAD`
    eye distances per radian (a 4 degree nod moves the face 0.035 eye distances down).

    Args:
        head: (T, 3) yaw, pitch, roll (radians).

    Returns:
        (T, 3) float32: roll (radians; positive here tilts the image counter-clockwise, so the
        subject's left-tilt is negated), x shift and y shift (eye distances; +y down).
    """
    head = np.asarray(head, np.float32)
    return np.stack(
        [-head[:, 2], -WARP_SHIFT_PER_RAD * head[:, 0], WARP_SHIFT_PER_RAD * head[:, 1]], axis=1
    ).astype(np.float32)


def speech_warp_pose(
    samples: np.ndarray, sr: int, num_frames: int, fps: float, scale: float = 1.0, seed: int = 0
) -> np.ndarray:
    """The warp renderer's pose (:func:`warp_pose`) of the head motion that follows ``samples``.

    Args:
        samples: (N,) mono speech.
        sr: Its sample rate.
        num_frames: Video frames.
        fps: Video frame rate.
        scale: Head motion scale.
        seed: Seed.

    Returns:
        (num_frames, 3) float32.
    """
    samples = np.asarray(samples, np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    times = frame_times_fps(num_frames, fps)
    loud = loudness_track(samples, sr, times).astype(np.float32)
    return warp_pose(head_pose(loud, log_f0_track(samples, sr, times), fps, scale, seed))


def eye_gaze(head: np.ndarray, fps: float, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """Eye yaw and pitch: fixations and saccades, partly compensating the head's rotation.

    Args:
        head: (T, 3) head yaw, pitch, roll (radians).
        fps: Frame rate.
        scale: Amplitude (0: eyes straight ahead, zeros).
        seed: Seed of the fixations.

    Returns:
        (T, 2) float32 radians: yaw, pitch (both eyes look the same way).
    """
    num = len(head)
    gaze = np.zeros((num, 2), np.float64)
    if num == 0 or scale == 0:
        return gaze.astype(np.float32)
    rng = np.random.default_rng(seed + 7919)  # not the drift's stream
    start = 0
    target = np.zeros(2)  # the first fixation is straight ahead
    while start < num:
        hold = 0.3 + rng.exponential(GAZE_HOLD_S)
        end = min(num, start + max(1, int(round(hold * fps))))
        gaze[start:end] = target
        step = np.abs(rng.standard_normal(2)) * np.deg2rad(GAZE_DEG)
        target = np.where(target > 0, -step, step)  # the next fixation is across the centre
        start = end
    gaze -= VOR_GAIN * np.asarray(head[:, :2], np.float64)
    return (gaze * scale).astype(np.float32)


def gaze_blendshapes(gaze: np.ndarray) -> dict[str, np.ndarray]:
    """ARKit eyeLook* weights of a gaze.

    Looking to the subject's left (yaw > 0) is ``eyeLookOutLeft`` and ``eyeLookInRight``; to the
    right ``eyeLookInLeft`` and ``eyeLookOutRight``; up (pitch < 0) ``eyeLookUp*``, down
    ``eyeLookDown*``; 1 at :data:`EYE_LOOK_FULL_DEG`.

    Args:
        gaze: (T, 2) eye yaw and pitch (radians).

    Returns:
        ARKit name -> (T,) weight in 0..1, for the 8 eyeLook* blendshapes.
    """
    full = np.deg2rad(EYE_LOOK_FULL_DEG)
    yaw = np.asarray(gaze[:, 0], np.float32) / full
    pitch = np.asarray(gaze[:, 1], np.float32) / full
    left, right = np.clip(yaw, 0, 1), np.clip(-yaw, 0, 1)
    up, down = np.clip(-pitch, 0, 1), np.clip(pitch, 0, 1)
    return {
        "eyeLookOutLeft": left,
        "eyeLookInRight": left,
        "eyeLookInLeft": right,
        "eyeLookOutRight": right,
        "eyeLookUpLeft": up,
        "eyeLookUpRight": up,
        "eyeLookDownLeft": down,
        "eyeLookDownRight": down,
    }


def livelink_rotations(head: np.ndarray, gaze: np.ndarray) -> np.ndarray:
    """The 9 Live Link rotation columns (HeadYaw ... RightEyeRoll) from head pose and gaze.

    Args:
        head: (T, 3) yaw, pitch, roll (radians).
        gaze: (T, 2) eye yaw, pitch (radians).

    Returns:
        (T, 9) float32 in :data:`~espnet_cause.arkit.LIVELINK_ROTATION_NAMES` order.
    """
    zeros = np.zeros((len(head), 1), np.float32)
    eye = np.hstack([gaze, zeros]).astype(np.float32)
    return np.hstack([head, eye, eye]).astype(np.float32)


class LiveHead:
    """Head pose and gaze for a live stream, read frame by frame.

    A live stream cannot wait for a syllable's loudness peak, so it gets no nods: the head
    drifts (:func:`smoothed_walk`, at the mean speaking scale 0.75) and the eyes make their
    fixations and saccades (:func:`eye_gaze`); both are made for ``max_frames`` at the start.

    Args:
        fps: Frame rate of the stream.
        max_frames: Longest stream, frames.
        scale: Amplitude (0: still).
        seed: Seed.
    """

    def __init__(self, fps: float, max_frames: int, scale: float = 1.0, seed: int = 0) -> None:
        head = smoothed_walk(max_frames, fps, np.deg2rad(DRIFT_DEG), DRIFT_SMOOTH_S, seed)
        head = head * (0.75 * scale)
        gaze = eye_gaze(head, fps, scale, seed)
        self.rotations = livelink_rotations(head, gaze)
        self.looks = gaze_blendshapes(gaze)

    def frame(self, index: int) -> tuple[np.ndarray, dict[str, float]]:
        """Frame ``index``'s (9,) Live Link rotations and its eyeLook* weights (held at the end)."""
        k = min(index, len(self.rotations) - 1)
        return self.rotations[k], {name: float(v[k]) for name, v in self.looks.items()}
