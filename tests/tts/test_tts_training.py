"""Two training steps through the real CLIs: stock ESPnet Tacotron2 with AU spembs, FastSpeech2AU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

from espnet_cause.tts.features import AU_EMBED_DIM, au_embed

REPO = Path(__file__).resolve().parents[2]


def _shape_file(corpus: dict, path: Path) -> Path:
    """``utt num_samples`` lines (ESPnet shape file for the speech input)."""
    import soundfile as sf

    lines = []
    for line in corpus["wav.scp"].read_text().splitlines():
        key, wav = line.split(maxsplit=1)
        lines.append(f"{key} {sf.info(wav).frames}\n")
    path.write_text("".join(lines))
    return path


def _data_args(corpus: dict, extra: list[tuple[str, str, str]], shape: Path) -> list[str]:
    entries = [("text", "text", "text"), ("wav.scp", "speech", "sound"), *extra]
    args = []
    for split in ("train", "valid"):
        for fname, name, kind in entries:
            args += [f"--{split}_data_path_and_name_and_type", f"{corpus[fname]},{name},{kind}"]
        args += [f"--{split}_shape_file", str(shape)]
    return args


def _common(tmp: Path, conf: str) -> list[str]:
    return [
        "--config", str(REPO / "conf" / conf), "--output_dir", str(tmp / "exp"),
        "--ngpu", "0", "--seed", "0", "--use_tensorboard", "false",
    ]  # fmt: skip


def test_stock_tacotron2_trains_with_au_spembs(tts_corpus, tmp_path):
    from espnet2.bin.tts_train import main

    shape = _shape_file(tts_corpus, tmp_path / "speech_shape")
    args = _common(tmp_path, "tts_tacotron2_au_embed_tiny.yaml")
    args += ["--token_list", str(tts_corpus["token_list"])]
    args += _data_args(tts_corpus, [("au_embed.scp", "spembs", "kaldi_ark")], shape)
    main(args)

    exp = tmp_path / "exp"
    assert (exp / "1epoch.pth").is_file()
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["tts_conf"]["spk_embed_dim"] == AU_EMBED_DIM

    # the trained stock model synthesises differently for two AU embeddings
    from espnet2.tasks.tts import TTSTask

    model, _ = TTSTask.build_model_from_file(exp / "config.yaml", exp / "1epoch.pth", "cpu")
    model.eval()
    calm = np.full((50, 17), 0.3, np.float32)
    outs = []
    for aus in (calm, calm * 4):  # same pattern, four times the intensity
        with torch.no_grad():
            out = model.inference(
                torch.tensor([2, 3, 4]),
                speech=torch.randn(8000, generator=torch.Generator().manual_seed(0)),
                spembs=torch.from_numpy(au_embed(aus)),
                use_teacher_forcing=True,
            )
        outs.append(out["feat_gen"])
    assert outs[0].shape == outs[1].shape
    assert (outs[0] - outs[1]).abs().max() > 1e-4


def test_fastspeech2_au_trains_with_frame_level_au(tts_corpus, tmp_path):
    from espnet_cause.bin.au_tts_train import main

    shape = _shape_file(tts_corpus, tmp_path / "speech_shape")
    args = _common(tmp_path, "tts_fastspeech2_au_tiny.yaml")
    args += ["--token_list", str(tts_corpus["token_list"])]
    extra = [("durations", "durations", "text_int"), ("au.scp", "au", "kaldi_ark")]
    args += _data_args(tts_corpus, extra, shape)
    main(args)

    exp = tmp_path / "exp"
    state = torch.load(exp / "1epoch.pth", map_location="cpu")
    assert any(k.startswith("tts.au_embed") for k in state), "AU embedding not in the model"
    assert any(k.startswith("tts.au_predictor") for k in state)
    # the trainer reported a finite AU loss for the epoch
    reporter = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)[
        "reporter"
    ]
    au_loss = reporter["stats"][1]["train"]["au_loss"]
    assert np.isfinite(float(au_loss)) and float(au_loss) > 0

    # synthesis from text through the Python API: the AU stream sets the expression
    from espnet_cause.inference.text2speech import AUText2Speech

    tts = AUText2Speech(exp / "config.yaml", exp / "1epoch.pth")
    calm = tts("a b c", tokens=True, au=np.zeros((1, 17), np.float32))
    smile = np.zeros((30, 17), np.float32)
    smile[:, 8] = np.linspace(0, 5, 30)  # AU12 rising
    happy = tts("a b c", tokens=True, au=smile)
    free = tts("a b c", tokens=True)

    # a global-MVN AU normaliser (as the recipe's) works in place: the caller's stream must be
    # left as given, so that a reference reused for the next sentence gives the same voice
    from espnet2.layers.global_mvn import GlobalMVN

    stats = tmp_path / "au_stats.npz"
    np.savez(stats, count=np.array(10.0), sum=np.full(17, 5.0), sum_square=np.full(17, 10.0))
    tts.model.au_normalize = GlobalMVN(stats)
    kept = smile.copy()
    first = tts("a b c", tokens=True, au=smile)
    second = tts("a b c", tokens=True, au=smile)
    np.testing.assert_array_equal(smile, kept)
    np.testing.assert_allclose(second["pitch"], first["pitch"], rtol=0, atol=1e-6)
    # a stream far outside the training range (mean 0.5, SD 0.87 here) is clipped to mean +- 4 SD
    far, edge = smile.copy(), smile.copy()
    far[:, 8], edge[:, 8] = 50.0, 0.5 + 4 * float(tts.model.au_normalize.std[8])
    np.testing.assert_allclose(tts("a b c", tokens=True, au=far)["pitch"], tts("a b c", tokens=True, au=edge)["pitch"],
                               rtol=0, atol=1e-5)  # fmt: skip
    tts.max_au_z = None
    assert (
        np.abs(
            tts("a b c", tokens=True, au=far)["pitch"] - tts("a b c", tokens=True, au=edge)["pitch"]
        ).max()
        > 1e-4
    )
    tts.max_au_z = 4.0
    assert calm["au"].shape == happy["au"].shape == (4, 17)
    # the AU sets the token pitch (and durations, so the lengths may differ), and the features
    assert np.abs(calm["pitch"] - happy["pitch"]).max() > 1e-5
    same_length = calm["feat_gen"].shape == happy["feat_gen"].shape
    assert not same_length or np.abs(calm["feat_gen"] - happy["feat_gen"]).max() > 1e-4
    assert np.isfinite(free["feat_gen"]).all()
    assert calm["wav"].ndim == 1 and len(calm["wav"]) > 0  # Griffin-Lim from the fbank settings
