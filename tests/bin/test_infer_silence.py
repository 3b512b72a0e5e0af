"""No talking in silence: speech with 0.5 s of silence on each side keeps the lips closed there.

A tiny non-causal cnn (8 gated blocks, the paper's receptive field of 17 frames) is trained for a
few seconds on crops of the demo speech that start and end in speech (as eSpeak utterances do),
with one 0.6 s pause in between: lips part (AU25) with loudness, and are closed (0) in the pause.
Then the whole demo speech with 0.5 s of quiet noise on each side goes through ``infer``. With
zero padding of the z-scored features, the model took the padded edges for speech and opened the
lips in the first and last frames of the silence (AU25 about 1.0 for this model); with replicated
edges the silence reads as the training data's silence.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import yaml
from test_infer import make_tiny_model
from test_infer_animation import jaw_targets

from espnet_cause.au import au_index
from espnet_cause.bin import infer
from espnet_cause.io.openface import read_openface_csv

FS = 16000
AU_FPS = 25
SAMPLES_PER_FRAME = FS // AU_FPS
ENCODER = {"hidden_size": 16, "channels": [16] * 7 + [8]}
STEPS = 100
SILENCE_S = 0.5
#: AU25 for silence in the training data is 0; the silent frames must stay within this of it.
TOLERANCE = 0.3


def _quiet(rng: np.random.Generator, seconds: float, level: float) -> np.ndarray:
    return rng.normal(0.0, level, int(seconds * FS)).astype(np.float32)


def _train_crops(speech: np.ndarray, targets: np.ndarray):
    """A batch of crops that start and end on loud frames (AU25 > 2): 4 across the pause, 4 not."""
    import torch

    loud = np.flatnonzero(targets[:, au_index("AU25")] > 2.0)
    at = [loud[min(int(q * len(loud)), len(loud) - 1)] for q in np.arange(0.0, 1.01, 0.05)]
    spans = [(at[0], at[20]), (at[2], at[18]), (at[4], at[16]), (at[6], at[14]),
             (at[0], at[7]), (at[3], at[9]), (at[12], at[17]), (at[14], at[20])]  # fmt: skip
    spans = [(a, b + 1) for a, b in spans]
    longest = max(b - a for a, b in spans)
    wav = torch.zeros(len(spans), longest * SAMPLES_PER_FRAME)
    au = torch.zeros(len(spans), longest, targets.shape[1])
    for i, (a, b) in enumerate(spans):
        wav[i, : (b - a) * SAMPLES_PER_FRAME] = torch.from_numpy(
            speech[a * SAMPLES_PER_FRAME : b * SAMPLES_PER_FRAME]
        )
        au[i, : b - a] = torch.from_numpy(targets[a:b])
    au_lengths = torch.tensor([b - a for a, b in spans])
    return wav, au_lengths * SAMPLES_PER_FRAME, au, au_lengths


@pytest.fixture(scope="module")
def silence_model(tmp_path_factory, demo_wav):
    """(model.zip, quiet-noise level) of a tiny cnn trained on speech-edged crops."""
    import torch

    from espnet_cause.inference.packing import pack_model
    from espnet_cause.tasks.cause import CAUSETask

    samples, sr = sf.read(str(demo_wav), dtype="float32")
    assert sr == FS
    rng = np.random.default_rng(1)
    level = float(samples[: int(0.3 * FS)].std())  # the recording's own noise floor
    # speech from 0.4 s (the voice starts) to 3.44 s, with a 0.6 s pause after 1.92 s
    cut = (int(0.4 * FS), int(1.92 * FS), int(3.44 * FS))
    speech = np.concatenate(
        [samples[cut[0] : cut[1]], _quiet(rng, 0.6, level), samples[cut[1] : cut[2]]]
    )
    targets = jaw_targets(speech, FS)
    root = tmp_path_factory.mktemp("silence")
    config, _ = make_tiny_model(root, encoder_conf=ENCODER)
    conf = yaml.safe_load(config.read_text())
    n = float(len(targets))
    np.savez(root / "au_stats.npz", count=np.array(n), sum=targets.sum(0).astype(np.float64),
             sum_square=(targets.astype(np.float64) ** 2).sum(0))  # fmt: skip
    conf["au_normalize_conf"]["eps"] = 1.0e-2
    config.write_text(yaml.safe_dump(conf))
    model, _ = CAUSETask.build_model_from_file(config, None)
    with torch.no_grad():  # feature statistics of the training speech
        feats, _ = model.frontend(torch.from_numpy(speech)[None], torch.tensor([len(speech)]))
    f = feats[0].double().numpy()
    np.savez(root / "feats_stats.npz", count=np.array(float(len(f))), sum=f.sum(0),
             sum_square=(f**2).sum(0))  # fmt: skip
    torch.manual_seed(0)
    model, _ = CAUSETask.build_model_from_file(config, None)
    batch = _train_crops(speech, targets)
    optim = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(STEPS):
            loss, _, _ = model(*batch)
            optim.zero_grad()
            loss.backward()
            optim.step()
    finally:
        torch.set_num_threads(threads)
    pth = root / "trained.pth"
    torch.save(model.state_dict(), pth)
    return pack_model(config, pth, root / "model.zip"), level


def test_lips_stay_closed_in_leading_and_trailing_silence(silence_model, demo_wav, tmp_path,
                                                          monkeypatch):  # fmt: skip
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    model_zip, level = silence_model
    samples, _ = sf.read(str(demo_wav), dtype="float32")
    rng = np.random.default_rng(2)
    padded = np.concatenate([_quiet(rng, SILENCE_S, level), samples, _quiet(rng, SILENCE_S, level)])
    wav = tmp_path / "padded.wav"
    sf.write(str(wav), padded, FS)
    infer.main(["--model", str(model_zip), "--wav", str(wav), "--output", str(tmp_path / "au.csv")])
    au25 = read_openface_csv(tmp_path / "au.csv").intensities[:, au_index("AU25")]
    edge = int(SILENCE_S * AU_FPS)  # frames of the added silence on each side
    silent = np.concatenate([au25[:edge], au25[-edge:]])
    assert np.abs(silent - 0.0).max() < TOLERANCE, np.round(silent, 2)
    # and the model does open the lips for the speech in between
    assert au25[edge:-edge].max() > 2.5, au25.max()
