"""Photos from files and from bytes: the same RGB array, clear errors for what is not an image."""

import cv2
import numpy as np
import pytest

from espnet_cause.errors import CauseError
from espnet_cause.io.image import decode_image, load_image


def test_bytes_and_file_give_the_same_rgb(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255  # opaque red (RGB order)
    path = tmp_path / "red.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    from_file = load_image(path)
    from_bytes = decode_image(path.read_bytes())
    np.testing.assert_array_equal(from_file, from_bytes)
    assert from_bytes.shape == (4, 6, 3) and tuple(from_bytes[0, 0]) == (200, 0, 0)


@pytest.mark.parametrize("data", [b"", b"not an image at all"])
def test_not_an_image(data):
    with pytest.raises(CauseError, match="upload.png cannot be decoded"):
        decode_image(data, "upload.png")
