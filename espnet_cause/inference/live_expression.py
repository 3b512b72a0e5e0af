"""The expressive model, live: a causal mouth plus an emotion recogniser that hears the stream so far.

The offline ``expressive`` model hears whole utterances (voice functionals of the utterance,
normalised with the statistics of the speaker's utterances). A live stream has neither, so its
expression is computed as a listener would follow a voice:

- **A sliding window** (:data:`WINDOW_S`): every :data:`UPDATE_S` of audio with new speech, and
  when a pause of :data:`HOLD_S` begins, the
  :func:`~espnet_cause.inference.voice_functionals.voice_functionals` of the last
  :data:`WINDOW_S` seconds (at least :data:`MIN_SPEECH_S` of speech in it). 2 s: about one
  phrase, long enough for the pitch and level statistics the recogniser reads (it learned them
  on RAVDESS sentences of 1.5-2.5 s of speech), short enough that at a pause the window holds
  mostly the phrase just ended, not the one before, and that the face follows a change of mood
  within a phrase or two. Chosen among 2, 3 and 4 s on the dev actors (docs/live_expression.md).
  Praat's harmonicity (the costliest functional) is computed once for each stretch of new
  audio, on the stream's 10 ms grid, and joined (frames hear 60 ms each).
- **Running speaker statistics** (Kaldi's online CMVN): each window's functionals go into the
  stream's :class:`~espnet_cause.inference.emotion_recogniser.RunningStats`. The posteriors start
  as the recogniser's single-utterance fallback (global statistics, channel-robust functionals)
  and move to the speaker-normalised regression with the stream's own statistics as speech
  accumulates: ``p = (1 - w) p_fallback + w p_speaker``, ``w`` rising linearly to 1 over
  ``MIN_SPEAKER_UTTERANCES`` windows' worth of speech heard (8 s) (0 before :data:`MIN_SPEAKER_UTTERANCES` windows).
- **Off the hot path**: the functionals (about 70 ms of Praat and numpy per update) run in an
  executor (``serve``: one worker process, since Praat holds the GIL); a stream submits its
  next update only when the previous one came back, and the frames use the newest posteriors
  that have arrived. Without an executor (tests, ``check_expression --speaker_stats stream``) the
  update runs inline at the same moment of the audio.
- **The face**: per AU frame, the posteriors are smoothed towards the newest ones (first-order,
  time constant :data:`SMOOTH_S`), go through the prototype table
  (:func:`espnet_cause.emotion.emotion_to_aus`) and are scaled by a causal expression envelope
  (the offline envelope's semantics: rises over :data:`~espnet_cause.inference.expression_envelope.RISE_S`
  from the speech onset, held through speech and pauses shorter than :data:`HOLD_S`, eases after
  with time constant :data:`~espnet_cause.inference.expression_envelope.EASE_S`), added to the
  mouth's AUs and clipped to 0-5. Speech frames: within
  :data:`~espnet_cause.inference.expression_envelope.SPEECH_RANGE_DB` of the stream's running
  peak level (decaying :data:`PEAK_DECAY_DB_S`) and above :data:`FLOOR_DB`.
"""

from __future__ import annotations

import collections
import logging
import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor

import numpy as np

from espnet_cause.assets import LIVE_MODEL
from espnet_cause.emotion import EMOTIONS, NUM_EMOTIONS, emotion_to_aus
from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import (
    MIN_SPEAKER_UTTERANCES,
    EmotionRecogniser,
    RunningStats,
)
from espnet_cause.inference.expression_envelope import EASE_S, RISE_S, SPEECH_RANGE_DB
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.inference.voice_functionals import (
    FS,
    HOP_S,
    harmonicity_frames,
    voice_functionals,
)

logger = logging.getLogger(__name__)

#: Seconds of recent audio the recogniser hears at each update.
WINDOW_S = 2.0
#: Seconds of audio between updates of the posteriors.
UPDATE_S = 1.0
#: Least speech (s) in the window for an update.
MIN_SPEECH_S = 0.5
#: Time constant (s) of the per-frame smoothing of the posteriors.
SMOOTH_S = 0.5
#: Pauses shorter than this (s) hold the expression; longer ones ease it.
HOLD_S = 0.3
#: Decay (dB/s) of the running peak level that speech frames are measured against.
PEAK_DECAY_DB_S = 1.0
#: Frames quieter than this (dBFS) are never speech.
FLOOR_DB = -60.0
#: Audio (s) before the last known harmonicity frame that a new stretch is computed from.
HNR_MARGIN_S = 0.05
#: Worker processes of :func:`expression_executor`.
WORKERS = 1
#: How much lower the workers' CPU priority is than the server's (``nice``): under load the
#: expression updates slow down, the mouth's frames do not.
WORKER_NICE = 10


def window_features(
    window: np.ndarray, t0: float, known: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The functionals of one window of a stream (run in a worker; a pure function).

    Args:
        window: (N,) float32 samples at :data:`~espnet_cause.inference.voice_functionals.FS`.
        t0: Stream time (s) of its first sample.
        known: (times, values) of the stream's harmonicity frames already computed (stream
            times); only the audio after the last of them is analysed.

    Returns:
        (NUM_FEATURES,) functionals, and the new harmonicity frames (times, values).
    """
    times, values = known
    # stretches start and end on the stream's 10 ms grid, so that Praat's frames of every
    # stretch lie on one grid and equal those of the stream analysed whole
    start = t0 if len(times) == 0 else max(t0, float(times[-1]) - HNR_MARGIN_S)
    start = np.ceil(round(start / HOP_S, 6)) * HOP_S
    end = np.floor(round((t0 + len(window) / FS) / HOP_S, 6)) * HOP_S
    a, b = int(round((start - t0) * FS)), int(round((end - t0) * FS))
    seg_t, seg_v = harmonicity_frames(window[a:b])
    seg_t = seg_t + start
    new = seg_t > (times[-1] if len(times) else -np.inf)
    all_t = np.concatenate([times, seg_t[new]])
    all_v = np.concatenate([values, seg_v[new]])
    row = voice_functionals(window, FS, harmonicity=(all_t - t0, all_v))
    return row, seg_t[new], seg_v[new]


def _warm() -> bool:
    """Import and run Praat once in a worker."""
    t = np.arange(FS) / FS
    window_features((0.1 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 0.0,
                    (np.zeros(0), np.zeros(0)))  # fmt: skip
    return True


def _lower_priority() -> None:
    """A worker yields the CPU to the server's frames (the mouth first, the expression after)."""
    os.nice(WORKER_NICE)


def expression_executor(workers: int = WORKERS) -> ProcessPoolExecutor:
    """A process pool for the streams' updates (spawned: no fork of a threaded server; niced by
    :data:`WORKER_NICE`); its worker starts importing Praat at once, while the caller goes on
    (e.g. loads the models)."""
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
    )
    pool.submit(_warm)
    return pool


def _smoothstep_inverse(y: float) -> float:
    """x in [0, 1] with 3x^2 - 2x^3 = y."""
    y = min(max(y, 0.0), 1.0)
    return 0.5 - math.sin(math.asin(1.0 - 2.0 * y) / 3.0)


class LiveEmotion:
    """The emotion heard in a stream so far, and the causal envelope of its expression.

    Args:
        recogniser: The expressive model's recogniser.
        au_fps: AU frame rate of the stream.
        executor: Where updates run (None: inline).
        window_s: Seconds of recent audio heard at each update.
        update_s: Seconds of audio between updates.
        update_at_pause: Also update when a pause of :data:`HOLD_S` begins.
    """

    def __init__(
        self,
        recogniser: EmotionRecogniser,
        au_fps: float,
        executor: Executor | None = None,
        window_s: float = WINDOW_S,
        update_s: float = UPDATE_S,
        update_at_pause: bool = True,
    ) -> None:
        self.recogniser = recogniser
        self.update_at_pause = update_at_pause
        self.window_s = float(window_s)
        self.update_s = float(update_s)
        #: Speech (s) after which the speaker's own statistics have full weight.
        self.speaker_speech_s = MIN_SPEAKER_UTTERANCES * self.window_s
        self.au_fps = float(au_fps)
        self.executor = executor
        self.hop = FS / self.au_fps  # samples per AU frame
        self._prototypes = emotion_to_aus(np.eye(NUM_EMOTIONS, dtype=np.float32))  # (8, 17)
        self.reset()

    def reset(self) -> None:
        self.running = RunningStats()
        self.received = 0  # samples
        self._chunks: collections.deque[np.ndarray] = collections.deque()  # the last window_s
        self._buffered = 0  # samples in _chunks
        self._partial = np.zeros(0, np.float32)  # samples of the AU frame being filled
        self.speech = []  # per AU frame: speech or not
        self._peak = -np.inf
        self.speech_seconds = 0.0
        self._next_update = self.update_s
        self._speech_at_update = 0
        self._quiet = 0  # non-speech frames in a row
        self._at_pause = False
        self._hnr = (np.zeros(0), np.zeros(0))
        self._pending: Future | None = None
        self.updates = 0
        self.target = np.eye(NUM_EMOTIONS, dtype=np.float64)[EMOTIONS.index("neutral")]
        # the face's state, advanced one emitted frame at a time
        self.posteriors = self.target.copy()
        self.emitted = 0
        self._env = 0.0
        self._rise = 0.0
        self._silent = np.inf

    # -- hearing -------------------------------------------------------------------------------
    def accept(self, samples: np.ndarray) -> None:
        """Take (N,) float32 samples at :data:`~espnet_cause.inference.voice_functionals.FS`."""
        samples = np.asarray(samples, dtype=np.float32)
        self._collect()
        self._chunks.append(samples)
        self._buffered += len(samples)
        while self._buffered - len(self._chunks[0]) >= self.window_s * FS:
            self._buffered -= len(self._chunks.popleft())
        self.received += len(samples)
        self._partial = np.concatenate([self._partial, samples])
        while len(self.speech) * self.hop + self.hop <= self.received:
            n = int(round((len(self.speech) + 1) * self.hop)) - int(
                round(len(self.speech) * self.hop)
            )
            self._frame(self._partial[:n])
            self._partial = self._partial[n:]
        due = self.received >= self._next_update * FS
        if due:
            self._next_update += self.update_s
        if due or self._at_pause:
            self._at_pause = False
            self._maybe_update()

    def finish(self) -> None:
        """The last, partial AU frame of the stream."""
        self._collect()
        if len(self._partial):
            self._frame(self._partial)
            self._partial = np.zeros(0, np.float32)

    def _frame(self, seg: np.ndarray) -> None:
        level = 10.0 * math.log10(float(np.dot(seg, seg)) / len(seg) + 1e-12)
        self._peak = max(level, self._peak - PEAK_DECAY_DB_S / self.au_fps)
        speech = level >= max(self._peak - SPEECH_RANGE_DB, FLOOR_DB)
        self.speech.append(bool(speech))
        self.speech_seconds += speech / self.au_fps
        self._quiet = 0 if speech else self._quiet + 1
        if self.update_at_pause and self._quiet == round(HOLD_S * self.au_fps):
            self._at_pause = True  # a pause begins: hear the speech before it whole

    def _maybe_update(self) -> None:
        frames = int(round(self.window_s * self.au_fps))
        heard = sum(self.speech[-frames:]) / self.au_fps
        new = len(self.speech) > self._speech_at_update and any(
            self.speech[self._speech_at_update :]
        )
        if heard < MIN_SPEECH_S or not new or self._pending is not None:
            return
        self._speech_at_update = len(self.speech)
        window = np.concatenate(self._chunks)[-int(self.window_s * FS) :]
        t0 = (self.received - len(window)) / FS
        known = self._hnr[0] >= t0
        args = (window, t0, (self._hnr[0][known], self._hnr[1][known]))
        if self.executor is None:
            self._take(window_features(*args))
            return
        try:
            self._pending = self.executor.submit(window_features, *args)
        except Exception as e:  # noqa: BLE001 - a broken pool stops the updates, not the stream
            logger.warning("live expression: no more updates in this stream: %s", e)
            self._next_update = np.inf  # the face keeps the last posteriors
            self.update_at_pause = False

    def _collect(self) -> None:
        """Take a finished update."""
        if self._pending is None or not self._pending.done():
            return
        future, self._pending = self._pending, None
        try:
            self._take(future.result())
        except Exception as e:  # noqa: BLE001 - e.g. a window the functionals refuse
            logger.debug("live expression: update failed: %s", e)

    def _take(self, result) -> None:
        row, new_t, new_v = result
        times, values = np.concatenate([self._hnr[0], new_t]), np.concatenate([self._hnr[1], new_v])
        recent = (
            times >= self.received / FS - self.window_s - self.update_s
        )  # what later windows can use
        self._hnr = (times[recent], values[recent])
        self.running.add(row)
        p = self.recogniser.posteriors(row, None).astype(np.float64)
        w = self.speaker_weight
        if w > 0:
            p = (1.0 - w) * p + w * self.recogniser.posteriors(row, self.running.stats())
        self.target = p
        self.updates += 1

    @property
    def speaker_weight(self) -> float:
        """Weight of the speaker-normalised posteriors (0: the fallback alone)."""
        if self.running.count < MIN_SPEAKER_UTTERANCES:
            return 0.0
        return float(min(1.0, self.speech_seconds / self.speaker_speech_s))

    # -- the face -------------------------------------------------------------------------------
    def expression(self, num_frames: int) -> np.ndarray:
        """(num_frames, 17) the expression of the next ``num_frames`` frames of the stream.

        A frame whose audio is not complete yet (a mouth model with less than one frame of
        look-ahead emits it early) continues the last heard frame's speech state.
        """
        if num_frames == 0:
            return np.zeros((0, self._prototypes.shape[1]), np.float32)
        dt = 1.0 / self.au_fps
        env = np.zeros(num_frames)
        for i in range(num_frames):
            heard = self.emitted < len(self.speech)
            if self.speech[self.emitted] if heard else bool(self.speech and self.speech[-1]):
                self._silent = 0.0
                self._rise = min(1.0, self._rise + dt / RISE_S)
                self._env = max(self._env, self._rise * self._rise * (3.0 - 2.0 * self._rise))
            else:
                self._silent += dt
                if self._silent > HOLD_S:
                    self._env *= math.exp(-dt / EASE_S)
                    self._rise = _smoothstep_inverse(self._env)
            env[i] = self._env
            self.emitted += 1
        # first-order smoothing towards the newest posteriors, frame by frame
        keep = math.exp(-dt / SMOOTH_S) ** np.arange(1, num_frames + 1)[:, None]
        out = self.target + (self.posteriors - self.target) * keep  # (num_frames, 8)
        self.posteriors = out[-1].copy()
        return (env[:, None] * (out @ self._prototypes)).astype(np.float32)


class ExpressiveStream:
    """A mouth stream plus :class:`LiveEmotion`: ``accept(chunk)``/``finish()``/``reset()`` as
    the mouth's, returning (T, 17) AUs with the expression added.

    Args:
        mouth: The causal mouth model's stream (``Speech2AU.streamer()``, a ``target: au`` model
            at :data:`~espnet_cause.inference.voice_functionals.FS`).
        emotion: The stream's :class:`LiveEmotion`.
    """

    def __init__(self, mouth, emotion: LiveEmotion) -> None:
        self.mouth = mouth
        self.emotion = emotion

    def _add(self, rows) -> np.ndarray:
        rows = rows.detach().cpu().numpy() if hasattr(rows, "detach") else np.asarray(rows)
        if len(rows) == 0:
            return rows.astype(np.float32)
        return np.clip(rows + self.emotion.expression(len(rows)), 0.0, 5.0).astype(np.float32)

    def accept(self, chunk: np.ndarray) -> np.ndarray:
        self.emotion.accept(chunk)
        return self._add(self.mouth.accept(chunk))

    def finish(self) -> np.ndarray:
        rows = self.mouth.finish()
        self.emotion.finish()
        return self._add(rows)

    def reset(self) -> None:
        self.mouth.reset()
        self.emotion.reset()


class LiveExpressive:
    """The expressive model for live streams: a causal mouth model with a recogniser.

    Offers what ``serve``'s stream needs of a model (``fs``, ``au_fps``, ``target``, ``names``,
    ``source``, ``backend``, ``algorithmic_latency``, ``streamer()``).

    Args:
        mouth: A :class:`~espnet_cause.inference.speech2au.Speech2AU` that streams (e.g.
            ``builtin_live``), an AU model at 16 kHz.
        recogniser: The recogniser (``Speech2AU("expressive").emotion``).
        executor: Where the streams' updates run (:func:`expression_executor`; None: inline).
        window_s: :class:`LiveEmotion`'s.
        update_s: :class:`LiveEmotion`'s.
        update_at_pause: :class:`LiveEmotion`'s.

    Raises:
        CauseError: for a mouth that does not predict AUs at 16 kHz.
    """

    def __init__(
        self,
        mouth,
        recogniser: EmotionRecogniser,
        executor: Executor | None = None,
        window_s: float = WINDOW_S,
        update_s: float = UPDATE_S,
        update_at_pause: bool = True,
    ):
        if mouth.target != "au" or int(mouth.fs) != FS:
            raise CauseError(
                f"the live expression needs an AU mouth model at {FS} Hz, got {mouth.target} at "
                f"{mouth.fs} Hz",
                fix="use builtin_live as the mouth",
            )
        self.mouth = mouth
        self.emotion = recogniser
        self.executor = executor
        self.window_s, self.update_s = window_s, update_s
        self.update_at_pause = update_at_pause
        self.fs, self.au_fps = int(mouth.fs), float(mouth.au_fps)
        self.target, self.names = mouth.target, mouth.names
        self.source, self.backend = mouth.source, mouth.backend

    @property
    def algorithmic_latency(self) -> float:
        return self.mouth.algorithmic_latency

    def streamer(self) -> ExpressiveStream:
        emotion = LiveEmotion(
            self.emotion,
            self.au_fps,
            executor=self.executor,
            window_s=self.window_s,
            update_s=self.update_s,
            update_at_pause=self.update_at_pause,
        )
        return ExpressiveStream(self.mouth.streamer(), emotion)


def live_model(
    speech2au, load_mouth: Callable[[], object] | None = None, executor: Executor | None = None
):
    """What a live stream of ``speech2au`` runs: the model itself when it streams (a causal
    encoder); for a model that hears emotion but cannot stream (``expressive``) a
    :class:`LiveExpressive` on the live built-in model's causal mouth.

    Args:
        speech2au: A loaded :class:`~espnet_cause.inference.speech2au.Speech2AU`.
        load_mouth: Gives the causal mouth (default: loads ``Speech2AU("builtin_live")``).
        executor: The :class:`LiveExpressive`'s.

    Raises:
        CauseError: naming the reason for a model that can do neither.
    """
    try:
        speech2au.streamer()  # checks it once (a probe stream)
        return speech2au
    except CauseError:
        if getattr(speech2au, "emotion", None) is None:
            raise
    mouth = load_mouth() if load_mouth is not None else Speech2AU(LIVE_MODEL)
    return LiveExpressive(mouth, speech2au.emotion, executor)
