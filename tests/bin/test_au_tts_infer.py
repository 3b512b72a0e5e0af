"""espnet_cause.bin.au_tts_infer on a tiny FastSpeech2AU trained as in tests/tts."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.bin.au_tts_infer import main
from espnet_cause.io.au_files import write_au

N_MELS = 20  # conf/tts_fastspeech2_au_tiny.yaml
FS = 16000


@pytest.fixture(scope="module")
def tiny_tts(tiny_fastspeech2_au) -> tuple[Path, Path]:
    """(config.yaml, 1epoch.pth) of the session's tiny FastSpeech2AU (tests/bin/conftest.py)."""
    exp, _ = tiny_fastspeech2_au
    return exp / "config.yaml", exp / "1epoch.pth"


def _model_args(tiny_tts) -> list[str]:
    config, pth = tiny_tts
    return ["--train_config", str(config), "--model_file", str(pth), "--text", "a b c", "--tokens"]


def test_two_au_streams_give_two_different_wavs(tiny_tts, tmp_path, monkeypatch):
    import librosa

    # Griffin-Lim from zero phase instead of librosa's unseeded random phase: same feats, same wav
    monkeypatch.setattr(librosa, "griffinlim", functools.partial(librosa.griffinlim, init=None))
    calm = np.zeros((1, NUM_AUS), np.float32)
    smile = np.zeros((30, NUM_AUS), np.float32)
    smile[:, au_index("AU12")] = np.linspace(0, 5, 30)
    smile[5:8] = np.nan  # a tracking gap is filled, not passed to the model
    write_au(tmp_path / "calm.npy", calm)
    write_au(tmp_path / "smile.csv", smile, fps=25)

    outs = {}
    for name, au in (("calm", "calm.npy"), ("smile", "smile.csv"), ("calm2", "calm.npy")):
        main(_model_args(tiny_tts) + ["--au", str(tmp_path / au),
             "--output", str(tmp_path / f"{name}.wav"),
             "--feats_output", str(tmp_path / f"{name}_feats.npy")])  # fmt: skip
        wav, fs = sf.read(str(tmp_path / f"{name}.wav"), dtype="float32")
        feats = np.load(tmp_path / f"{name}_feats.npy")
        assert fs == FS and wav.ndim == 1 and len(wav) > 0
        assert feats.ndim == 2 and feats.shape[1] == N_MELS and np.isfinite(feats).all()
        outs[name] = (wav, feats)
    (calm_wav, calm_feats), (smile_wav, smile_feats) = outs["calm"], outs["smile"]
    # the AU sets the durations too: a different length is a difference; same length, compare
    if calm_feats.shape == smile_feats.shape:
        assert np.abs(calm_feats - smile_feats).max() > 1e-4
        assert len(calm_wav) == len(smile_wav) and np.abs(calm_wav - smile_wav).max() > 1e-3
    assert np.array_equal(outs["calm2"][0], calm_wav)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_model_prediction_and_reference_speech(tiny_tts, tmp_path, monkeypatch):
    from test_infer import make_tiny_model  # same directory (pytest prepends it to sys.path)

    from espnet_cause.inference.packing import pack_model

    out = tmp_path / "free.wav"
    main(_model_args(tiny_tts) + ["--output", str(out), "--alpha", "2"])  # own AU prediction
    wav, fs = sf.read(str(out), dtype="float32")
    assert fs == FS and np.isfinite(wav).all() and np.abs(wav).max() > 0
    main(_model_args(tiny_tts) + ["--output", str(tmp_path / "free1.wav"), "--vocoder",
         "griffin_lim"])  # fmt: skip
    assert len(wav) > len(sf.read(str(tmp_path / "free1.wav"))[0])  # --alpha 2: longer
    # the WORLD vocoder (mel envelope, predicted pitch): the same frames, hence about the length
    main(_model_args(tiny_tts) + ["--output", str(tmp_path / "world.wav"), "--vocoder", "world"])
    world, fs = sf.read(str(tmp_path / "world.wav"), dtype="float32")
    gl = sf.read(str(tmp_path / "free1.wav"))[0]
    assert fs == FS and np.isfinite(world).all() and abs(len(world) - len(gl)) <= 2 * 256

    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    config, pth = make_tiny_model(tmp_path / "cause_tiny")
    cause = pack_model(config, pth, tmp_path / "model.zip")
    t = np.arange(FS) / FS
    ref = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    sf.write(tmp_path / "ref.wav", ref, FS)
    out = tmp_path / "ref_out.wav"
    main(_model_args(tiny_tts) + ["--reference_wav", str(tmp_path / "ref.wav"),
         "--model", str(cause), "--output", str(out)])  # fmt: skip
    ref_wav, _ = sf.read(str(out), dtype="float32")
    assert len(ref_wav) > 0 and np.isfinite(ref_wav).all()


def _fails(args, capsys, *needles):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after ESPnet's INFO logging
    assert err.startswith("au_tts_infer: error: ")
    for needle in needles:
        assert needle in err, err


def test_bad_inputs_exit_2_with_a_message(tiny_tts, tmp_path, capsys):
    config, pth = tiny_tts
    out = ["--output", str(tmp_path / "o.wav")]
    base = _model_args(tiny_tts)
    _fails(base + ["--au", str(tmp_path / "missing.csv")] + out, capsys, "missing.csv")
    np.save(tmp_path / "bad.npy", np.zeros((4, 5), np.float32))
    _fails(base + ["--au", str(tmp_path / "bad.npy")] + out, capsys, "(4, 5)")

    # a config whose model is bigger than the weights
    conf = yaml.safe_load(config.read_text())
    conf["tts_conf"]["adim"] = 2 * conf["tts_conf"]["adim"]
    other = tmp_path / "other_config.yaml"
    other.write_text(yaml.safe_dump(conf))
    args = ["--train_config", str(other), "--model_file", str(pth), "--text", "a b"] + out
    _fails(args, capsys, "cannot load the TTS model", str(pth), "--train_config")
    _fails(base[:3] + [str(tmp_path / "none.pth")] + base[4:] + out, capsys, "none.pth")

    _fails(base + ["--reference_wav", "r.wav"] + out, capsys, "--model")
    _fails(base + ["--au", "a.npy", "--reference_wav", "r.wav", "--model", "m.zip"] + out,
           capsys, "not both")  # fmt: skip
    _fails(base + ["--reference_wav", str(tmp_path / "r.wav"), "--model", "m.zip"] + out,
           capsys, "r.wav")  # fmt: skip
    assert not (tmp_path / "o.wav").exists()
