"""Avatar figures on one speech file: curves that move, head motion range, viseme counts,
and the Live Link sender's pacing over loopback. Prints one JSON line.

    python bench/avatar.py --wav espnet_cause/assets/arctic_a0007.wav
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES
from espnet_cause.avatar.animation import animate_speech
from espnet_cause.avatar.livelink_udp import send_take
from espnet_cause.avatar.visemes import VISEME_NAMES
from espnet_cause.inference import Speech2AU
from espnet_cause.io.audio import load_speech


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wav", required=True)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    samples, sr = load_speech(args.wav, name=args.wav)
    s2a = Speech2AU(args.model)
    started = time.perf_counter()
    take = animate_speech(s2a, samples, sr)
    compute = time.perf_counter() - started
    ranges = np.ptp(take.arkit, axis=0)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(1.0)
    arrivals: list[float] = []

    def listen() -> None:
        while True:
            try:
                receiver.recv(65536)
            except TimeoutError:
                return
            arrivals.append(time.monotonic())

    thread = threading.Thread(target=listen)
    thread.start()
    sent = send_take(take, "127.0.0.1", receiver.getsockname()[1])
    thread.join()
    gaps = np.diff(arrivals) * 1000
    print(
        json.dumps(
            {
                "wav": args.wav,
                "seconds": round(len(samples) / sr, 3),
                "animate_s": round(compute, 3),
                "curves_moving": int((ranges > 0.02).sum()),
                "still": [n for n, r in zip(ARKIT_NAMES, ranges, strict=True) if r <= 0.02],
                "head_range_deg": np.round(
                    np.rad2deg(np.ptp(take.rotations[:, :3], 0)), 2
                ).tolist(),
                "viseme_frames": dict(
                    zip(VISEME_NAMES, np.bincount(take.visemes.argmax(1), minlength=15).tolist())
                ),
                "livelink_packets": len(arrivals),
                "livelink_span_s": round(arrivals[-1] - arrivals[0], 3),
                "livelink_gap_ms_p50_p95_max": np.round(
                    np.percentile(gaps, [50, 95, 100]), 2
                ).tolist(),
                "sender": sent,
            }
        )
    )


if __name__ == "__main__":
    main()
