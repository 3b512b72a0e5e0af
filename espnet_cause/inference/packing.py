"""Packing a trained CAUSE model into one file, ``model.zip`` (config, weights, statistics, ONNX).

The zip's layout and unpacking are :mod:`espnet_cause.inference.model_zip`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import yaml

import espnet_cause
from espnet_cause.au import au_index
from espnet_cause.errors import CauseError
from espnet_cause.inference.calibration import MOUTH_AUS, measure_scale, scale_au_stats
from espnet_cause.inference.model_zip import (
    CONFIG_NAME,
    META_NAME,
    MODEL_NAME,
    STATS_DIR,
    find_stats,
    replace_paths,
)
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.cache import sha256_file

logger = logging.getLogger(__name__)
#: The config key of the AU statistics (de-normalisation) that a calibration rewrites.
AU_STATS_KEY = "au_normalize_conf.stats_file"


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


def pack_model(
    train_config: str | os.PathLike,
    model_file: str | os.PathLike,
    output: str | os.PathLike,
    base_dir: str | os.PathLike | None = None,
    onnx: bool | None = None,
    calibrate_dir: str | os.PathLike | None = None,
    calibrate_aus: tuple[str, ...] = MOUTH_AUS,
) -> Path:
    """Write ``output`` (a zip) holding the config, the weights and the stats files.

    Args:
        train_config: The run's ``config.yaml``.
        model_file: The weights (e.g. ``valid.loss.best.pth``).
        output: The zip to write (atomically).
        base_dir: Directory that relative stats paths in the config are relative to; by default
            the current directory (as ESPnet writes them), falling back to the config's directory.
        onnx: Also write the ONNX graphs (``onnx/``, :mod:`espnet_cause.inference.onnx.export`): None
            when the model supports it (a model that does not is packed without them, with a
            warning saying why), True to require them, False to skip them.
        calibrate_dir: A dump dir (``wav.scp``, ``au.scp``, optional ``au_weight.scp``) to
            calibrate the output scale on (:mod:`espnet_cause.inference.calibration`): each AU
            of ``calibrate_aus`` gets its de-normalisation std (the weights' ``au_normalize.std``
            and the packed ``au_stats.npz``) multiplied by tracked / predicted std over the
            dir's weighted frames; ``meta.yaml`` records the figures under ``calibration``.
            None packs the weights as they are.
        calibrate_aus: The AUs to calibrate (default the mouth: AU25, AU26).

    Returns:
        The output path.

    Raises:
        CauseError: for a missing config, weights or stats file; with ``onnx=True``, a model
            that does not export; with ``calibrate_dir``, a model without AU de-normalisation
            or a dir that cannot calibrate (:func:`~espnet_cause.inference.calibration.measure_scale`).
    """
    train_config, model_file, output = Path(train_config), Path(model_file), Path(output)
    config = _load_yaml(train_config, "training config")
    if not model_file.is_file():
        raise CauseError(
            "model file not found", path=model_file, fix="pass the .pth the training wrote"
        )
    bases = [Path(base_dir)] if base_dir else [Path.cwd(), train_config.parent]
    source_model = model_file

    rewrites: dict[str, str] = {}
    members: dict[str, Path] = {}
    for key, value in find_stats(config):
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

    packed_config = replace_paths(config, rewrites)
    with tempfile.TemporaryDirectory() as work:
        calibration = None
        if calibrate_dir is not None:
            model_file, calibration = _calibrate(
                config, model_file, members, rewrites, Path(calibrate_dir), calibrate_aus,
                Path(work),
            )  # fmt: skip
        graphs, onnx_meta = {}, None
        if onnx is not False:
            absolute = {key: str(members[arc].resolve()) for key, arc in rewrites.items()}
            graphs, onnx_meta = _export_onnx(
                replace_paths(config, absolute), model_file, required=bool(onnx)
            )
        config_text = yaml.safe_dump(packed_config, sort_keys=False, allow_unicode=True)
        meta = {
            "espnet_cause_version": espnet_cause.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "source_config": str(train_config.resolve()),
            "source_model": str(source_model.resolve()),
            "config": CONFIG_NAME,
            "model": MODEL_NAME,
            "stats": dict(rewrites),
            # what the model outputs: au (17 AUs, 0-5) or arkit (51 blendshapes, 0-1)
            "target": (config.get("model_conf") or {}).get("target", "au"),
            "sha256": {MODEL_NAME: sha256_file(model_file)}
            | {name: sha256_file(src) for name, src in members.items()}
            | {name: hashlib.sha256(data).hexdigest() for name, data in graphs.items()},
        }
        if calibration is not None:
            meta["calibration"] = calibration
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
    logger.info("packed %s (%d stats files) into %s", source_model, len(members), output)
    return output


def _export_onnx(config: dict, model_file: Path, required: bool) -> tuple[dict, dict]:
    """The ``onnx/`` members and their ``meta.yaml`` section for a config with absolute paths.

    A model that does not export gives no members and ``{"skipped": reason}`` (a warning), or,
    when ``required``, raises the reason.
    """
    # torch + onnx, loaded when a graph is exported
    from espnet_cause.inference.onnx.export import OPSET, NotExportable, export_graphs

    net = _build(config, model_file, "export it to ONNX").model
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


def _build(config: dict, model_file: Path, why: str) -> Speech2AU:
    """The torch model of a config with absolute stats paths and its weights."""
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / CONFIG_NAME
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        try:
            return Speech2AU(train_config=config_path, model_file=model_file, backend="torch")
        except CauseError:
            raise
        except Exception as e:  # the task's builder fails in many ways on a foreign config
            raise CauseError(
                f"cannot build the model to {why}: {type(e).__name__}: {e}",
                path=model_file,
                fix="pass the config.yaml and weights of one training run (or --onnx no)",
            ) from None


def _calibrate(
    config: dict,
    model_file: Path,
    members: dict[str, Path],
    rewrites: dict[str, str],
    data_dir: Path,
    aus: tuple[str, ...],
    work: Path,
) -> tuple[Path, dict]:
    """Scale the model's AU de-normalisation to the tracked spread of ``data_dir``.

    Writes the calibrated weights (and AU stats, replacing their entry in ``members``) into
    ``work``; returns the weights' path and the ``calibration`` section of ``meta.yaml``.
    """
    import torch  # the weights are a torch state dict

    absolute = {key: str(members[arc].resolve()) for key, arc in rewrites.items()}
    model = _build(replace_paths(config, absolute), model_file, "calibrate it")
    scales = measure_scale(model, data_dir, aus)
    state = torch.load(model_file, map_location="cpu")
    if "au_normalize.std" not in state:
        raise CauseError(
            "the model has no AU de-normalisation to calibrate (au_normalize.std)",
            path=model_file,
            fix="train with au_normalize: global_mvn (norm_vars true), or pack without "
            "--calibrate_dir",
        )
    factors = np.ones(state["au_normalize.std"].shape[0])
    for name, scale in scales.items():
        factors[au_index(name)] = scale.factor
    state["au_normalize.std"] = state["au_normalize.std"] * torch.as_tensor(factors).to(
        state["au_normalize.std"]
    )
    calibrated = work / MODEL_NAME
    torch.save(state, calibrated)
    arc = rewrites.get(AU_STATS_KEY)
    if arc is not None:
        eps = float((config.get("au_normalize_conf") or {}).get("eps", 1.0e-20))
        with np.load(members[arc]) as stats:
            scaled = scale_au_stats(dict(stats), factors, eps=eps)
        members[arc] = work / Path(arc).name
        np.savez(members[arc], **scaled)
    for name, scale in scales.items():
        logger.info(
            "calibrated %s: predicted std %.3f, tracked %.3f over %d frames of %s: x %.3f",
            name, scale.predicted_std, scale.tracked_std, scale.frames, data_dir, scale.factor,
        )  # fmt: skip
    return calibrated, {
        "data_dir": str(data_dir),
        "rule": "au_normalize.std x tracked std / predicted std (frames weighing > 0)",
        "aus": {name: scale.as_dict() for name, scale in scales.items()},
    }
