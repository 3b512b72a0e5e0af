"""au_weight.scp: weight tables, writing and reading the per-utterance vectors, combining dumps."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.arkit import BLENDSHAPE_NAMES, au_weights_to_blendshapes
from espnet_cause.au import AU_NAMES, NUM_AUS
from espnet_cause.corpora.mix import combine_dump_dirs
from espnet_cause.errors import CauseError
from espnet_cause.io.au_weight import parse_au_weights, read_au_weights, write_au_weights
from espnet_cause.io.datadir import read_kaldi_map


def test_weight_tables(tmp_path):
    w = parse_au_weights("AU01=0, AU45=0.5")
    assert w.shape == (NUM_AUS,) and w[AU_NAMES.index("AU01")] == 0.0
    assert w[AU_NAMES.index("AU45")] == 0.5 and w[AU_NAMES.index("AU25")] == 1.0
    table = tmp_path / "w.yaml"
    table.write_text("AU01: 0.0\nAU45: 0.5\n")
    np.testing.assert_array_equal(parse_au_weights(table), w)
    np.testing.assert_array_equal(parse_au_weights({"AU01": 0, "AU45": 0.5}), w)
    with pytest.raises(CauseError, match="unknown AU 'AU99'"):
        parse_au_weights("AU99=1")
    with pytest.raises(CauseError, match=">= 0"):
        parse_au_weights("AU01=-1")
    with pytest.raises(CauseError, match="not found"):
        parse_au_weights(tmp_path / "missing.yaml")


def test_write_and_read(tmp_path):
    vectors = {"b": np.zeros(NUM_AUS), "a": np.ones(NUM_AUS)}
    scp = write_au_weights(tmp_path / "dump", vectors)
    assert list(read_kaldi_map(scp)) == ["a", "b"]
    back = read_au_weights(scp)
    assert back["a"].dtype == np.float32 and back["b"].sum() == 0
    np.save(tmp_path / "bad.npy", -np.ones(3))
    scp.write_text(f"a {tmp_path / 'bad.npy'}\n")
    with pytest.raises(CauseError, match=r"au_weight.scp: a: .*>= 0"):
        read_au_weights(scp)


def test_blendshapes_take_the_weight_of_their_au():
    w = parse_au_weights("AU45=0,AU25=0.5")
    bs = au_weights_to_blendshapes(w)
    assert bs[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] == 0.0
    assert bs[BLENDSHAPE_NAMES.index("mouthClose")] == 0.5
    assert bs[BLENDSHAPE_NAMES.index("jawOpen")] == 1.0
    assert bs[BLENDSHAPE_NAMES.index("eyeLookUpLeft")] == pytest.approx(w.mean())


def _dump(root, name, utts, weights=None):
    d = root / name
    d.mkdir(parents=True)
    for f in ("wav.scp", "au.scp"):
        (d / f).write_text("".join(f"{u} /x/{u}.{f}\n" for u in utts))
    (d / "utt2spk").write_text("".join(f"{u} {u[:2]}\n" for u in utts))
    (d / "au_fps").write_text("25\n")
    if weights is not None:
        write_au_weights(d, {u: weights for u in utts})
    return d


def test_combine_dump_dirs(tmp_path):
    real = _dump(tmp_path, "real", ["r1", "r2"], parse_au_weights("AU45=0"))
    (real / "emotion").write_text("r1 0\n")
    mini = _dump(tmp_path, "mini", ["m1"])
    out = tmp_path / "mix"
    assert combine_dump_dirs([real, mini], out) == {str(real): 2, str(mini): 1}
    assert list(read_kaldi_map(out / "wav.scp")) == ["m1", "r1", "r2"]
    assert (out / "spk2utt").is_file() and (out / "au_fps").read_text().strip() == "25"
    weights = read_au_weights(out / "au_weight.scp")
    assert weights["r1"][AU_NAMES.index("AU45")] == 0 and weights["m1"].min() == 1.0
    # a table for an input without au_weight.scp
    combine_dump_dirs([real, mini], out, [None, "AU25=0.25"])
    assert read_au_weights(out / "au_weight.scp")["m1"][AU_NAMES.index("AU25")] == 0.25
    assert not (out / "emotion").exists()  # only one input has emotion labels
    (mini / "emotion").write_text("m1 1\n")
    (real / "emotion").write_text("r1 0\nr2 4\n")
    combine_dump_dirs([real, mini], out)
    assert read_kaldi_map(out / "emotion") == {"m1": "1", "r1": "0", "r2": "4"}
    # no weights anywhere: no au_weight.scp (a stale one is removed, and the emotion list)
    (real / "emotion").unlink()
    combine_dump_dirs([mini], out)
    assert not (out / "au_weight.scp").exists() and (out / "emotion").exists()
    combine_dump_dirs([real, mini], out)
    assert not (out / "emotion").exists()
    with pytest.raises(CauseError, match="'r1' is in two inputs"):
        combine_dump_dirs([real, real], out)


def test_combine_repeats_vectors_when_an_input_has_per_frame_weights(tmp_path):
    import kaldiio

    real = tmp_path / "real"
    real.mkdir()
    with kaldiio.WriteHelper(f"ark,scp:{real / 'au.ark'},{real / 'au.scp'}") as writer:
        writer("r1", np.zeros((5, NUM_AUS), np.float32))
    (real / "wav.scp").write_text("r1 /x/r1.wav\n")
    (real / "utt2spk").write_text("r1 r\n")
    frames = np.ones((5, NUM_AUS), np.float32)
    frames[:2] = 0
    write_au_weights(real, {"r1": frames})
    mini = tmp_path / "mini"
    mini.mkdir()
    with kaldiio.WriteHelper(f"ark,scp:{mini / 'au.ark'},{mini / 'au.scp'}") as writer:
        writer("m1", np.zeros((3, NUM_AUS), np.float32))
    (mini / "wav.scp").write_text("m1 /x/m1.wav\n")
    (mini / "utt2spk").write_text("m1 m\n")
    combine_dump_dirs([real, mini], tmp_path / "mix", [None, "AU45=0"])
    weights = read_au_weights(tmp_path / "mix" / "au_weight.scp")
    np.testing.assert_array_equal(weights["r1"], frames)
    assert (
        weights["m1"].shape == (3, NUM_AUS)
        and (weights["m1"][:, AU_NAMES.index("AU45")] == 0).all()
    )
