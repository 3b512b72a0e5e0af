"""A trained CAUSE model as one file: ``model.zip`` with config, weights and statistics.

Layout inside the zip::

    meta.yaml        espnet_cause version, packing time, target (au | arkit), member names and
                     their sha256
    config.yaml      the training config; stats file paths rewritten to ``stats/<name>``
    model.pth        the state dict
    stats/*.npz      every statistics file the config refers to (feature and AU stats)
    onnx/            the encoder as ONNX graphs and the frontend numbers, for inference without
                     torch (:mod:`espnet_cause.onnx`); absent for models that do not export

:func:`unpack_model` extracts a zip once into a cache directory keyed by the zip's sha256 and
returns a config whose stats paths are absolute paths into that directory, ready for
``CAUSETask.build_model_from_file``. Nothing is fetched from the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import yaml

import espnet_cause
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
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


def _load_yaml(path: Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise CauseError(f"{what} not found", path=path, fix="check the path") from None
    except yaml.YAMLError as e:
        raise CauseError(f"{what} is not valid YAML: {e}", path=path) from None
    if not isinstance(data, dict):
        raise CauseError(
            f"{what} is not a YAML mapping", path=path, fix="pass the config.yaml of a training run"
        )
    return data


def _find_stats(node: Any, trail: str = "") -> list[tuple[str, str]]:
    """(dotted key, path) of every string under a key ending in :data:`PACKED_KEY_SUFFIXES`."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{trail}.{k}" if trail else str(k)
            if isinstance(v, str) and str(k).endswith(PACKED_KEY_SUFFIXES):
                found.append((key, v))
            elif isinstance(v, dict | list):
                found.extend(_find_stats(v, key))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found.extend(_find_stats(v, f"{trail}[{i}]"))
    return found


def _replace(node: Any, mapping: dict[str, str], trail: str = "") -> Any:
    """Copy of ``node`` with the values at the dotted keys of ``mapping`` replaced."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            key = f"{trail}.{k}" if trail else str(k)
            out[k] = mapping[key] if key in mapping else _replace(v, mapping, key)
        return out
    if isinstance(node, list):
        return [_replace(v, mapping, f"{trail}[{i}]") for i, v in enumerate(node)]
    return node


def pack_model(
    train_config: str | os.PathLike,
    model_file: str | os.PathLike,
    output: str | os.PathLike,
    base_dir: str | os.PathLike | None = None,
    onnx: bool | None = None,
) -> Path:
    """Write ``output`` (a zip) holding the config, the weights and the stats files.

    Args:
        train_config: The run's ``config.yaml``.
        model_file: The weights (e.g. ``valid.loss.best.pth``).
        output: The zip to write (atomically).
        base_dir: Directory that relative stats paths in the config are relative to; by default
            the current directory (as ESPnet writes them), falling back to the config's directory.
        onnx: Also write the ONNX graphs (``onnx/``, :mod:`espnet_cause.onnx.export`): None
            when the model supports it (a model that does not is packed without them, with a
            warning saying why), True to require them, False to skip them.

    Returns:
        The output path.

    Raises:
        CauseError: for a missing config, weights or stats file; with ``onnx=True``, a model
            that does not export.
    """
    train_config, model_file, output = Path(train_config), Path(model_file), Path(output)
    config = _load_yaml(train_config, "training config")
    if not model_file.is_file():
        raise CauseError(
            "model file not found", path=model_file, fix="pass the .pth the training wrote"
        )
    bases = [Path(base_dir)] if base_dir else [Path.cwd(), train_config.parent]

    rewrites: dict[str, str] = {}
    members: dict[str, Path] = {}
    for key, value in _find_stats(config):
        p = Path(value)
        candidates = [p] if p.is_absolute() else [b / p for b in bases]
        src = next((c for c in candidates if c.is_file()), None)
        if src is None:
            raise CauseError(
                f"config key {key} names a stats file that does not exist: {value}",
                path=train_config,
                fix="run from the recipe directory (paths are relative to it) or pass --base_dir",
            )
        arcname = f"{STATS_DIR}/{src.name}"
        n = 1
        while arcname in members and members[arcname].resolve() != src.resolve():
            arcname = f"{STATS_DIR}/{n}_{src.name}"
            n += 1
        members[arcname] = src
        rewrites[key] = arcname

    packed_config = _replace(config, rewrites)
    graphs, onnx_meta = {}, None
    if onnx is not False:
        absolute = {key: str(members[arc].resolve()) for key, arc in rewrites.items()}
        graphs, onnx_meta = _export_onnx(
            _replace(config, absolute), model_file, required=bool(onnx)
        )
    config_text = yaml.safe_dump(packed_config, sort_keys=False, allow_unicode=True)
    meta = {
        "espnet_cause_version": espnet_cause.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "source_config": str(train_config.resolve()),
        "source_model": str(model_file.resolve()),
        "config": CONFIG_NAME,
        "model": MODEL_NAME,
        "stats": dict(rewrites),
        # what the model outputs: au (17 AUs, 0-5) or arkit (51 blendshapes, 0-1)
        "target": (config.get("model_conf") or {}).get("target", "au"),
        "sha256": {MODEL_NAME: sha256_file(model_file)}
        | {name: sha256_file(src) for name, src in members.items()}
        | {name: hashlib.sha256(data).hexdigest() for name, data in graphs.items()},
    }
    if onnx_meta is not None:
        meta["onnx"] = onnx_meta
    with atomic_write(output) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(META_NAME, yaml.safe_dump(meta, sort_keys=False))
            zf.writestr(CONFIG_NAME, config_text)
            zf.write(model_file, MODEL_NAME)
            for name, src in members.items():
                zf.write(src, name)
            for name, data in graphs.items():
                zf.writestr(name, data)
    logger.info("packed %s (%d stats files) into %s", model_file, len(members), output)
    return output


def _export_onnx(config: dict, model_file: Path, required: bool) -> tuple[dict, dict]:
    """The ``onnx/`` members and their ``meta.yaml`` section for a config with absolute paths.

    A model that does not export gives no members and ``{"skipped": reason}`` (a warning), or,
    when ``required``, raises the reason.
    """
    from espnet_cause.inference import Speech2AU
    from espnet_cause.onnx.export import OPSET, NotExportable, export_graphs

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / CONFIG_NAME
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        try:
            net = Speech2AU(train_config=config_path, model_file=model_file, backend="torch").model
        except CauseError:
            raise
        except Exception as e:  # the task's builder fails in many ways on a foreign config
            raise CauseError(
                f"cannot build the model to export it to ONNX: {type(e).__name__}: {e}",
                path=model_file,
                fix="pass the config.yaml and weights of one training run (or --onnx no)",
            ) from None
    try:
        graphs = export_graphs(net)
    except NotExportable as e:
        if required:
            raise
        logger.warning("packing without ONNX graphs (inference will need torch): %s", e)
        return {}, {"skipped": e.message}
    import torch

    streaming = any(name.endswith("stream.onnx") for name in graphs)
    meta = {"opset": OPSET, "members": sorted(graphs), "streaming": streaming,
            "torch_version": str(torch.__version__)}  # fmt: skip
    logger.info("exported ONNX graphs: %s", ", ".join(sorted(graphs)))
    return graphs, meta


def _open_zip(path: Path) -> zipfile.ZipFile:
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


def _verify_members(zf: zipfile.ZipFile, zip_path: Path) -> dict:
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

    with _open_zip(zip_path) as zf:
        _verify_members(zf, zip_path)
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
            stats = {key: value for key, value in _find_stats(config)}
            absolute = {key: str(target / value) for key, value in stats.items()}
            with open(tmp / CONFIG_NAME, "w", encoding="utf-8") as f:
                yaml.safe_dump(_replace(config, absolute), f, sort_keys=False, allow_unicode=True)
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
