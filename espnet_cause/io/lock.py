"""One writer at a time: an ``flock`` on a lock file that names its holder."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

#: Locks held by this process: resolved lock file -> [open lock file, nesting depth].
_HELD: dict[str, list] = {}


def _holder() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
    }


def _describe(holder: dict) -> str:
    return (
        f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}, "
        f"command: {holder.get('command')}"
    )


def _read_holder(f) -> dict | None:
    f.seek(0)
    text = f.read().decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        holder = json.loads(text)
    except json.JSONDecodeError:
        return {"pid": "?", "host": "?", "started": "?", "command": text[:200]}
    return holder if isinstance(holder, dict) else None


@contextlib.contextmanager
def hold_lock(lock: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock file ``lock`` for the block: one writer for what it guards.

    Re-entrant within a process (a job may call the batch runner several times under one
    hold). The lock file names the holder as JSON (pid, host, start time, command). The lock is
    an ``flock``, which the kernel drops when its holder dies: after a ``kill -9`` the next run
    takes it over (and says so).

    Raises:
        CauseError: naming the lock file and its holder when another live process holds it.
    """
    import fcntl

    lock = Path(lock)
    lock.parent.mkdir(parents=True, exist_ok=True)
    key = str(lock.resolve())
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield lock
        finally:
            _HELD[key][1] -= 1
        return
    f = open(os.open(lock, os.O_RDWR | os.O_CREAT, 0o644), "r+b", buffering=0)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(f) or {}
        f.close()
        raise CauseError(
            f"another run is writing to this output directory ({_describe(holder)})",
            path=lock,
            fix="wait for it to finish, or give another output directory",
        ) from None
    stale = _read_holder(f)
    if stale is not None:
        logger.warning(
            "%s: taking over a stale lock (%s): that run ended without releasing it",
            lock,
            _describe(stale),
        )
    f.seek(0)
    f.truncate()
    f.write((json.dumps(_holder()) + "\n").encode("utf-8"))
    _HELD[key] = [f, 1]
    try:
        yield lock
    finally:
        del _HELD[key]
        try:
            f.seek(0)
            f.truncate()  # an empty lock file is a free one
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
