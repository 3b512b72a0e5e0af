"""The streaming resampler equals scipy's resample_poly on the whole signal, in any chunking."""

import math

import numpy as np
import pytest
from scipy.signal import resample_poly

from espnet_cause.serve.resample import StreamResampler


@pytest.mark.parametrize(
    "src,dst,n",
    [(48000, 16000, 9000), (44100, 16000, 7777), (8000, 16000, 3001), (22050, 16000, 40)],
)
def test_stream_equals_whole(src, dst, n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    g = math.gcd(src, dst)
    reference = resample_poly(x, dst // g, src // g)
    rs = StreamResampler(src, dst)
    outs, at = [], 0
    while at < n:
        size = int(rng.integers(0, 700))
        outs.append(rs.accept(x[at : at + size]))
        at += size
    outs.append(rs.finish())
    y = np.concatenate(outs)
    assert y.shape == reference.shape
    np.testing.assert_allclose(y, reference, atol=1e-5)
    assert rs.finish().size == 0  # finishing twice adds nothing


def test_same_rate_passes_through():
    rs = StreamResampler(16000, 16000)
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(rs.accept(x), x)
    assert rs.finish().size == 0


def test_output_is_available_while_streaming():
    """Output follows the input with the filter's short look-ahead, not at the end only."""
    rs = StreamResampler(48000, 16000)
    out = rs.accept(np.zeros(1920))  # 40 ms
    assert 600 <= out.size <= 640


def test_bad_rates():
    with pytest.raises(ValueError, match="positive"):
        StreamResampler(0, 16000)
