import subprocess
import sys

import pytest

from espnet_cause import au


def test_vocabulary_is_openface_order():
    assert au.NUM_AUS == 17
    assert au.AU_NAMES[0] == "AU01" and au.AU_NAMES[-1] == "AU45"
    assert list(au.AU_NAMES) == sorted(au.AU_NAMES)
    assert au.AU_INTENSITY_COLUMNS[8] == "AU12_r"
    assert len(au.AU_PRESENCE_NAMES) == 18 and "AU28" in au.AU_PRESENCE_NAMES
    assert set(au.AU_NAMES) <= set(au.AU_FACS_NAMES)
    assert (au.AU_INTENSITY_MIN, au.AU_INTENSITY_MAX) == (0.0, 5.0)


@pytest.mark.parametrize("name", ["AU12", "au12", "AU12_r", "12"])
def test_au_index_accepts_spellings(name):
    assert au.au_index(name) == 8
    assert au.describe(name) == "AU12 (Lip corner puller)"


def test_au_index_rejects_unknown():
    with pytest.raises(KeyError, match="AU28"):
        au.au_index("AU28")


def test_import_is_light():
    code = "import sys, espnet_cause, espnet_cause.au, espnet_cause.io.track; print(sorted(m for m in ('torch', 'espnet2', 'espnet') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
