"""The speech onset on the AU frame grid, and stage 2's per-frame weights before it."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from espnet_cause.au import AU_NAMES, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.extract.onset import quiet_runs, speech_frames, speech_onset_frame

FS = 16000


def _speech_after(silence_s: float, noise_db: float = -60.0, seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = 10 ** (noise_db / 20) * rng.standard_normal(int(seconds * FS))
    start = int(silence_s * FS)
    t = np.arange(len(x) - start) / FS
    x[start:] += 0.3 * np.sin(2 * np.pi * 150 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return x.astype(np.float32)


def test_speech_frames_are_the_first_and_last_within_25_db_of_the_peak():
    x = _speech_after(0.5)
    x[int(1.5 * FS) :] = 1e-3 * np.random.default_rng(1).standard_normal(int(0.5 * FS))
    assert speech_frames(x, FS, 25.0) == (12, 37)  # speech 0.5-1.5 s
    assert speech_frames(np.zeros(FS, np.float32), FS, 25.0) == (0, 24)


def test_onset_is_the_first_frame_within_25_db_of_the_peak():
    assert speech_onset_frame(_speech_after(0.5), FS, 25.0) == 12  # 0.48-0.52 s: half speech
    assert speech_onset_frame(_speech_after(0.0), FS, 25.0) == 0
    assert speech_onset_frame(_speech_after(0.8, noise_db=-40.0), FS, 25.0) == 20
    assert speech_onset_frame(np.zeros(FS, np.float32), FS, 25.0) == 0  # digital silence
    assert speech_onset_frame(np.zeros(0, np.float32), FS, 25.0) == 0


def test_quiet_runs_are_pauses_of_at_least_0_2_s_near_the_noise_floor():
    x = _speech_after(0.5)  # -60 dB noise, speech from 0.5 s
    x[int(1.0 * FS) : int(1.1 * FS)] = x[:1600]  # 0.1 s gap: a stop closure, not a pause
    x[int(1.4 * FS) : int(1.7 * FS)] = x[:4800]  # 0.3 s: a pause
    quiet = quiet_runs(x, FS, 25.0)
    assert quiet.shape == (50,) and quiet[:12].all() and not quiet[13:35].any()
    assert quiet[35:42].all() and not quiet[43:].any()


def _stage2_with_mask(tmp_path):
    """Stage 2 with --mask_outside_speech 0.2 on two utterances of constant tracks (all AUs 1):
    "late" speaks from 0.8 s, "early" from the start; returns the data dir."""
    from espnet_cause.extract.labels import make_au_labels
    from espnet_cause.io.datadir import write_kaldi_map, write_utt2spk_spk2utt
    from espnet_cause.io.openface import write_openface_csv
    from espnet_cause.io.track import AUTrack

    data = tmp_path / "data"
    utts = {"late": 0.8, "early": 0.0}
    for utt, silence in utts.items():
        sf.write(tmp_path / f"{utt}.wav", _speech_after(silence), FS)
        write_openface_csv(
            tmp_path / f"{utt}.csv", AUTrack.from_array(np.ones((60, NUM_AUS), np.float32), 30.0)
        )
    write_kaldi_map(data / "wav.scp", {u: tmp_path / f"{u}.wav" for u in utts})
    write_kaldi_map(data / "au_csv.scp", {u: tmp_path / f"{u}.csv" for u in utts})
    write_utt2spk_spk2utt(data, {u: "spk" for u in utts})
    make_au_labels(
        data, tmp_path / "dump", au_extractor="openface", au_weights="AU45=0",
        mask_outside_speech=0.2,
    )  # fmt: skip
    return data


def test_stage2_masks_the_frames_long_before_the_speech(tmp_path):
    """--mask_outside_speech 0.2: (T, 17) weights, 0 more than 0.2 s before the first speech
    frame (and after the last), the table between."""
    from espnet_cause.io.au_weight import read_au_weights

    _stage2_with_mask(tmp_path)
    weights = read_au_weights(tmp_path / "dump" / "au_weight.scp")
    late, early = weights["late"], weights["early"]
    assert late.shape == (50, NUM_AUS) and early.shape == (50, NUM_AUS)
    # onset frame 20 (0.8 s): frames 0-14 weigh 0, from 15 on the table (AU45 0, the rest 1)
    assert (late[:15] == 0).all() and (late[15:, AU_NAMES.index("AU25")] == 1).all()
    assert (late[15:, AU_NAMES.index("AU45")] == 0).all()
    assert (early[:, AU_NAMES.index("AU25")] == 1).all()


def test_stage2_can_label_the_lips_closed_outside_the_speech(tmp_path):
    """--close_lips_outside_speech: the frames masked above teach closed lips (AU25, AU26 0 at
    weight 1) instead of nothing; the other AUs there still weigh 0, the speech is untouched."""
    from espnet_cause.extract.labels import make_au_labels
    from espnet_cause.io.au_files import read_au_scp
    from espnet_cause.io.au_weight import read_au_weights

    data = _stage2_with_mask(tmp_path)
    dump = tmp_path / "closed"
    make_au_labels(
        data, dump, au_extractor="openface", au_weights="AU45=0", mask_outside_speech=0.2,
        close_lips_outside_speech=True,
    )  # fmt: skip
    lips = [AU_NAMES.index("AU25"), AU_NAMES.index("AU26")]
    others = [i for i in range(NUM_AUS) if i not in lips]
    late, early = read_au_scp(dump / "au.scp")["late"], read_au_scp(dump / "au.scp")["early"]
    weights = read_au_weights(dump / "au_weight.scp")["late"]
    assert (late[:15, lips] == 0).all() and (weights[:15, lips] == 1).all()
    assert (late[:15, others] == 1).all() and (weights[:15, others] == 0).all()
    # frames 15-19 (0.6-0.8 s): inside the margin, but a pause (the -60 dB noise floor): the lips
    # are closed there too, the other AUs keep the table's weights
    assert (late[15:20, lips] == 0).all() and (weights[15:20, lips] == 1).all()
    assert (late[15:20, others] == 1).all() and (weights[15:20, AU_NAMES.index("AU12")] == 1).all()
    assert (late[20:] == 1).all() and (early == 1).all()
    # the plain mask's labels are the tracker's
    assert (read_au_scp(tmp_path / "dump" / "au.scp")["late"] == 1).all()
    # without a margin there is nothing to close: a clear error before any work
    with pytest.raises(CauseError, match="mask_outside_speech"):
        make_au_labels(
            data, tmp_path / "x", au_extractor="openface", close_lips_outside_speech=True
        )
    assert not (tmp_path / "x").exists()
