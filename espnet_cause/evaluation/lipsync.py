"""How well predicted AUs follow a real talking face: Pearson r against the clip's own video.

The check behind ``python -m espnet_cause.bin.check_lipsync``. For a clip of a person talking:

1. **Reference**: the AUs read off the clip's video by the built-in MediaPipe extractor,
   resampled to the model's AU rate (frames without a face are left out).
2. **Model**: the AUs a CAUSE model predicts from the clip's soundtrack.
3. **Loudness baseline**: the speech's loudness envelope (praat-parselmouth intensity relative to
   the peak, :func:`espnet_cause.io.loudness.loudness_track`) used as the prediction of
   *every* AU. A model that has learned lips and jaw must beat it on the mouth.
4. **Peers** (optional): other speech-driven mouth openings scored on the mouth alone, e.g.
   uLipSync (:mod:`espnet_cause.evaluation.ulipsync`).

Besides r, the **scale check**: the standard deviation of the predicted AU25 and AU26 over the
clip's frames with a face, next to the tracked one's (a model on the tracker's scale swings as
far as the face does: ratio about 1).

Scores per AU and for the **mouth** (AU25 + AU26, lips part + jaw drop): Pearson r at the best
lag within +-``max_lag_s`` (80 ms, 2 frames at 25 fps). The lag is how late the prediction is
relative to the video: at lag ``L`` frames, ``video[t]`` is compared with ``pred[t + L]``, so a
positive lag means the prediction moves ``L`` frames after the face. Both systems get the same
lag search, so neither is favoured. A set of clips is summarised by the mean of the per-clip r.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from espnet_cause.au import AU_NAMES, NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.loudness import loudness_track
from espnet_cause.io.video import read_audio_track

#: The AUs summed into the mouth opening score.
MOUTH_AUS = ("AU25", "AU26")
#: Lags searched, in seconds either way.
MAX_LAG_S = 0.08
MODEL = "model"
LOUDNESS = "loudness"
SYSTEMS = (MODEL, LOUDNESS)
#: The AUs whose predicted and tracked spread the scale check compares.
SCALE_AUS = ("AU25", "AU26")
#: Fewer valid frames than this give no r (NaN).
MIN_FRAMES = 10


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r of two (N,) series over frames where both are finite; NaN if undefined."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < MIN_FRAMES:
        return math.nan
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    if den <= 1e-12:
        return math.nan
    return float(np.clip((x * y).sum() / den, -1.0, 1.0))


def shifted(x: np.ndarray, lag: int) -> np.ndarray:
    """``out[t] = x[t + lag]`` (NaN where ``t + lag`` is outside ``x``)."""
    x = np.asarray(x, np.float64)
    out = np.full_like(x, np.nan)
    if lag >= 0:
        out[: len(x) - lag] = x[lag:]
    else:
        out[-lag:] = x[: len(x) + lag]
    return out


@dataclasses.dataclass(frozen=True)
class LagR:
    """Pearson r at the best lag: ``r``, ``lag_frames`` and ``lag_ms`` (prediction late > 0)."""

    r: float
    lag_frames: int
    lag_ms: float

    def to_json(self) -> dict:
        return {
            "r": None if math.isnan(self.r) else round(self.r, 4),
            "lag_frames": self.lag_frames,
            "lag_ms": round(self.lag_ms, 1),
        }


def best_lag_r(ref: np.ndarray, hyp: np.ndarray, fps: float, max_lag_s: float = MAX_LAG_S) -> LagR:
    """The highest Pearson r of ``ref[t]`` with ``hyp[t + lag]`` over lags within +-max_lag_s.

    Args:
        ref: (T,) reference (NaN frames ignored).
        hyp: (T,) prediction on the same frame grid.
        fps: Frame rate of both.
        max_lag_s: Largest lag either way, seconds.

    Returns:
        The best :class:`LagR` (ties go to the smallest lag); r NaN if undefined at every lag.
    """
    if len(ref) != len(hyp):
        raise ValueError(f"ref has {len(ref)} frames, hyp {len(hyp)}")
    max_lag = int(math.floor(max_lag_s * fps + 1e-9))
    best = LagR(math.nan, 0, 0.0)
    for lag in sorted(range(-max_lag, max_lag + 1), key=abs):
        r = pearson(ref, shifted(hyp, lag))
        if not math.isnan(r) and (math.isnan(best.r) or r > best.r + 1e-12):
            best = LagR(r, lag, 1000.0 * lag / fps)
    return best


def mouth(aus: np.ndarray) -> np.ndarray:
    """(T, 17) -> (T,) mouth opening AU25 + AU26."""
    return sum(np.asarray(aus, np.float64)[:, au_index(a)] for a in MOUTH_AUS)


@dataclasses.dataclass
class ClipScores:
    """One clip's scores: per system, ``mouth`` (model, loudness and any peers) and one
    :class:`LagR` per AU (model and loudness); ``scale``: per :data:`SCALE_AUS` AU, the standard
    deviation of the model's and of the tracked AU over the frames with a face."""

    name: str
    num_frames: int
    num_valid: int
    fps: float
    mouth: dict[str, LagR]
    aus: dict[str, dict[str, LagR]]
    scale: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "frames": self.num_frames,
            "frames_with_face": self.num_valid,
            "fps": self.fps,
            "mouth": {s: v.to_json() for s, v in self.mouth.items()},
            "aus": {s: {a: v.to_json() for a, v in d.items()} for s, d in self.aus.items()},
            "scale": {a: {k: round(v, 4) for k, v in d.items()} for a, d in self.scale.items()},
        }


def score_clip(
    name: str,
    video_aus: np.ndarray,
    model_aus: np.ndarray,
    loudness: np.ndarray,
    fps: float,
    max_lag_s: float = MAX_LAG_S,
    peers: dict[str, np.ndarray] | None = None,
) -> ClipScores:
    """Score a model's AUs, the loudness baseline and any peers against the video's AUs.

    Args:
        name: Clip name.
        video_aus: (T, 17) reference from the video (NaN rows: no face).
        model_aus: (T', 17) prediction; cropped or NaN-padded to T.
        loudness: (T'',) loudness envelope; cropped or NaN-padded to T.
        fps: Frame rate of all of them.
        max_lag_s: Lag search range.
        peers: Name -> (T_peer,) mouth opening of another system (scored on the mouth only;
            cropped or NaN-padded to T).

    Returns:
        The clip's :class:`ClipScores`.
    """
    ref = np.asarray(video_aus, np.float64)
    num = len(ref)
    hyp = _fit(np.asarray(model_aus, np.float64), num)
    loud = _fit(np.asarray(loudness, np.float64)[:, None], num)[:, 0]
    preds = {MODEL: hyp, LOUDNESS: np.repeat(loud[:, None], NUM_AUS, axis=1)}
    mouth_scores = {s: best_lag_r(mouth(ref), mouth(p), fps, max_lag_s) for s, p in preds.items()}
    for peer, series in (peers or {}).items():
        opening = _fit(np.asarray(series, np.float64)[:, None], num)[:, 0]
        mouth_scores[peer] = best_lag_r(mouth(ref), opening, fps, max_lag_s)
    au_scores = {
        s: {a: best_lag_r(ref[:, j], p[:, j], fps, max_lag_s) for j, a in enumerate(AU_NAMES)}
        for s, p in preds.items()
    }
    ok = np.isfinite(ref).all(axis=1) & np.isfinite(hyp).all(axis=1)
    scale = {
        a: {
            "model_std": float(np.std(hyp[ok, au_index(a)])) if ok.any() else math.nan,
            "tracked_std": float(np.std(ref[ok, au_index(a)])) if ok.any() else math.nan,
        }
        for a in SCALE_AUS
    }
    valid = int(np.isfinite(ref).all(axis=1).sum())
    return ClipScores(name, num, valid, float(fps), mouth_scores, au_scores, scale)


@dataclasses.dataclass(frozen=True)
class ClipTracks:
    """What a clip's scores were computed from, on one frame grid (for plots).

    Attributes:
        times: (T,) frame times in seconds.
        video: (T, 17) AUs read off the video (NaN rows: no face).
        model: (T', 17) the model's AUs (T' may differ from T by a frame).
        loudness: (T,) loudness envelope in [0, 1].
    """

    times: np.ndarray
    video: np.ndarray
    model: np.ndarray
    loudness: np.ndarray


def check_clip(
    name: str, path, speech2au, extractor, max_lag_s: float = MAX_LAG_S, peers=None
) -> tuple[ClipScores, ClipTracks]:
    """Score a model on one talking clip (module docstring).

    Args:
        name: Clip name for the report.
        path: The clip (video with an audio track).
        speech2au: A :class:`espnet_cause.inference.speech2au.Speech2AU`.
        extractor: A :class:`espnet_cause.extract.mediapipe.MediaPipeAUExtractor`.
        max_lag_s: Lag search range, seconds either way.
        peers: Name -> ``fn(speech, fs, times) -> (T,)``: another system's mouth opening.

    Returns:
        The clip's scores and the tracks they came from.

    Raises:
        CauseError: naming the clip if it has no audio, no face, or cannot be read.
    """

    speech = read_audio_track(path, sample_rate=speech2au.fs)
    model_aus = speech2au(speech, speech2au.fs, name=str(path))
    fps = speech2au.au_fps
    video_aus, _ = extractor(path).resample(fps)
    ref = video_aus.intensities
    if not np.isfinite(ref).all(axis=1).any():
        raise CauseError("no frame with a face after resampling", path=path)
    times = np.arange(len(ref)) / fps
    loud = loudness_track(speech, speech2au.fs, times)
    opened = {p: fn(speech, speech2au.fs, times) for p, fn in (peers or {}).items()}
    scores = score_clip(name, ref, model_aus, loud, fps, max_lag_s, opened)
    return scores, ClipTracks(times, ref, model_aus, loud)


def plot_clip(path, scores: ClipScores, tracks: ClipTracks) -> None:
    """PNG of the z-scored mouth opening over time: video, model and loudness, with their r."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def z(x):
        x = np.asarray(x, np.float64)
        return (x - np.nanmean(x)) / max(float(np.nanstd(x)), 1e-9)

    t = tracks.times
    n = min(len(t), len(tracks.model))
    m, lo = scores.mouth[MODEL], scores.mouth[LOUDNESS]
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot(t, z(mouth(tracks.video)), color="black", lw=1.5, label="video (MediaPipe)")
    ax.plot(t[:n], z(mouth(tracks.model[:n])), color="tab:red", lw=1.2, label=f"model r={m.r:.2f}")
    ax.plot(
        t, z(tracks.loudness), color="tab:blue", lw=1.0, alpha=0.7, label=f"loudness r={lo.r:.2f}"
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mouth AU25+AU26 (z)")
    ax.set_title(f"{scores.name}: mouth opening, z-scored", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def _fit(x: np.ndarray, num: int) -> np.ndarray:
    if len(x) >= num:
        return x[:num]
    pad = np.full((num - len(x), x.shape[1]), np.nan)
    return np.concatenate([x, pad])


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if not math.isnan(v)]
    return round(float(np.mean(vals)), 4) if vals else None


def peer_names(clips: list[ClipScores]) -> list[str]:
    """The peers scored on the clips (mouth systems besides the model and loudness)."""
    return sorted({s for c in clips for s in c.mouth} - set(SYSTEMS))


def summarize(clips: list[ClipScores]) -> dict:
    """Mean r over clips per system (mouth and each AU), how many clips the model wins against
    loudness, the peers' mean mouth r, and the scale check (mean predicted and tracked std)."""
    out: dict = {"clips": len(clips)}
    for s in SYSTEMS:
        out[s] = {
            "mouth_r": _mean([c.mouth[s].r for c in clips]),
            "aus_r": {a: _mean([c.aus[s][a].r for c in clips]) for a in AU_NAMES},
        }
    for peer in peer_names(clips):
        out[peer] = {"mouth_r": _mean([c.mouth[peer].r for c in clips if peer in c.mouth])}
    gaps = [c.mouth[MODEL].r - c.mouth[LOUDNESS].r for c in clips]
    out["mouth_r_gain_over_loudness"] = _mean(gaps)
    out["model_beats_loudness_clips"] = sum(1 for g in gaps if g > 0)
    out["model_beats_loudness_on_every_clip"] = bool(clips) and all(g > 0 for g in gaps)
    out["scale"] = {}
    for a in SCALE_AUS:
        model_std = _mean([c.scale[a]["model_std"] for c in clips if a in c.scale])
        tracked_std = _mean([c.scale[a]["tracked_std"] for c in clips if a in c.scale])
        ratio = model_std / tracked_std if model_std is not None and tracked_std else None
        out["scale"][a] = {
            "model_std": model_std,
            "tracked_std": tracked_std,
            "ratio": None if ratio is None else round(ratio, 3),
        }
    return out


def _cell(v: LagR | float | None) -> str:
    if isinstance(v, LagR):
        return "n/a" if math.isnan(v.r) else f"{v.r:.3f} ({v.lag_ms:+.0f} ms)"
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def markdown_report(
    clips: list[ClipScores], summary: dict, model_name: str, max_lag_s: float = MAX_LAG_S
) -> str:
    """A Markdown report: per clip mouth r (and lag) of every system, the set means, how many
    clips the model beats loudness on, the scale check and per-AU r."""
    systems = [MODEL, LOUDNESS, *peer_names(clips)]
    lines = [
        f"# Lip-sync check: `{model_name}` vs loudness envelope",
        "",
        "Pearson r against the AUs read off each clip's video (MediaPipe), best lag within "
        f"+-{round(max_lag_s * 1000)} ms (positive: prediction late). Mouth = AU25 + AU26.",
        "",
        "| clip | frames (face) | " + " | ".join(f"{s} mouth r (lag)" for s in systems) + " |",
        "| --- | --- |" + " --- |" * len(systems),
    ]
    for c in clips:
        cells = " | ".join(_cell(c.mouth.get(s)) for s in systems)
        lines.append(f"| {c.name} | {c.num_frames} ({c.num_valid}) | {cells} |")
    means = " | ".join(f"**{_cell(summary[s]['mouth_r'])}**" for s in systems)
    lines += [
        f"| **mean of {len(clips)}** | | {means} |",
        "",
        f"The model beats loudness on {summary['model_beats_loudness_clips']} of {len(clips)} "
        "clips.",
        "",
        "Scale (standard deviation over the frames with a face, mean over clips):",
        "",
        "| AU | model std | tracked std | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for a, d in summary["scale"].items():
        lines.append(
            f"| {a} | {_cell(d['model_std'])} | {_cell(d['tracked_std'])} | {_cell(d['ratio'])} |"
        )
    lines += [
        "",
        "| AU | model r | loudness r |",
        "| --- | --- | --- |",
    ]
    for a in AU_NAMES:
        if len(clips) == 1:
            m, lo = clips[0].aus[MODEL][a], clips[0].aus[LOUDNESS][a]
        else:
            m, lo = summary[MODEL]["aus_r"][a], summary[LOUDNESS]["aus_r"][a]
        lines.append(f"| {a} | {_cell(m)} | {_cell(lo)} |")
    return "\n".join(lines) + "\n"
