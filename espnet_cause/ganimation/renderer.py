"""Fast GANimation inference for rendering: one still face, many AU frames.

Two things make it fast on a CPU, both exact up to floating point:

1. The face is the same in every frame, so the image half of the 7x7 stem conv is computed once
   per call, and the AU half -- a conv of spatially constant maps -- is a precomputed basis of
   17 response maps mixed by the AU values (a (T, 17) x (17, C*H*W) matmul instead of a conv).
2. The rest runs in channels-last memory layout, in bfloat16 autocast where the CPU has native
   bf16 instructions (AVX512-BF16/AMX; ``backend="auto"``), else in float32.

Usage::

    renderer = GANimationRenderer("exp/ganimation/generator.pth")
    frames = renderer.render(face_128x128_rgb_uint8, aus_T_by_17)   # (T, 128, 128, 3) uint8
    frames = ganimation_frames(renderer, photo, face, aus, batch_size=16)  # whole photos
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from espnet_cause.au import NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.face.compose import CropCompositor
from espnet_cause.ganimation.checkpoint import load_generator
from espnet_cause.ganimation.data import normalize_aus

logger = logging.getLogger(__name__)

#: Inference back-ends: ``auto`` picks ``bf16`` when the CPU has native bf16, else ``fp32``.
BACKENDS = ("auto", "fp32", "bf16")
#: Default number of AU frames per generator batch.
DEFAULT_BATCH_SIZE = 16
#: AU frames rendered per call by :func:`ganimation_frames` (bounds memory).
GANIMATION_CHUNK = 64


def cpu_has_fast_bf16() -> bool:
    """True when oneDNN can run bf16 convolutions natively on this CPU."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def to_model_image(face: np.ndarray):
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float32 tensor in [-1, 1]."""
    import torch

    chw = torch.from_numpy(np.ascontiguousarray(face)).permute(2, 0, 1).float()
    return (chw / 127.5 - 1.0)[None]


def to_uint8_frames(images) -> np.ndarray:
    """(B, 3, H, W) tensor in [-1, 1] -> (B, H, W, 3) uint8 RGB."""
    import torch

    frames = ((images.float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)
    return frames.permute(0, 2, 3, 1).contiguous().numpy()


class GANimationRenderer:
    """Render a face with a sequence of AU vectors using a trained GANimation generator.

    Args:
        model_path: ``generator.pth`` (or a training ``checkpoint.pth``) from ganimation_train.
        device: Torch device string.
        backend: ``auto``, ``fp32`` or ``bf16`` (see the module docstring).
        num_threads: Torch intra-op threads; None leaves torch's setting.

    Attributes:
        image_size: Side of the square face crop the generator was trained on.
    """

    def __init__(
        self,
        model_path: str | os.PathLike,
        device: str = "cpu",
        backend: str = "auto",
        num_threads: int | None = None,
    ) -> None:
        import torch

        if backend not in BACKENDS:
            raise CauseError(f"unknown GANimation backend {backend!r}; use one of {BACKENDS}")
        if num_threads:
            torch.set_num_threads(num_threads)
        self.device = torch.device(device)
        generator, self.image_size = load_generator(model_path)
        if backend == "auto":
            backend = "bf16" if self.device.type == "cpu" and cpu_has_fast_bf16() else "fp32"
        self.backend = backend
        self.generator = generator.to(self.device, memory_format=torch.channels_last).eval()
        for p in self.generator.parameters():
            p.requires_grad_(False)
        stem = self.generator.body[0]
        self._stem_image_weight = stem.weight[:, :3].contiguous()
        self._stem_au_weight = stem.weight[:, 3:].contiguous()
        self._tail = self.generator.body[1:]
        self.condition_size = self.generator.condition_size
        self._au_basis = None  # (condition_size, C * H * W), built for the first face size
        logger.info("GANimation renderer: %s, backend %s", model_path, self.backend)

    def _autocast(self):
        import torch

        if self.backend == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _basis(self, height: int, width: int):
        """(condition_size, C*H*W): stem-conv response to a constant 1 in each condition channel."""
        import torch

        if self._au_basis is None or self._au_basis[0] != (height, width):
            weight = self._stem_au_weight  # (C, A, k, k)
            c, a, k, _ = weight.shape
            ones = torch.ones(1, 1, height, width, device=self.device)
            per_au = weight.transpose(0, 1).reshape(a * c, 1, k, k)
            maps = torch.nn.functional.conv2d(ones, per_au, padding=k // 2)
            self._au_basis = ((height, width), maps.reshape(a, c * height * width))
        return self._au_basis[1]

    def generate(self, image, aus):
        """Run the generator with the shared-face stem.

        Args:
            image: (1, 3, H, W) face in [-1, 1].
            aus: (B, condition_size) conditions on the [0, 1] scale.

        Returns:
            (B, 3, H, W) float32 output images in [-1, 1].
        """
        import torch

        _, _, h, w = image.shape
        stem_image = torch.nn.functional.conv2d(image, self._stem_image_weight, padding=3)
        stem = (aus @ self._basis(h, w)).view(aus.shape[0], -1, h, w) + stem_image
        stem = stem.contiguous(memory_format=torch.channels_last)
        with self._autocast():
            feats = self._tail(stem)
            color = self.generator.color_head(feats).float()
            attention = self.generator.attention_head(feats).float()
        return attention * image + (1.0 - attention) * color

    def render(
        self, face: np.ndarray, aus: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """Render the face once per AU frame (an AU-conditioned generator).

        Args:
            face: (S, S, 3) uint8 RGB aligned face crop (resized to ``image_size`` if needed).
            aus: (T, 17) AU intensities on the 0-5 scale (NaN is treated as 0).
            batch_size: AU frames per generator call.

        Returns:
            (T, S, S, 3) uint8 RGB frames at the size of ``face``.
        """
        aus = np.asarray(aus, dtype=np.float32)
        if aus.ndim != 2 or aus.shape[1] != NUM_AUS:
            raise ValueError(f"aus must be (T, {NUM_AUS}), got {aus.shape}")
        return self.render_conditions(face, normalize_aus(np.nan_to_num(aus, nan=0.0)), batch_size)

    def render_conditions(
        self, face: np.ndarray, conditions: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """Render the face once per condition frame, conditions already on the [0, 1] scale.

        Args:
            face: (S, S, 3) uint8 RGB aligned face crop (resized to ``image_size`` if needed).
            conditions: (T, condition_size) in [0, 1]: normalised AUs, or emotion posteriors
                for an emotion-conditioned generator.
            batch_size: Frames per generator call.

        Returns:
            (T, S, S, 3) uint8 RGB frames at the size of ``face``.
        """
        import cv2
        import torch

        face = np.asarray(face)
        conditions = np.asarray(conditions, dtype=np.float32)
        if face.ndim != 3 or face.shape[2] != 3 or face.dtype != np.uint8:
            raise ValueError(f"face must be (H, W, 3) uint8, got {face.shape} {face.dtype}")
        if conditions.ndim != 2 or conditions.shape[1] != self.condition_size:
            raise ValueError(
                f"conditions must be (T, {self.condition_size}), got {conditions.shape}"
            )
        size = face.shape[:2]
        model_face = face
        if size != (self.image_size, self.image_size):
            model_face = cv2.resize(
                face, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA
            )
        norm = torch.from_numpy(np.clip(conditions, 0.0, 1.0)).to(self.device)
        out = np.empty((len(conditions), self.image_size, self.image_size, 3), dtype=np.uint8)
        with torch.inference_mode():
            image = to_model_image(model_face).to(self.device)
            for start in range(0, len(conditions), max(1, batch_size)):
                batch = norm[start : start + batch_size]
                out[start : start + len(batch)] = to_uint8_frames(self.generate(image, batch).cpu())
        if size != (self.image_size, self.image_size):
            out = np.stack(
                [cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_LINEAR) for f in out]
            )
        return out


def load_ganimation(model_path: str | None, device: str) -> GANimationRenderer:
    """The GANimation renderer, or a CauseError saying what is missing."""
    if model_path is None:
        raise CauseError(
            "--renderer ganimation needs --generator",
            fix="pass the trained generator, or use --renderer warp (no training needed)",
        )
    if not Path(model_path).is_file():
        raise CauseError("GANimation model not found", path=model_path, fix="check --generator")
    try:
        return GANimationRenderer(model_path, device=device)
    except CauseError:
        raise
    except (RuntimeError, KeyError, ValueError, OSError, EOFError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CauseError(
            f"cannot load the GANimation model (wrong or damaged checkpoint?): {first}",
            path=model_path,
            fix="pass a generator saved by espnet_cause.bin.ganimation_train",
        ) from None


def ganimation_frames(
    renderer: GANimationRenderer,
    image: np.ndarray,
    face,
    aus: np.ndarray,
    batch_size: int,
    *,
    normalized: bool = False,
) -> Iterator[np.ndarray]:
    """Crop the face, render it in chunks and paste each frame back into the photo.

    Args:
        renderer: A loaded renderer.
        image: (H, W, 3) uint8 RGB photo.
        face: The face found in ``image`` (``espnet_cause.face.landmarker.find_face``).
        aus: (T, 17) AU intensities at the video frame rate, or with ``normalized`` any
            (T, condition_size) conditions on [0, 1] (e.g. emotion posteriors).
        batch_size: Frames per generator call.
        normalized: ``aus`` are conditions on [0, 1] (:meth:`GANimationRenderer.render_conditions`).

    Yields:
        (H, W, 3) uint8 RGB frames.
    """

    compositor = CropCompositor(image, face, size=renderer.image_size)
    render = renderer.render_conditions if normalized else renderer.render
    for start in range(0, len(aus), GANIMATION_CHUNK):
        crops = render(
            compositor.crop, aus[start : start + GANIMATION_CHUNK], batch_size=batch_size
        )
        for crop in np.asarray(crops):
            yield compositor.paste(crop)
