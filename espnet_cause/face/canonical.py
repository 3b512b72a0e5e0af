"""MediaPipe's canonical face and a face's head rotation from its 3-D landmarks.

The canonical face (468 mesh vertices of a frontal, upright face) and the weights of the rigid
landmarks MediaPipe fits the head pose on ship inside the packaged ``face_landmarker.task``
(``geometry_pipeline_metadata_landmarks.binarypb``, a ``GeometryPipelineMetadata`` protobuf);
:func:`head_rotation` fits a rotation between them and a face's landmarks (orthographic, the
landmarks' depth in their pixel scale), as MediaPipe's facial transformation matrix does.
"""

from __future__ import annotations

import struct
import zipfile
from functools import lru_cache

import numpy as np

from espnet_cause import assets
from espnet_cause.errors import CauseError

#: The canonical face's metadata in the model bundle.
GEOMETRY_METADATA = "geometry_pipeline_metadata_landmarks.binarypb"
#: Floats per canonical vertex (VERTEX_PT: x, y, z, then texture u, v).
VERTEX_FLOATS = 5


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of one protobuf message: ints for varints, bytes otherwise."""
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        wire = key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = data[i : i + size], i + size
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        else:
            raise ValueError(f"protobuf wire type {wire}")
        out.append((key >> 3, value))
    return out


@lru_cache(maxsize=1)
def canonical_face() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canonical face, in image axes (x to the subject's left = image right, y down, z away
    from the camera; arbitrary units).

    Returns:
        (468, 3) float64 vertices, the (K,) landmark indices the head pose is fitted on and their
        (K,) weights.
    """
    path = assets.face_landmarker()
    try:
        with zipfile.ZipFile(path) as bundle:
            metadata = _fields(bundle.read(GEOMETRY_METADATA))
        mesh = _fields(next(v for f, v in metadata if f == 1))
        floats = b"".join(v for f, v in mesh if f == 3)
        vertices = np.frombuffer(floats, "<f4").reshape(-1, VERTEX_FLOATS)[:, :3]
        refs = [dict(_fields(v)) for f, v in metadata if f == 2]
    except (KeyError, ValueError, StopIteration, zipfile.BadZipFile) as e:
        raise CauseError(
            f"no canonical face in the face model bundle ({e})",
            path=path,
            fix="reinstall espnet-cause (the packaged face_landmarker.task is damaged)",
        ) from None
    ids = np.array([ref.get(1, 0) for ref in refs])
    weights = np.array([struct.unpack("<f", ref.get(2, b"\0\0\0\0"))[0] for ref in refs])
    # MediaPipe's canonical axes: x to the subject's left, y up, z towards the camera
    return vertices.astype(np.float64) * np.array([1.0, -1.0, -1.0]), ids, weights


def head_rotation(landmarks: np.ndarray) -> np.ndarray:
    """The head's rotation: the canonical face's axes in the image's (x right, y down, z away).

    A weighted least-squares rotation (Kabsch) with scale between the canonical face's rigid
    landmarks and the face's; a frontal, upright face gives the identity.

    Args:
        landmarks: (478, 3) or (468, 3) x, y pixels and depth in the same scale.

    Returns:
        (3, 3) float64 rotation; its columns are the face's x (along the eyes, to the image
        right on a frontal face), y (towards the chin) and z (into the head) axes.
    """
    canonical, ids, weights = canonical_face()
    w = weights / weights.sum()
    face = np.asarray(landmarks, np.float64)[ids]
    model = canonical[ids]
    face = face - w @ face
    model = model - w @ model
    u, _, vt = np.linalg.svd((model * w[:, None]).T @ face)
    flip = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, flip]) @ u.T
