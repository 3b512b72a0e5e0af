"""The emotion heard in a voice, from its acoustic functionals, speaker-normalised (numpy only).

A multinomial logistic regression on :func:`espnet_cause.inference.voice_functionals.voice_functionals`
z-scored the Kaldi way, per speaker: during training with each training speaker's own mean and
SD; at inference with the statistics of the speaker's utterances when the caller gives several
(:meth:`EmotionRecogniser.speaker_stats`, at least :data:`MIN_SPEAKER_UTTERANCES`). A single
utterance with no speaker statistics falls back to a second regression trained on features
z-scored with the training set's global statistics, on the functionals that do not follow the
recording's gain and frequency response
(:func:`espnet_cause.inference.voice_functionals.channel_robust_columns`; weaker: the speaker's
own pitch, loudness and timbre cannot be told from their emotion).

The posteriors drive the face through the prototype table
(:func:`espnet_cause.emotion.emotion_to_aus`), shaped over time as faces hold an expression
(:func:`espnet_cause.inference.expression_envelope.expression_envelope`: rising at the speech onset, held,
easing after it): :func:`expression_track`, which ``Speech2AU`` adds to the mouth stream of the
model it wraps.

Stored as arrays in an ``.npz`` (:data:`ARRAYS`), a member of the model zip; training is
:func:`train_recogniser` (scipy L-BFGS; no scikit-learn or torch).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from espnet_cause.emotion import EMOTIONS, NUM_EMOTIONS, emotion_to_aus, parse_emotion
from espnet_cause.errors import CauseError
from espnet_cause.inference.expression_envelope import (
    expression_envelope,
    frame_energy_db,
    speech_span,
)
from espnet_cause.inference.voice_functionals import (
    NUM_FEATURES,
    channel_robust_columns,
    feature_names,
    voice_functionals,
)

logger = logging.getLogger(__name__)

#: Fewest utterances whose statistics normalise a speaker (fewer: the global fallback).
MIN_SPEAKER_UTTERANCES = 4
#: Floor of a feature's SD when z-scoring (a constant feature stays 0).
MIN_SD = 1e-6
#: Members of the ``.npz``.
ARRAYS = (
    "classes", "feature_names", "global_columns", "global_mean", "global_sd", "speaker_weight",
    "speaker_bias", "global_weight", "global_bias",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class SpeakerStats:
    """Mean and SD of one speaker's functionals, each (NUM_FEATURES,), over ``count`` utts."""

    mean: np.ndarray
    sd: np.ndarray
    count: int


class RunningStats:
    """A speaker's statistics accumulated one functionals row at a time (Welford's running mean
    and variance): after the rows of a whole set, equal to :func:`speaker_stats` of them. What a
    live stream keeps (Kaldi's online CMVN: the speaker's statistics so far) and what the offline
    paths sum a speaker's utterances with.

    Args:
        dim: Columns of a row (:data:`NUM_FEATURES`).
    """

    def __init__(self, dim: int = NUM_FEATURES) -> None:
        self.count = 0
        self._mean = np.zeros(dim)
        self._m2 = np.zeros(dim)

    def add(self, row: np.ndarray) -> None:
        """Take one (dim,) row into the statistics."""
        row = np.asarray(row, dtype=np.float64)
        if row.shape != self._mean.shape or not np.isfinite(row).all():
            raise CauseError(f"a functionals row must be finite, ({len(self._mean)},), got "
                             f"{row.shape}")  # fmt: skip
        self.count += 1
        delta = row - self._mean
        self._mean += delta / self.count
        self._m2 += delta * (row - self._mean)

    def stats(self) -> SpeakerStats:
        """The statistics so far (SD floored at :data:`MIN_SD`).

        Raises:
            CauseError: before the first row.
        """
        if self.count == 0:
            raise CauseError("no usable utterance to take the speaker's statistics from")
        sd = np.sqrt(np.maximum(self._m2 / self.count, 0.0))
        return SpeakerStats(self._mean.copy(), np.maximum(sd, MIN_SD), self.count)


def speaker_stats(features: np.ndarray) -> SpeakerStats:
    """Per-speaker CMVN statistics of (U, NUM_FEATURES) functionals."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[1] != NUM_FEATURES or len(features) == 0:
        raise CauseError(
            f"speaker statistics need (U, {NUM_FEATURES}) functionals, got {features.shape}"
        )
    return SpeakerStats(features.mean(0), np.maximum(features.std(0), MIN_SD), len(features))


def speaker_functionals(
    utterances: Iterable[tuple[str, Callable[[], tuple[np.ndarray, int]]]], speaker: str = ""
) -> tuple[dict[str, np.ndarray], RunningStats]:
    """One speaker's utterances -> each one's functionals and the speaker's running statistics.

    The one loop behind ``Speech2AU.speaker_stats`` and ``infer --wav_scp`` with a ``utt2spk``.

    Args:
        utterances: ``(name, load)`` pairs; ``load()`` gives ``(mono samples, fs)`` and may raise
            :class:`CauseError` for unusable audio, which is left out with a warning.
        speaker: Named in the warnings.

    Returns:
        (name -> (NUM_FEATURES,) functionals of each usable utterance, their statistics).
    """
    rows: dict[str, np.ndarray] = {}
    running = RunningStats()
    for name, load in utterances:
        try:
            rows[name] = voice_functionals(*load())
        except CauseError as e:  # unusable audio: left out of the statistics
            logger.warning("%s: not in speaker %s's statistics: %s", name, speaker, e)
            continue
        running.add(rows[name])
    return rows, running


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclasses.dataclass
class EmotionRecogniser:
    """The two regressions (speaker-normalised and global fallback) and the class order.

    Args:
        classes: The K classes the regressions output, names in :data:`espnet_cause.emotion.EMOTIONS`.
        global_columns: (G,) the functionals the fallback uses (indices).
        global_mean, global_sd: (G,) their training-set statistics (the fallback's z-scoring).
        speaker_weight: (K, D) weights; ``global_weight``: (K, G); ``speaker_bias``,
            ``global_bias``: (K,).
    """

    classes: tuple[str, ...]
    global_columns: np.ndarray
    global_mean: np.ndarray
    global_sd: np.ndarray
    speaker_weight: np.ndarray
    speaker_bias: np.ndarray
    global_weight: np.ndarray
    global_bias: np.ndarray

    def __post_init__(self) -> None:
        k, d = len(self.classes), NUM_FEATURES
        cols = np.asarray(self.global_columns)
        if (
            cols.ndim != 1
            or not np.issubdtype(cols.dtype, np.integer)
            or (cols < 0).any()
            or (cols >= d).any()
        ):
            raise CauseError(
                f"emotion recogniser: global_columns must be indices below {d}",
                fix="re-train it (python -m espnet_cause.bin.emotion_recogniser_train)",
            )
        self.global_columns = cols.astype(np.int64)
        g = len(cols)
        shapes = {
            "global_mean": (g,), "global_sd": (g,), "speaker_weight": (k, d),
            "speaker_bias": (k,), "global_weight": (k, g), "global_bias": (k,),
        }  # fmt: skip
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != shape or not np.isfinite(value).all():
                raise CauseError(
                    f"emotion recogniser: {name} has shape {value.shape} (expected {shape}) or "
                    "non-finite values",
                    fix="re-train it (python -m espnet_cause.bin.emotion_recogniser_train)",
                )
            setattr(self, name, value)
        self._columns = [EMOTIONS.index(parse_emotion(c)) for c in self.classes]

    def posteriors(self, features: np.ndarray, stats: SpeakerStats | None = None) -> np.ndarray:
        """(..., 8) emotion probabilities in :data:`EMOTIONS` order (classes not trained: 0).

        Args:
            features: (..., NUM_FEATURES) functionals.
            stats: The speaker's statistics; None (or fewer than
                :data:`MIN_SPEAKER_UTTERANCES` utterances): the global fallback.
        """
        x = np.asarray(features, dtype=np.float64)
        if stats is not None and stats.count >= MIN_SPEAKER_UTTERANCES:
            z = (x - stats.mean) / stats.sd
            w, b = self.speaker_weight, self.speaker_bias
        else:
            z = (x[..., self.global_columns] - self.global_mean) / self.global_sd
            w, b = self.global_weight, self.global_bias
        p = softmax(z @ w.T + b)
        out = np.zeros(p.shape[:-1] + (NUM_EMOTIONS,))
        out[..., self._columns] = p
        return out.astype(np.float32)

    def to_bytes(self) -> bytes:
        """The ``.npz`` bytes (:data:`ARRAYS`)."""
        buf = io.BytesIO()
        np.savez(
            buf,
            classes=np.array(self.classes),
            feature_names=np.array(feature_names()),
            **{n: getattr(self, n) for n in ARRAYS[2:]},
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "emotion recogniser") -> EmotionRecogniser:
        """Load :meth:`to_bytes` output (no pickle).

        Raises:
            CauseError: naming ``source`` for a file that is not such an ``.npz`` or whose
                features differ from this version's :func:`feature_names`.
        """
        fix = "re-train it (python -m espnet_cause.bin.emotion_recogniser_train)"
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {n: z[n] for n in ARRAYS}
        except (OSError, ValueError, KeyError) as e:
            raise CauseError(f"not an emotion recogniser: {e}", path=source, fix=fix) from None
        if tuple(arrays["feature_names"].tolist()) != feature_names():
            raise CauseError(
                "emotion recogniser was trained on other voice functionals", path=source, fix=fix
            )
        return cls(classes=tuple(arrays["classes"].tolist()), **{n: arrays[n] for n in ARRAYS[2:]})


def expression_track(
    posteriors: np.ndarray, wav: np.ndarray, fs: int, fps: float, num_frames: int
) -> np.ndarray:
    """(num_frames, 17) float32: the heard emotion's face over time.

    The prototype mix of ``posteriors`` (:func:`espnet_cause.emotion.emotion_to_aus`) times the
    envelope of the speech in ``wav`` (rising from just before its onset, easing after its end).
    """
    energy = frame_energy_db(wav, fs, fps, num_frames)
    onset, end = speech_span(energy)
    env = expression_envelope(num_frames, fps, onset, end)
    return env[:, None] * emotion_to_aus(posteriors)[None, :]


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, num_classes: int, c: float) -> tuple:
    """Multinomial logistic regression, L2 on the weights (not the bias): minimises
    ``sum_i CE_i + ||W||^2 / (2 c)`` (scikit-learn's ``C`` convention) with L-BFGS.

    Args:
        x: (N, D) features. y: (N,) class indices. c: inverse regularisation strength.

    Returns:
        weight (K, D), bias (K,).
    """
    from scipy.optimize import minimize  # only training needs it

    n, d = x.shape
    onehot = np.eye(num_classes)[y]

    def loss(theta):
        w = theta[: num_classes * d].reshape(num_classes, d)
        b = theta[num_classes * d :]
        logits = x @ w.T + b
        logits = logits - logits.max(1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        p = np.exp(logp)
        value = -(onehot * logp).sum() + 0.5 / c * (w**2).sum()
        g = p - onehot
        grad_w = g.T @ x + w / c
        return value, np.concatenate([grad_w.ravel(), g.sum(0)])

    theta0 = np.zeros(num_classes * (d + 1))
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 5000})
    w = res.x[: num_classes * d].reshape(num_classes, d)
    return w, res.x[num_classes * d :]


def normalise_per_speaker(features: np.ndarray, speakers: Sequence[str]) -> np.ndarray:
    """(N, D) each row z-scored with its speaker's statistics (:func:`speaker_stats`)."""
    speakers = np.asarray(speakers)
    out = np.empty_like(features, dtype=np.float64)
    for spk in np.unique(speakers):
        mine = speakers == spk
        st = speaker_stats(features[mine])
        out[mine] = (features[mine] - st.mean) / st.sd
    return out


def train_recogniser(
    features: np.ndarray,
    labels: Sequence[str],
    speakers: Sequence[str],
    c: float = 0.1,
) -> EmotionRecogniser:
    """Fit both regressions on labelled functionals.

    Args:
        features: (N, NUM_FEATURES) one row per utterance.
        labels: (N,) emotion names (any spelling :func:`espnet_cause.emotion.parse_emotion` knows).
        speakers: (N,) speaker ids (the per-speaker statistics; each speaker needs
            :data:`MIN_SPEAKER_UTTERANCES` utterances).
        c: Inverse L2 strength of both regressions.

    Raises:
        CauseError: for mismatched lengths, fewer than two classes, or a speaker with too few
            utterances.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = [parse_emotion(e) for e in labels]
    if not (len(features) == len(labels) == len(speakers)) or features.ndim != 2:
        raise CauseError(
            f"{len(features)} feature rows, {len(labels)} labels, {len(speakers)} speakers",
            fix="give one label and one speaker per utterance",
        )
    classes = tuple(e for e in EMOTIONS if e in set(labels))
    if len(classes) < 2:
        raise CauseError(f"only the class(es) {classes} in the labels", fix="give two at least")
    counts = {s: list(speakers).count(s) for s in set(speakers)}
    few = sorted(s for s, n in counts.items() if n < MIN_SPEAKER_UTTERANCES)
    if few:
        raise CauseError(
            f"speaker(s) {', '.join(few)} have fewer than {MIN_SPEAKER_UTTERANCES} utterances",
            fix="leave them out of the training set",
        )
    y = np.array([classes.index(e) for e in labels])
    cols = channel_robust_columns()
    robust = features[:, cols]
    mean, sd = robust.mean(0), np.maximum(robust.std(0), MIN_SD)
    sw, sb = fit_logistic(normalise_per_speaker(features, speakers), y, len(classes), c)
    gw, gb = fit_logistic((robust - mean) / sd, y, len(classes), c)
    logger.info("trained on %d utterances, %d speakers, classes %s", len(y), len(counts), classes)
    return EmotionRecogniser(classes, cols, mean, sd, sw, sb, gw, gb)
