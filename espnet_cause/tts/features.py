"""AU features for ESPnet TTS and VC: frame-level AU on a feature grid, utterance-level au_embed.

Frame-level AU (``au.scp``)
    The CAUSE AU stream (25 fps) resampled by timestamp onto the frames of ESPnet's STFT-based
    feature extractor (``LogMelFbank`` with ``center=True``): frame ``k`` is centred at sample
    ``k * hop_length`` and an utterance of ``N`` samples at ``fs`` has ``1 + N // hop_length``
    frames (even ``n_fft``; :func:`espnet_cause.io.timegrid.to_hop_grid` makes it). So ``au``
    lines up one to one with the ``feats`` the TTS model sees, as FastSpeech2's pitch and energy
    do before token averaging. For VC, export on the *source* speech with the VC feature
    extractor's ``fs``/``hop_length``, and the rows line up with the source feature frames.

Utterance-level AU embedding (``au_embed.scp``, ESPnet's ``spembs`` input)
    ESPnet's TTS models L2-normalise ``spembs`` before using them (``F.normalize`` in
    ``FastSpeech2._integrate_with_spk_embed`` and ``Tacotron2._integrate_with_spk_embed``, for both
    ``add`` and ``concat``). Normalisation keeps only the direction of a vector, so a plain vector
    of AU means would map a calm utterance and the same expression at twice the intensity onto
    the same input. Per-utterance z-scoring would make this worse: it removes the level on
    purpose. The vector here is therefore::

        v = [ c,  mean_1 / S, ..., mean_17 / S,  std_1 / S, ..., std_17 / S ]     (35 values)

    where ``mean_i``/``std_i`` are AU ``i``'s mean and standard deviation over the utterance's
    frames (on the 0..5 OpenFace scale), ``S`` = :data:`~espnet_cause.au.AU_INTENSITY_MAX` and
    ``c`` = :data:`MAGNITUDE_CHANNEL` is a constant. Because the first component is the same
    constant for every utterance, ``v / |v|`` determines ``v`` exactly
    (``v = c * u / u[0]`` for ``u = v / |v|``, see :func:`decode_au_embed`): overall intensity
    survives normalisation, and two utterances with the same AU pattern at different intensities
    get different normalised vectors. Statistics are divided by a fixed scale rather than
    standardised with corpus statistics so that the vector needs nothing but the utterance (the
    same export works for a training corpus, one reference clip, or a VC source), and with
    ``c = 1`` the typical statistics (means below 1.5 on the 0..5 scale) keep ``|stats| < c``, where
    normalisation is close to linear in them.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS

#: Value of the constant first component of an AU embedding (the magnitude reference).
MAGNITUDE_CHANNEL: float = 1.0
#: Divisor applied to AU statistics in the embedding (the top of the OpenFace scale).
EMBED_SCALE: float = AU_INTENSITY_MAX
#: Length of an AU embedding: constant channel, 17 means, 17 standard deviations.
AU_EMBED_DIM: int = 1 + 2 * NUM_AUS


def au_embed(aus: np.ndarray) -> np.ndarray:
    """Utterance-level AU vector for ``spembs`` whose direction keeps the overall intensity.

    Args:
        aus: (T, 17) AU intensities on the 0..5 scale; NaN frames (missing) are ignored.

    Returns:
        (35,) float32: ``[MAGNITUDE_CHANNEL, means / EMBED_SCALE, stds / EMBED_SCALE]``.

    Raises:
        ValueError: if ``aus`` is not (T, 17) or has no finite value in some AU column.
    """
    aus = np.asarray(aus, dtype=np.float64)
    if aus.ndim != 2 or aus.shape[1] != NUM_AUS or aus.shape[0] == 0:
        raise ValueError(f"AU array has shape {aus.shape}, expected (T>0, {NUM_AUS})")
    finite = np.isfinite(aus)
    if not finite.any(axis=0).all():
        raise ValueError("an AU column has no finite value; cannot summarise the utterance")
    with np.errstate(invalid="ignore"):
        means = np.nanmean(aus, axis=0)
        stds = np.nanstd(aus, axis=0)
    vec = np.concatenate([[MAGNITUDE_CHANNEL], means / EMBED_SCALE, stds / EMBED_SCALE])
    return vec.astype(np.float32)


def decode_au_embed(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recover per-AU means and stds from an AU embedding, normalised or not.

    Works on ``v`` and on ``v / |v|`` alike, which is the point of the constant channel.

    Args:
        vec: (35,) AU embedding, possibly L2-normalised.

    Returns:
        (17,) means and (17,) standard deviations on the 0..5 scale.
    """
    vec = np.asarray(vec, dtype=np.float64)
    if vec.shape != (AU_EMBED_DIM,) or not vec[0] > 0:
        raise ValueError(f"not an AU embedding: shape {vec.shape}, expected ({AU_EMBED_DIM},)")
    stats = vec[1:] * (MAGNITUDE_CHANNEL / vec[0]) * EMBED_SCALE
    return stats[:NUM_AUS], stats[NUM_AUS:]
