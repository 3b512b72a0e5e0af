"""The aligned face crop: a similarity transform that puts the eyes at fixed places.

The same alignment prepares GANimation's training crops and cuts the face out of the photo at
rendering time, so training and rendering see the same framing.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.face.landmarker import Face

#: Side of the aligned face crop that the GANimation generator works on (pixels).
CROP_SIZE = 128
#: Where the eye centres sit in the aligned crop, as fractions of its side: (x_left, x_right, y).
CROP_EYES = (0.335, 0.665, 0.40)


def alignment_matrix(face: Face, size: int = CROP_SIZE) -> np.ndarray:
    """Similarity transform from photo pixels to the aligned ``size`` x ``size`` crop.

    The eye centres go to :data:`CROP_EYES` (roll removed, scale fixed by the eye distance).

    Returns:
        (2, 3) float64 affine matrix (for ``cv2.warpAffine``).
    """
    left, right = face.eye_centers()
    dst_left = np.array([CROP_EYES[0] * size, CROP_EYES[2] * size])
    dst_right = np.array([CROP_EYES[1] * size, CROP_EYES[2] * size])
    src_vec = right - left
    dst_vec = dst_right - dst_left
    scale = np.linalg.norm(dst_vec) / max(np.linalg.norm(src_vec), 1e-6)
    angle = np.arctan2(src_vec[1], src_vec[0]) - np.arctan2(dst_vec[1], dst_vec[0])
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    src_mid = (left + right) / 2.0
    dst_mid = (dst_left + dst_right) / 2.0
    shift = dst_mid - rot @ src_mid
    return np.hstack([rot, shift[:, None]])


def align_crop(
    image: np.ndarray, face: Face, size: int = CROP_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the aligned face crop out of the photo.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        face: The face to crop.
        size: Side of the square crop in pixels.

    Returns:
        (crop (size, size, 3) uint8, matrix (2, 3) photo -> crop).
    """
    import cv2

    matrix = alignment_matrix(face, size)
    crop = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, matrix
