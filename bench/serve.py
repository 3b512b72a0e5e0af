"""Live service load test: N clients stream speech at real-time pace over loopback; one JSON line.

Starts ``python -m espnet_cause.bin.serve`` on a free loopback port (or uses ``--url``), then for
each client count in ``--clients`` (ascending) runs that many WebSocket clients at once. Each
streams the speech (``--wav``, repeated to ``--seconds``) in 40 ms chunks of int16 PCM, each chunk
sent at its real-time moment (clients start at random offsets within one chunk), and receives
the AU frames. Two latencies per frame k:

- ``latency``: from sending the chunk that holds the frame's instant k / au_fps (chunk k for
  40 ms chunks at 25 fps) to the arrival of frame k: what a listener sees, the model's
  look-ahead (``lookahead_ms`` from ``/health``) included;
- ``server``: from sending the chunk that completed the audio frame k needs (up to
  k / au_fps + look-ahead) to its arrival: the service's own delay (network, queueing, compute).

Frames after the last chunk are timed from the end message. Per level: frames received (and
expected), p50/p95/max of both in ms, the worst send
slip (how late the client sent its chunks: above one chunk the client, not the server, fell
behind; reported as ``client_kept_pace``, since the bench's own clients share the CPU with the
server) and ``realtime``: every frame arrived and p95 <= ``--realtime_ms``. ``max_realtime_clients`` is the largest real-time level before the first one
that is not. Targets (issue 12): 1 client p95 <= 150 ms, 8 clients p95 <= 250 ms.

The model: ``--model MODEL.zip`` or a built-in name (the server's live default: ``--model
expressive`` streams the expressive model's live variant, reported as ``live_model``);
``--random_cnn`` packs a randomly initialised causal cnn of
conf/cause_cnn.yaml (the same compute as a trained one) into a temporary directory.

Usage: python bench/serve.py (--model MODEL.zip | --random_cnn) [--wav speech.wav]
       [--clients 1,2,4,8,16] [--seconds 10] [--url ws://127.0.0.1:8000/stream]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHUNK_SECONDS = 0.04
TARGETS_MS = {1: 150.0, 8: 250.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_cnn_zip(workdir: Path) -> Path:
    """A randomly initialised causal cnn (conf/cause_cnn.yaml), packed as model.zip."""
    import argparse as ap

    import torch
    import yaml

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from infer import random_conf  # bench/infer.py: the same stand-in model

    from espnet_cause.inference.packing import pack_model
    from espnet_cause.tasks.cause import CAUSETask

    conf = random_conf("cnn", True, workdir)
    config = workdir / "config.yaml"
    config.write_text(yaml.safe_dump(conf))
    model = CAUSETask.build_model(ap.Namespace(**conf))
    torch.save(model.state_dict(), workdir / "model.pth")
    return pack_model(config, workdir / "model.pth", workdir / "model.zip")


def start_server(model: Path | str | None, port: int, max_streams: int, log) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "espnet_cause.bin.serve", "--port", str(port), "--verbose", "0"]
    cmd += ["--max_streams", str(max_streams)]
    if model is not None:
        cmd += ["--model", str(model)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def wait_health(base: str, proc: subprocess.Popen | None, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"the server exited with code {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"no answer from {base}/health") from None
            time.sleep(0.3)


async def run_client(url: str, pcm: bytes, fs: int, au_fps: float, lookahead: float, t0: float):
    """Stream ``pcm`` at real-time pace from ``t0``; return (latencies s, frames, slip s)."""
    from websockets.asyncio.client import connect

    step = int(round(CHUNK_SECONDS * fs)) * 2  # bytes per chunk
    chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
    ends = np.cumsum([len(c) // 2 for c in chunks])  # samples sent after each chunk
    sent_at = [math.nan] * len(chunks)
    received: dict[int, float] = {}
    end_sent = [math.nan]
    slip = 0.0
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"sample_rate": fs}))

        async def sender():
            nonlocal slip
            for j, chunk in enumerate(chunks):
                due = t0 + (j + 1) * CHUNK_SECONDS  # a microphone delivers a chunk at its end
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                slip = max(slip, time.perf_counter() - due)
                sent_at[j] = time.perf_counter()
                await ws.send(chunk)
            end_sent[0] = time.perf_counter()
            await ws.send(json.dumps({"type": "end"}))

        async def receiver():
            async for message in ws:
                now = time.perf_counter()
                msg = json.loads(message)
                if msg["type"] == "frame":
                    received[round(msg["time"] * au_fps)] = now
                elif msg["type"] == "end":
                    return msg["frames"]
                else:
                    raise RuntimeError(f"server error: {msg}")
            return None

        send_task = asyncio.create_task(sender())
        frames = await receiver()
        await send_task
    latencies, server = [], []
    for k, t in received.items():
        for need, out in (
            (k * fs / au_fps + 1, latencies),
            (k * fs / au_fps + lookahead * fs, server),
        ):
            j = int(np.searchsorted(ends, math.ceil(need)))
            out.append(t - (sent_at[j] if j < len(chunks) else end_sent[0]))
    return latencies, server, frames, slip


async def run_level(n: int, url: str, pcm: bytes, fs: int, health: dict, realtime_ms: float):
    au_fps, lookahead = float(health["au_fps"]), health["lookahead_ms"] / 1000.0
    base = time.perf_counter() + 0.5
    rng = random.Random(n)
    results = await asyncio.gather(
        *(
            run_client(url, pcm, fs, au_fps, lookahead, base + rng.uniform(0, CHUNK_SECONDS))
            for _ in range(n)
        ),
        return_exceptions=True,
    )
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    good = [r for r in results if not isinstance(r, BaseException)]
    expected = math.ceil(len(pcm) // 2 / fs * au_fps) * n
    latencies = np.array([x for r in good for x in r[0]]) * 1000.0
    server = np.array([x for r in good for x in r[1]]) * 1000.0
    frames = sum(len(r[0]) for r in good)
    slip = max((r[3] for r in good), default=math.nan) * 1000.0
    level = {"clients": n, "frames": frames, "expected_frames": expected}
    for name, values in (("", latencies), ("server_", server)):
        for stat, q in (("p50", 50), ("p95", 95), ("max", 100)):
            level[f"{name}{stat}_ms"] = (
                round(float(np.percentile(values, q)), 1) if frames else None
            )
    level["send_slip_ms"] = round(slip, 1)
    level["client_kept_pace"] = bool(slip <= CHUNK_SECONDS * 1000.0)
    level["realtime"] = bool(not errors and frames == expected and level["p95_ms"] <= realtime_ms)
    if errors:
        level["errors"] = errors[:3]
    return level


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="CAUSE model.zip (causal) or a built-in name (expressive)."
    )
    parser.add_argument("--random_cnn", action="store_true", help="Randomly initialised cnn.")
    parser.add_argument("--wav", type=Path, default=None, help="Speech (default: a noise signal).")
    parser.add_argument("--clients", default="1,2,4,8,16", help="Client counts, ascending.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Audio per client.")
    parser.add_argument("--realtime_ms", type=float, default=250.0, help="p95 budget of a level.")
    parser.add_argument("--url", default=None, help="An already running server's /stream URL.")
    args = parser.parse_args()
    levels = sorted({int(c) for c in args.clients.split(",")})

    from espnet_cause.io.audio import load_audio

    fs = 16000
    if args.wav is not None:
        speech, _ = load_audio(args.wav, target_sr=fs)
    else:
        speech = np.random.default_rng(0).normal(0, 0.1, 4 * fs).astype(np.float32)
    speech = np.tile(speech, int(np.ceil(args.seconds * fs / len(speech))))[
        : int(args.seconds * fs)
    ]
    pcm = (np.clip(speech, -1, 1) * 32767).astype("<i2").tobytes()

    proc = None
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        model = random_cnn_zip(Path(tmp)) if args.random_cnn else args.model
        if args.url is None:
            port = free_port()
            url = f"ws://127.0.0.1:{port}/stream"
            log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed with the dir
            proc = start_server(model, port, max(levels), log)
        else:
            url = args.url
        base = url.replace("ws://", "http://").replace("wss://", "https://").rsplit("/", 1)[0]
        try:
            health = wait_health(base, proc)
            results = []
            for n in levels:
                results.append(asyncio.run(run_level(n, url, pcm, fs, health, args.realtime_ms)))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    max_rt = 0
    for level in results:
        if not level["realtime"]:
            break
        max_rt = level["clients"]
    by_n = {level["clients"]: level for level in results}
    targets = {
        f"p95_{n}_clients_ms<={limit:g}": (by_n[n]["p95_ms"] or math.inf) <= limit
        for n, limit in TARGETS_MS.items()
        if n in by_n
    }
    print(
        json.dumps(
            {
                "bench": "serve",
                "model": health["model"]
                if args.model
                else "random causal cnn (conf/cause_cnn.yaml)",
                "live_model": health.get("live_model"),
                "wav": str(args.wav) if args.wav else None,
                "seconds_per_client": args.seconds,
                "lookahead_ms": health["lookahead_ms"],
                "levels": results,
                "max_realtime_clients": max_rt,
                "targets_met": targets,
                "load_avg_1min": round(os.getloadavg()[0], 2),
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
