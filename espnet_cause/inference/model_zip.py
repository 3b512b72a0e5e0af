"""A packed model (``model.zip``): its layout, its checks, and unpacking it into the cache.

Layout inside the zip::

    meta.yaml        espnet_cause version, packing time, target (au | arkit), member names and
                     their sha256
    config.yaml      the training config; stats file paths rewritten to ``stats/<name>``
    model.pth        the state dict
    stats/*.npz      every statistics file the config refers to (feature and AU stats)
    onnx/            the encoder as ONNX graphs and the frontend numbers, for inference without
                     torch (:mod:`espnet_cause.inference.onnx`); absent for models that do not export

:func:`unpack_model` extracts a zip once into a cache directory keyed by the zip's sha256 and
returns a config whose stats paths are absolute paths into that directory, ready for
``CAUSETask.build_model_from_file``. Nothing is fetched from the network. Packing (writing the
zip) is :mod:`espnet_cause.inference.packing`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from espnet_cause.errors import CauseError
from espnet_cause.io.cache import HASH_CHUNK, cache_dir, sha256_file

logger = logging.getLogger(__name__)

META_NAME = "meta.yaml"
CONFIG_NAME = "config.yaml"
MODEL_NAME = "model.pth"
STATS_DIR = "stats"
#: Config keys (at any depth) whose values are files that travel with the model.
PACKED_KEY_SUFFIXES = ("stats_file",)


def default_cache_dir() -> Path:
    """Where model zips are unpacked: ``models/`` in :func:`espnet_cause.io.cache.cache_dir`."""
    return cache_dir("models")


def find_stats(node: Any, trail: str = "") -> list[tuple[str, str]]:
    """(dotted key, path) of every string under a key ending in :data:`PACKED_KEY_SUFFIXES`."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{trail}.{k}" if trail else str(k)
            if isinstance(v, str) and str(k).endswith(PACKED_KEY_SUFFIXES):
                found.append((key, v))
            elif isinstance(v, dict | list):
                found.extend(find_stats(v, key))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found.extend(find_stats(v, f"{trail}[{i}]"))
    return found


def replace_paths(node: Any, mapping: dict[str, str], trail: str = "") -> Any:
    """Copy of ``node`` with the values at the dotted keys of ``mapping`` replaced."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            key = f"{trail}.{k}" if trail else str(k)
            out[k] = mapping[key] if key in mapping else replace_paths(v, mapping, key)
        return out
    if isinstance(node, list):
        return [replace_paths(v, mapping, f"{trail}[{i}]") for i, v in enumerate(node)]
    return node


def open_zip(path: Path) -> zipfile.ZipFile:
    fix = "re-run the packing (python -m espnet_cause.bin.pack_model) or copy the file again"
    if not path.is_file():
        raise CauseError("model file not found", path=path, fix="check the --model path")
    if not zipfile.is_zipfile(path):
        raise CauseError("not a model zip (truncated or a different file type)", path=path, fix=fix)
    try:
        zf = zipfile.ZipFile(path)
        bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CauseError(f"corrupt model zip: {e}", path=path, fix=fix) from None
    if bad is not None:
        zf.close()
        raise CauseError(f"corrupt model zip: member {bad} fails its CRC check", path=path, fix=fix)
    names = set(zf.namelist())
    missing = [n for n in (META_NAME, CONFIG_NAME, MODEL_NAME) if n not in names]
    if missing:
        zf.close()
        raise CauseError(
            f"not an espnet-cause model zip: missing {', '.join(missing)}",
            path=path,
            fix="pack it with python -m espnet_cause.bin.pack_model",
        )
    return zf


def verify_members(zf: zipfile.ZipFile, zip_path: Path) -> dict:
    """Check every member listed in ``meta.yaml`` against its sha256; return the meta mapping.

    Raises:
        CauseError: naming the zip and the member whose bytes differ from what was packed.
    """
    fix = "re-pack the model from its training run (python -m espnet_cause.bin.pack_model)"
    try:
        meta = yaml.safe_load(zf.read(META_NAME).decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise CauseError(f"{META_NAME} in the zip is not valid YAML: {e}", path=zip_path) from None
    sums = meta.get("sha256") if isinstance(meta, dict) else None
    if not isinstance(sums, dict) or MODEL_NAME not in sums:
        raise CauseError(
            f"{META_NAME} in the zip lists no sha256 for {MODEL_NAME}", path=zip_path, fix=fix
        )
    names = set(zf.namelist())
    for name, expected in sums.items():
        if name not in names:
            raise CauseError(
                f"member {name} listed in {META_NAME} is missing", path=zip_path, fix=fix
            )
        h = hashlib.sha256()
        with zf.open(name) as f:
            while chunk := f.read(HASH_CHUNK):
                h.update(chunk)
        if h.hexdigest() != str(expected):
            raise CauseError(
                f"member {name} does not match its sha256 in {META_NAME} (changed after packing)",
                path=zip_path,
                fix=fix,
            )
    return meta


def _cache_intact(target: Path) -> bool:
    """True when an extraction is complete and its weights still match the packed sha256."""
    meta_path = target / META_NAME
    if not (meta_path.is_file() and (target / CONFIG_NAME).is_file()):
        return False
    if not (target / MODEL_NAME).is_file():
        return False
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        expected = meta["sha256"][MODEL_NAME]
    except (OSError, yaml.YAMLError, TypeError, KeyError, UnicodeDecodeError):
        return False
    if sha256_file(target / MODEL_NAME) != expected:
        logger.warning("%s: cached weights differ from the zip; unpacking again", target)
        return False
    return True


def unpack_model(
    zip_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None
) -> tuple[Path, Path]:
    """Extract a model zip (once) and return ``(config_path, model_file)``.

    The extraction directory is ``cache_dir / <first 16 hex of the zip's sha256>``. Every member
    is checked against the sha256 list in the zip's ``meta.yaml`` before it is used, and a cached
    extraction is reused only while its weights still match that list. Stats paths in the
    returned config are absolute paths into that directory.

    Raises:
        CauseError: naming ``zip_path`` if it is missing, truncated, not a model zip, or a
            member differs from its packed sha256.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise CauseError("model file not found", path=zip_path, fix="check the --model path")
    digest = sha256_file(zip_path)[:16]
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    target = root / digest
    config_path, model_file = target / CONFIG_NAME, target / MODEL_NAME
    if _cache_intact(target):
        return config_path, model_file

    with open_zip(zip_path) as zf:
        verify_members(zf, zip_path)
        try:
            config = yaml.safe_load(zf.read(CONFIG_NAME).decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise CauseError(
                f"{CONFIG_NAME} in the zip is not valid YAML: {e}", path=zip_path
            ) from None
        if not isinstance(config, dict):
            raise CauseError(f"{CONFIG_NAME} in the zip is not a YAML mapping", path=zip_path)
        for name in zf.namelist():
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise CauseError(f"unsafe member name {name!r} in model zip", path=zip_path)
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{digest}.", dir=root))
        try:
            zf.extractall(tmp)
            stats = {key: value for key, value in find_stats(config)}
            absolute = {key: str(target / value) for key, value in stats.items()}
            with open(tmp / CONFIG_NAME, "w", encoding="utf-8") as f:
                yaml.safe_dump(
                    replace_paths(config, absolute), f, sort_keys=False, allow_unicode=True
                )
            # Meta last: its presence marks a complete extraction.
            os.replace(tmp / META_NAME, tmp / f"{META_NAME}.part")
            if target.exists() and not _cache_intact(target):
                shutil.rmtree(target)  # interrupted or damaged extraction
            try:
                os.replace(tmp, target)
            except OSError:  # another process finished first
                if not (target / META_NAME).is_file():
                    raise
            else:
                os.replace(target / f"{META_NAME}.part", target / META_NAME)
        finally:
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(tmp)
    logger.info("unpacked %s into %s", zip_path, target)
    return config_path, model_file
