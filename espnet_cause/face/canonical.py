"""MediaPipe's canonical face, and each face-mesh landmark's mirror image across the midline.

The canonical face (468 mesh vertices of a frontal, upright face) ships inside the packaged
``face_landmarker.task`` (``geometry_pipeline_metadata_landmarks.binarypb``, a
``GeometryPipelineMetadata`` protobuf, read here without protobuf); the 10 iris landmarks follow
the mesh (468-472 the subject's right iris, 473-477 the left, each: centre, then the points to
the image right, above, to the image left and below it).
"""

from __future__ import annotations

import zipfile
from functools import lru_cache

import numpy as np

from espnet_cause import assets
from espnet_cause.errors import CauseError

#: The canonical face's metadata in the model bundle.
GEOMETRY_METADATA = "geometry_pipeline_metadata_landmarks.binarypb"
#: Floats per canonical vertex (VERTEX_PT: x, y, z, then texture u, v).
VERTEX_FLOATS = 5
#: Mesh vertices; the iris landmarks come after them, five per eye.
NUM_MESH = 468
#: The mirror image of each iris's points within the other iris's (centre, right, top, left,
#: bottom: right and left swap).
IRIS_MIRROR = (0, 3, 2, 1, 4)
#: A vertex and its mirror image lie this far apart at most (canonical units, about centimetres;
#: the canonical face is symmetric to float precision).
MIRROR_TOLERANCE = 1e-3


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
def canonical_face() -> np.ndarray:
    """The canonical face's vertices in image axes (x to the subject's left = image right, y down,
    z away from the camera; centimetres).

    Returns:
        (468, 3) float64.

    Raises:
        CauseError: if the packaged model has no readable canonical face.
    """
    path = assets.face_landmarker()
    try:
        with zipfile.ZipFile(path) as bundle:
            metadata = _fields(bundle.read(GEOMETRY_METADATA))
        mesh = _fields(next(v for f, v in metadata if f == 1))
        floats = b"".join(v for f, v in mesh if f == 3)
        vertices = np.frombuffer(floats, "<f4").reshape(-1, VERTEX_FLOATS)[:, :3]
    except (KeyError, ValueError, StopIteration, zipfile.BadZipFile) as e:
        raise CauseError(
            f"no canonical face in the face model bundle ({e})",
            path=path,
            fix="reinstall espnet-cause (the packaged face_landmarker.task is damaged)",
        ) from None
    if vertices.shape != (NUM_MESH, 3):
        raise CauseError(
            f"the canonical face has {len(vertices)} vertices, expected {NUM_MESH}",
            path=path,
            fix="reinstall espnet-cause (the packaged face_landmarker.task is damaged)",
        )
    # MediaPipe's canonical axes: x to the subject's left, y up, z towards the camera
    return vertices.astype(np.float64) * np.array([1.0, -1.0, -1.0])


@lru_cache(maxsize=1)
def mirror_landmarks() -> np.ndarray:
    """Each landmark's mirror image across the face's midline (the midline's own landmarks are
    their own mirror; the irises swap).

    Returns:
        (478,) int64 landmark indices (an involution: ``m[m] == arange(478)``).

    Raises:
        CauseError: if the canonical face is not symmetric (a damaged model).
    """
    vertices = canonical_face()
    mirrored = vertices * np.array([-1.0, 1.0, 1.0])
    distance = np.linalg.norm(vertices[None, :, :] - mirrored[:, None, :], axis=-1)
    mirror = np.argmin(distance, axis=1)
    if float(distance[np.arange(NUM_MESH), mirror].max()) > MIRROR_TOLERANCE:
        raise CauseError(
            "the canonical face is not symmetric",
            path=assets.face_landmarker(),
            fix="reinstall espnet-cause (the packaged face_landmarker.task is damaged)",
        )
    right = NUM_MESH + np.array(IRIS_MIRROR)
    left = right + len(IRIS_MIRROR)
    out = np.concatenate([mirror, left, right]).astype(np.int64)
    out.setflags(write=False)  # cached: shared by every caller
    return out
