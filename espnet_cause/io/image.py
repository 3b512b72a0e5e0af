"""Still images in: any photo (gray, RGB, alpha; 8 or 16 bit) read as (H, W, 3) uint8 RGB."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError


def to_rgb(image: np.ndarray, source: str = "") -> np.ndarray:
    """Convert a grayscale, gray+alpha, RGB or RGBA image (uint8 or uint16) to RGB uint8.

    Transparent pixels are composited over white.

    Args:
        image: (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4) array.
        source: Where the image came from, for error messages.

    Returns:
        (H, W, 3) uint8 contiguous RGB array.
    """
    image = np.asarray(image)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating) and image.size and image.max() <= 1.0:
            image = image * 255.0
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4) or min(image.shape[:2]) < 1:
        raise CauseError(
            f"image has shape {image.shape}, expected (H, W) gray or (H, W, 3|4) colour",
            path=source or None,
            fix="give a grayscale, RGB or RGBA photo",
        )
    channels = image.shape[2]
    if channels in (2, 4):
        alpha = image[:, :, -1:].astype(np.float32) / 255.0
        color = image[:, :, :-1].astype(np.float32)
        image = (color * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


def image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """(width, height) of an image file read from its header only (nothing is decoded).

    Returns:
        The size, or None when the header is not one Pillow knows (OpenCV may still read it).

    Raises:
        CauseError: for a header whose size is beyond Pillow's decompression-bomb guard.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as header:  # lazy: reads the header only
                return header.size
    except Image.DecompressionBombError:
        raise CauseError(
            f"the image has more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels "
            "(its header says so)",
            path=path,
            fix="scale the photo down",
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def check_image_size(
    width: int, height: int, max_pixels: int, source: str | os.PathLike | None = None
) -> None:
    """Refuse an image of more than ``max_pixels`` pixels.

    Raises:
        CauseError: naming the size and the limit.
    """
    if width * height > max_pixels:
        raise CauseError(
            f"the image has {width}x{height} = {width * height / 1e6:.1f} megapixels, more than "
            f"the {max_pixels / 1e6:g} megapixels this renders",
            path=source,
            fix=f"scale the photo down to at most {max_pixels / 1e6:g} megapixels "
            "(a face of 300-1000 pixels is plenty)",
        )


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Read a photo as RGB uint8 (grayscale and alpha converted).

    Args:
        path: The image file (JPEG, PNG, BMP, TIFF, WebP).
        max_pixels: Refuse a photo with more pixels than this, before decoding it (its size is
            read from the header); None: no limit.

    Raises:
        CauseError: if the file is missing, not an image, or larger than ``max_pixels``.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise CauseError("image file not found", path=path, fix="check the --image path")
    if max_pixels is not None:
        size = image_size(path)
        if size is not None:
            check_image_size(*size, max_pixels, path)
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise CauseError(
            "cannot read the image (not a JPEG/PNG/BMP/TIFF/WebP file?)",
            path=path,
            fix="convert the photo to JPEG or PNG",
        )
    if max_pixels is not None:  # a header Pillow did not know
        check_image_size(data.shape[1], data.shape[0], max_pixels, path)
    return _from_cv2(data, str(path))


def decode_image(data: bytes, source: str = "image") -> np.ndarray:
    """An encoded photo in memory (JPEG, PNG, BMP, TIFF, WebP bytes) as RGB uint8.

    Raises:
        CauseError: naming ``source`` if the bytes are not an image OpenCV can decode.
    """
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise CauseError(
            f"{source} cannot be decoded (not a JPEG/PNG/BMP/TIFF/WebP image?)",
            fix="convert the photo to JPEG or PNG",
        )
    return _from_cv2(image, source)


def _from_cv2(data: np.ndarray, source: str) -> np.ndarray:
    """OpenCV's BGR/BGRA/gray layout -> RGB uint8."""
    import cv2

    if data.ndim == 3 and data.shape[2] == 3:
        data = cv2.cvtColor(data, cv2.COLOR_BGR2RGB)
    elif data.ndim == 3 and data.shape[2] == 4:
        data = cv2.cvtColor(data, cv2.COLOR_BGRA2RGBA)
    return to_rgb(data, source=source)
