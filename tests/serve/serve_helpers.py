"""Helpers of the live-service tests (a module of its own: test modules import it by name)."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_tiny_model():
    """``make_tiny_model`` of tests/bin/test_infer.py (the suite's one tiny-model builder)."""
    spec = importlib.util.spec_from_file_location(
        "_tiny_infer", HERE.parent / "bin" / "test_infer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_tiny_model


def speechlike(seconds: float, fs: int = 16000, seed: int = 0) -> np.ndarray:
    """(N,) float32 noise with a syllable-rate loudness envelope (speech-like for the model)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2
    return (0.2 * envelope * rng.standard_normal(t.size)).astype(np.float32)


def changed_pixels(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels whose colour differs by more than 10 levels in some channel."""
    return int((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 10).sum())


def pcm16(samples: np.ndarray) -> bytes:
    """float [-1, 1] -> little-endian int16 bytes."""
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving an app on a free loopback port in a background thread."""

    def __init__(self, app, **config) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", **config)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
