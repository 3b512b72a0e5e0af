"""The live expressive model's recogniser against the offline one, on labelled emotional speech.

Each speaker's utterances are streamed in a row (a seeded shuffle: a live speaker's moods come in
no order) through the live variant (``builtin_live``'s causal mouth + the recogniser over the
last ``--window`` seconds, speaker statistics accumulated over the stream), and scored as
``check_expression`` scores (:func:`espnet_cause.evaluation.expression.score_speech_stream`):
prototype accuracy over each utterance's mean AUs, and the accuracy of the newest posteriors at
each utterance's end, and the accuracy of the mean AUs after each utterance's speech (its pause).
With ``--offline`` also the offline recogniser's posterior accuracy on the same utterances (each
speaker's statistics over all of their utterances; each utterance alone), for comparison.
Prints one JSON line.

``--cost`` instead measures what the live variant costs in CPU time (not wall time: the machine's
load does not enter): the main thread per stream-second for 8 streams of the demo speech at
real-time pace (``builtin_live`` alone and the live variant with its worker process, twice each),
and the CPU time of one update (a 2 s window with 1 s of new audio).

Usage: python bench/live_expression.py --speech ravdess:DIR:Actor_15,Actor_16 [--window 3]
       [--seed 0] [--model expressive] [--offline]
       python bench/live_expression.py --cost
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time

import numpy as np

from espnet_cause import assets
from espnet_cause.emotion import EMOTIONS, SCORED_EMOTIONS
from espnet_cause.evaluation.expression import (
    STREAM_SEED,
    score_speech_stream,
    speech_sources,
)
from espnet_cause.inference.emotion_recogniser import speaker_functionals
from espnet_cause.inference.live_expression import (
    UPDATE_S,
    WINDOW_S,
    LiveExpressive,
    expression_executor,
    window_features,
)
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.inference.voice_functionals import harmonicity_frames
from espnet_cause.io.audio import load_speech


def offline_accuracy(recogniser, items) -> dict:
    """Posterior accuracy (the most probable of the six scored emotions) of the offline
    recogniser: with each speaker's statistics over all of their utterances, and alone."""
    right = {"speaker_stats": [], "alone": []}
    for spk in sorted({it.speaker for it in items}):
        mine = [it for it in items if it.speaker == spk]
        rows, running = speaker_functionals(
            (it.name, functools.partial(load_speech, it.path)) for it in mine
        )
        stats = running.stats()
        cols = [EMOTIONS.index(e) for e in SCORED_EMOTIONS]
        for it in mine:
            if it.emotion not in SCORED_EMOTIONS or it.name not in rows:
                continue
            for key, st in (("speaker_stats", stats), ("alone", None)):
                p = recogniser.posteriors(rows[it.name], st)[cols]
                right[key].append(SCORED_EMOTIONS[int(np.argmax(p))] == it.emotion)
    return {k: round(float(np.mean(v)), 3) for k, v in right.items()}


def cost(model: str, streams: int = 8, seconds: float = 10.0) -> dict:
    """CPU time of the live variant (module docstring)."""
    wav, fs = load_speech(str(assets.demo_wav()))
    wav = np.tile(wav, int(np.ceil(seconds * fs / len(wav))))[: int(seconds * fs)]
    pool = expression_executor()
    try:
        mouth = Speech2AU("builtin_live")
        live = LiveExpressive(mouth, Speech2AU(model).emotion, pool)
        time.sleep(3.0)  # the worker imports Praat
        out = {"streams": streams, "seconds": seconds, "main_ms_per_stream_second": {}}
        for label, m in (("builtin_live", mouth), ("live_variant", live)) * 2:
            opened = [m.streamer() for _ in range(streams)]
            cpu, t0 = 0.0, time.perf_counter()
            for i in range(0, len(wav), 640):
                delay = t0 + (i // 640 + 1) * 0.04 - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                c = time.thread_time()
                for s in opened:
                    s.accept(wav[i : i + 640])
                cpu += time.thread_time() - c
            per = round(cpu / (streams * seconds) * 1000, 1)
            out["main_ms_per_stream_second"].setdefault(label, []).append(per)
            if label == "live_variant":
                out.setdefault("updates_per_stream", []).append([s.emotion.updates for s in opened])
    finally:
        pool.shutdown()
    known = harmonicity_frames(wav[:fs])
    times = []
    for _ in range(10):
        c = time.thread_time()
        window_features(wav[: 2 * fs], 0.0, known)
        times.append(time.thread_time() - c)
    out["update_cpu_ms"] = round(float(np.median(times)) * 1000, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", action="append", default=[], help="CORPUS:DIR[:SPK,..]")
    parser.add_argument("--cost", action="store_true", help="CPU cost instead (no --speech)")
    parser.add_argument("--model", default="expressive", help="the model with the recogniser")
    parser.add_argument("--window", type=float, default=WINDOW_S, help="window (s)")
    parser.add_argument("--update", type=float, default=UPDATE_S, help="update period (s)")
    parser.add_argument("--no_pause_update", action="store_true", help="periodic updates only")
    parser.add_argument("--offline", action="store_true", help="also the offline posteriors")
    parser.add_argument("--seed", type=int, default=STREAM_SEED, help="streaming order seed")
    args = parser.parse_args()
    if args.cost:
        print(json.dumps({"bench": "live_expression_cost", **cost(args.model),
                          "load_avg_1min": round(os.getloadavg()[0], 2)}))  # fmt: skip
        return
    if not args.speech:
        parser.error("--speech is required (or --cost)")
    recogniser = Speech2AU(args.model).emotion
    live = LiveExpressive(
        Speech2AU("builtin_live"),
        recogniser,
        window_s=args.window,
        update_s=args.update,
        update_at_pause=not args.no_pause_update,
    )
    out = {"bench": "live_expression", "model": args.model, "window_s": args.window, "update_s": args.update,
           "update_at_pause": not args.no_pause_update,
           "seed": args.seed, "sources": {}}  # fmt: skip
    for name, items in speech_sources(args.speech).items():
        t = time.perf_counter()
        scores = score_speech_stream(items, live.streamer, live.fs, live.au_fps, load_speech,
                                     args.seed)  # fmt: skip
        out["sources"][name] = {
            "num_utterances": scores["num_utterances"],
            "accuracy": round(scores["accuracy"], 3),
            "posterior_accuracy": round(scores["posterior_accuracy"], 3),
            "tail_accuracy": round(scores["tail_accuracy"], 3),
            "per_speaker": {k: round(v, 3) for k, v in scores["per_speaker"].items()},
            "confusion": scores["confusion"],
            "classes": scores["classes"],
            "seconds": round(time.perf_counter() - t, 1),
        }
        if args.offline:
            out["sources"][name]["offline_posterior_accuracy"] = offline_accuracy(recogniser, items)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
