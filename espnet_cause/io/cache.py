"""The one cache directory and the one file checksum.

Everything espnet-cause keeps between runs (unpacked ``model.zip`` files, a downloaded face
landmarker model) lives under :func:`cache_dir`: ``$ESPNET_CAUSE_CACHE`` if set, else
``$XDG_CACHE_HOME/espnet_cause``, else ``~/.cache/espnet_cause``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Environment variable that moves the cache directory.
CACHE_ENV = "ESPNET_CAUSE_CACHE"
#: Bytes read at a time when hashing.
HASH_CHUNK = 1 << 20


def cache_dir(sub: str = "") -> Path:
    """The cache directory, or its sub-directory ``sub`` (not created)."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "espnet_cause"
    return Path(root) / sub if sub else Path(root)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
