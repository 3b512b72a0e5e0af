"""Test media made by code, not shipped: the AU track of the smiling clip, OpenFace 2.0 CSVs.

Used by ``tests/conftest.py`` (session fixtures ``smile_video``, ``openface20_csv``) and by the
tests that compare against the known values (``from made_fixtures import openface20_aus``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The smiling clip: frame rate, frames, when the smile starts and how long the ramp takes.
SMILE_FPS = 30
SMILE_FRAMES = 72
SMILE_ONSET_S = 0.7
SMILE_RAMP_S = 0.7
SMILE_AU12 = 5.0
#: The clip is 640 px wide (the photo is 512): downscaled copies (320 wide) keep 64-byte rows.
SMILE_WIDTH = 640


def widen(image: np.ndarray, width: int) -> np.ndarray:
    """Pad an (H, W, 3) photo to ``width`` columns by repeating its left and right edge columns."""
    extra = width - image.shape[1]
    return np.pad(image, ((0, 0), (extra // 2, extra - extra // 2), (0, 0)), mode="edge")


def au_row(**values: float) -> np.ndarray:
    """One (17,) float32 AU frame, zero except the named AUs (``au_row(AU12=4, AU25=2)``)."""
    from espnet_cause.au import NUM_AUS, au_index

    row = np.zeros(NUM_AUS, np.float32)
    for name, value in values.items():
        row[au_index(name)] = value
    return row


def smile_aus() -> np.ndarray:
    """The AU track that drives ``smile_video``: (72, 17), only AU12 moves (0 -> 5)."""
    from espnet_cause.au import NUM_AUS, au_index

    t = np.arange(SMILE_FRAMES) / SMILE_FPS
    aus = np.zeros((SMILE_FRAMES, NUM_AUS), np.float32)
    aus[:, au_index("AU12")] = SMILE_AU12 * np.clip((t - SMILE_ONSET_S) / SMILE_RAMP_S, 0, 1)
    return aus


def openface20_columns() -> list[str]:
    """The 431 columns of OpenFace 2.0 FeatureExtraction's CSV, in its order."""
    from espnet_cause.au import AU_INTENSITY_COLUMNS, AU_PRESENCE_NAMES

    cols = ["frame", "timestamp", "confidence", "success"]
    cols += [f"gaze_{e}_{a}" for e in (0, 1) for a in "xyz"]
    cols += [f"pose_{k}" for k in ("Tx", "Ty", "Tz", "Rx", "Ry", "Rz")]
    cols += [f"{axis}_{i}" for axis in ("x", "y", "X", "Y", "Z") for i in range(68)]
    cols += ["p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"] + [f"p_{i}" for i in range(34)]
    cols += list(AU_INTENSITY_COLUMNS) + [f"{n}_c" for n in AU_PRESENCE_NAMES]
    return cols


def openface20_aus(num_frames: int = 100) -> np.ndarray:
    """Known AU intensities of ``openface20_csv``: (num_frames, 17), 0-5, 4 decimals."""
    rng = np.random.default_rng(20)
    return np.round(rng.uniform(0.0, 5.0, (num_frames, 17)), 4).astype(np.float32)


def write_openface20_csv(path: Path, num_frames: int = 100, row_sep: str = ",") -> Path:
    """Write an OpenFace 2.0 CSV: header joined by ``", "``, rows by ``row_sep``, 30 fps.

    The columns that are not AUs hold filler numbers (gaze, pose, landmarks, shape parameters);
    no trailing newline, as in OpenFace's own test file.
    """
    from espnet_cause.au import AU_NAMES, AU_PRESENCE_NAMES

    cols = openface20_columns()
    aus = openface20_aus(num_frames)
    rng = np.random.default_rng(21)
    lines = [", ".join(cols)]
    first_au = cols.index("AU01_r")
    for k in range(num_frames):
        values = [str(k + 1), f"{k / SMILE_FPS:g}", "0.883333", "1"]
        values += [f"{v:g}" for v in rng.normal(0, 0.3, first_au - 4)]
        values += [f"{v:g}" for v in aus[k]]
        present = {name: v > 1 for name, v in zip(AU_NAMES, aus[k])}  # AU28_c has no _r
        values += ["1" if present.get(name, False) else "0" for name in AU_PRESENCE_NAMES]
        assert len(values) == len(cols)
        lines.append(row_sep.join(values))
    path.write_text("\n".join(lines))
    return path


def write_face_dir(root: Path, num: int, seed: int = 0) -> Path:
    """A GANimation training dir of ``num`` random 40 px "faces" with random AU rows (0-5).

    Returns ``root`` with ``faces/<i>.png`` and ``aus.csv`` (``file,AU01_r,...,AU45_r``).
    """
    import csv

    import cv2

    from espnet_cause.au import AU_INTENSITY_COLUMNS

    (root / "faces").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    with open(root / "aus.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", *AU_INTENSITY_COLUMNS])
        for i in range(num):
            cv2.imwrite(
                str(root / f"faces/{i}.png"), (rng.random((40, 40, 3)) * 255).astype(np.uint8)
            )
            w.writerow([f"faces/{i}.png", *np.round(rng.random(17) * 5, 3)])
    return root


#: A tiny GANimation at 32 px for training tests: 2 critic steps per generator step, a checkpoint
#: every 2 steps.
TINY_GANIMATION_CONF = {
    "image_size": 32,
    "generator_conf": {"conv_dim": 4, "num_res_blocks": 1},
    "discriminator_conf": {"conv_dim": 4, "num_layers": 3, "max_dim": 16},
    "optim_conf": {"lr": 1.0e-4, "betas": [0.5, 0.999]},
    "dataset_conf": {"cache": True},
    "batch_size": 4,
    "n_critic": 2,
    "max_steps": 4,
    "lr_decay_steps": 2,
    "num_workers": 0,
    "log_interval": 2,
    "image_interval": 2,
    "save_interval": 2,
}
