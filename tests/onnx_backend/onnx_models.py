"""Tiny CAUSE models of every exportable encoder, packed into model zips (test helper)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from espnet_cause.au import NUM_AUS

FS = 16000
N_MELS = 12
#: encoder name -> (encoder, encoder_conf); "_c" ones are causal and stream.
ENCODERS = {
    "cnn": ("cnn", {"hidden_size": 16, "channels": [16, 8]}),
    "cnn_c": ("cnn", {"hidden_size": 16, "channels": [16, 8], "causal": True}),
    "cnn_norm_c": (
        "cnn",
        {"hidden_size": 16, "channels": [16, 8], "causal": True, "input_norm_frames": 7},
    ),  # fmt: skip
    "dcnn_c": (
        "dcnn",
        {"hidden_size": 8, "channels": [8, 8, 4], "dilations": [1, 3, 9], "causal": True},
    ),  # fmt: skip
    "rnn": ("rnn", {"hidden_size": 8, "rnn_units": 4, "num_layers": 2}),
    "rnn_c": ("rnn", {"hidden_size": 8, "rnn_units": 4, "num_layers": 2, "causal": True}),
    "mlp": ("mlp", {"units": [16, 8]}),
}


def write_model(
    root: Path,
    name: str,
    frontend: str = "default",
    feats_resample: str = "avg",
    target: str = "au",
) -> tuple[Path, Path]:
    """Stats, config.yaml and random weights of a tiny model; returns (config, weights)."""
    import torch

    from espnet_cause.tasks.cause import CAUSETask

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 1000.0
    dim = N_MELS + (3 if frontend == "prosody" else 0)
    mean = rng.normal(-6, 2, dim)
    np.savez(root / "feats_stats.npz", count=np.array(n), sum=mean * n,
             sum_square=(mean**2 + 4.0) * n)  # fmt: skip
    width = NUM_AUS if target == "au" else 51
    au_mean = rng.uniform(0.5, 2.0, width) / (1 if target == "au" else 5)
    np.savez(root / "au_stats.npz", count=np.array(n), sum=au_mean * n,
             sum_square=(au_mean**2 + 0.5) * n)  # fmt: skip
    encoder, encoder_conf = ENCODERS[name]
    frontend_conf = {"fs": FS, "n_fft": 512, "win_length": 400, "hop_length": 160,
                     "n_mels": N_MELS}  # fmt: skip
    if frontend == "default":
        frontend_conf["frontend_conf"] = None
    config = {
        "frontend": frontend,
        "frontend_conf": frontend_conf,
        "normalize": "global_mvn",
        "normalize_conf": {"stats_file": str(root / "feats_stats.npz")},
        "au_normalize": "global_mvn",
        "au_normalize_conf": {"stats_file": str(root / "au_stats.npz")},
        "encoder": encoder,
        "encoder_conf": encoder_conf,
        "model_conf": {"au_fps": 25, "feats_resample": feats_resample, "target": target},
    }
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    torch.manual_seed(0)
    model, _ = CAUSETask.build_model_from_file(config_path, None)
    for p in model.output_layer.parameters():  # outputs that move, away from the clip bounds
        torch.nn.init.normal_(p, std=0.3)
    pth = root / "model.pth"
    torch.save(model.state_dict(), pth)
    return config_path, pth


def packed(root: Path, name: str, **kwargs) -> Path:
    """``write_model`` packed into ``root/<name>.zip`` (with its ONNX graphs)."""
    from espnet_cause.inference.packing import pack_model

    config, pth = write_model(root / name, name, **kwargs)
    return pack_model(config, pth, root / f"{name}.zip")


def signals() -> dict[str, np.ndarray]:
    """Test audio at 16 kHz: quiet noise, loud harmonic 'speech' with pauses, leading zeros."""
    rng = np.random.default_rng(1)
    t = np.arange(int(2.3 * FS)) / FS
    f0 = 120 + 40 * np.sin(2 * np.pi * 1.3 * t)
    voiced = sum(np.sin(2 * np.pi * np.cumsum(f0 * h) / FS) / h for h in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 2.1 * t) * 1.5, 0, 1)  # syllables and pauses
    loud = np.clip(0.9 * voiced * envelope + 0.05 * rng.normal(size=t.size), -1, 1)
    padded = np.concatenate([np.zeros(3000), loud[:9000]])  # digital silence, then speech
    return {
        "quiet": (1e-4 * rng.normal(size=16000 + 37)).astype(np.float32),
        "loud": loud.astype(np.float32),
        "zeros_then_speech": padded.astype(np.float32),
        "short": (0.3 * rng.normal(size=641)).astype(np.float32),
    }
