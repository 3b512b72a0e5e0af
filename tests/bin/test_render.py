"""espnet_cause.bin.render: photo + AUs (+ speech) -> mp4, and its bad-input errors."""

from __future__ import annotations

import av
import numpy as np
import pytest
import soundfile as sf

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.bin.render import get_parser, main
from espnet_cause.io.au_files import align_aus, write_au
from espnet_cause.io.track import fill_gaps

FPS = 25


def _speech_aus(num_frames: int) -> np.ndarray:
    """An AU track whose mouth opens and closes every 0.8 s."""
    t = np.arange(num_frames) / FPS
    wave = 0.5 * (1 - np.cos(2 * np.pi * t / 0.8))
    aus = np.zeros((num_frames, NUM_AUS), np.float32)
    aus[:, au_index("AU25")] = 4.0 * wave
    aus[:, au_index("AU26")] = 3.0 * wave
    aus[:, au_index("AU12")] = 1.0
    return aus


def _read(path):
    with av.open(str(path)) as c:
        streams = {s.type: s for s in c.streams}
        durations = {k: float(s.duration * s.time_base) for k, s in streams.items()}
        names = {k: s.codec_context.name for k, s in streams.items()}
        rate = streams["video"].average_rate
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return names, durations, rate, frames


def _base(demo_image, tmp_path):
    """Photo and quiet logging; no --face_landmarker_path: the packaged model is used."""
    return ["--image", str(demo_image), "--verbose", "0"]


def test_parser_defaults():
    args = get_parser().parse_args(["--image", "a.jpg", "--au", "a.csv", "--output", "o.mp4"])
    assert args.fps == 25 and args.renderer is None and args.face_index == 0
    assert not args.side_by_side


def test_align_and_fill(caplog):
    import logging

    aus = np.arange(10 * NUM_AUS, dtype=np.float32).reshape(10, NUM_AUS)
    with caplog.at_level(logging.WARNING):
        longer = align_aus(aus, 14, source="x.csv")
    assert len(longer) == 14 and np.array_equal(longer[-1], aus[-1])
    assert "padded" in caplog.text and "x.csv" in caplog.text
    assert np.array_equal(align_aus(aus, 6), aus[:6])
    holes = aus.copy()
    holes[0, 0] = holes[3:5, 1] = np.nan
    filled = fill_gaps(holes)  # the one gap rule: edges hold, inside is linear
    assert filled[0, 0] == aus[1, 0]
    np.testing.assert_allclose(filled[2:6, 1], np.linspace(aus[2, 1], aus[5, 1], 4))


def test_render_speech_and_au_csv(demo_image, demo_wav, tmp_path, capsys):
    """Acceptance: 25 fps H.264 + AAC of the speech's duration; the mouth moves with AU25/26."""
    wav = demo_wav
    duration = sf.info(str(wav)).duration
    # the AU track is 1 s shorter than the speech: padded with a warning
    aus = _speech_aus(round((duration - 1.0) * FPS))
    write_au(tmp_path / "au.csv", aus, fps=FPS)
    out = tmp_path / "out.mp4"
    main(_base(demo_image, tmp_path) + ["--wav", str(wav), "--au", str(tmp_path / "au.csv"),
                                    "--output", str(out)])  # fmt: skip
    assert "padded with its last frame" in capsys.readouterr().err  # logged warning
    names, durations, rate, frames = _read(out)
    assert names == {"video": "h264", "audio": "aac"}
    assert rate == FPS
    assert abs(durations["audio"] - duration) < 0.1
    assert abs(durations["video"] - duration) < 0.1
    assert abs(len(frames) / FPS - duration) < 0.1

    # mouth box from the detected face
    from espnet_cause.face.landmarker import FaceLandmarker
    from espnet_cause.io.image import load_image

    image = load_image(demo_image)
    with FaceLandmarker() as lm:  # the packaged model
        pts = lm.detect(image)[0].points
    mouth = pts[[61, 291, 0, 17]]
    (x0, y0), (x1, y1) = mouth.min(0).astype(int), mouth.max(0).astype(int)
    y1 += y1 - y0  # room for the jaw drop
    opening = aus[:, au_index("AU25")]
    low = [i for i in range(len(aus)) if opening[i] < 0.2]
    high = [i for i in range(len(aus)) if opening[i] > 3.5]
    low_low = np.mean([np.abs(frames[a][y0:y1, x0:x1].astype(float) - frames[b][y0:y1, x0:x1])
                       .mean() for a, b in zip(low[:-1], low[1:])])  # fmt: skip
    low_high = np.mean([np.abs(frames[a][y0:y1, x0:x1].astype(float) - frames[b][y0:y1, x0:x1])
                        .mean() for a, b in zip(low, high)])  # fmt: skip
    assert low_high > 8.0
    assert low_high > 4 * low_low


def test_side_by_side_au_only(demo_image, tmp_path):
    write_au(tmp_path / "au.npy", _speech_aus(8))
    out = tmp_path / "sbs.mp4"
    main(_base(demo_image, tmp_path) + ["--au", str(tmp_path / "au.npy"), "--side_by_side",
                                    "--output", str(out)])  # fmt: skip
    names, durations, rate, frames = _read(out)
    assert set(names) == {"video"} and len(frames) == 8
    height, width = frames[0].shape[:2]
    assert (height, width) == (600, 512 + 600)  # photo + square panel, even sizes


def _fails(argv, capsys, *words):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err
    return err


def test_no_face_names_the_image(demo_image, tmp_path, capsys):
    import cv2

    noise = np.random.default_rng(0).integers(0, 256, (240, 240, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "noise.png"), noise)
    write_au(tmp_path / "au.npy", _speech_aus(4))
    argv = _base(demo_image, tmp_path)
    argv[1] = str(tmp_path / "noise.png")
    _fails(argv + ["--au", str(tmp_path / "au.npy"), "--output", str(tmp_path / "o.mp4")],
           capsys, "no face", "noise.png")  # fmt: skip
    assert not (tmp_path / "o.mp4").exists()


def test_face_index_out_of_range(demo_image, tmp_path, capsys):
    write_au(tmp_path / "au.npy", _speech_aus(4))
    _fails(_base(demo_image, tmp_path) + ["--au", str(tmp_path / "au.npy"), "--face_index", "3",
           "--output", str(tmp_path / "o.mp4")], capsys, "face_index")  # fmt: skip


def test_missing_and_mismatched_checkpoints(demo_image, demo_wav, tmp_path, capsys):
    write_au(tmp_path / "au.npy", _speech_aus(4))
    common = _base(demo_image, tmp_path) + ["--au", str(tmp_path / "au.npy"),
                                        "--output", str(tmp_path / "o.mp4")]  # fmt: skip
    _fails(common + ["--renderer", "ganimation"], capsys, "--generator")
    _fails(common + ["--generator", str(tmp_path / "none.pth")], capsys, "none.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    _fails(common + ["--generator", str(bad)], capsys, "bad.pth")
    import torch

    wrong = tmp_path / "wrong.pth"
    torch.save({"weight": torch.zeros(3, 3)}, wrong)
    _fails(common + ["--generator", str(wrong)], capsys, "wrong.pth")
    _fails(_base(demo_image, tmp_path) + ["--wav", str(demo_wav),
           "--model", str(tmp_path / "none.zip"), "--output", str(tmp_path / "o.mp4")],
           capsys, "none.zip")  # fmt: skip
    _fails(common + ["--model", "m.zip"], capsys, "not both")
    no_speech = _base(demo_image, tmp_path) + ["--output", str(tmp_path / "o.mp4")]
    _fails(no_speech, capsys, "--wav is required")
    assert not (tmp_path / "o.mp4").exists()


@pytest.fixture
def tiny_cause(demo_wav, tmp_path, monkeypatch):
    """A random tiny packed CAUSE model and 1.5 s of the demo speech."""
    from test_infer import make_tiny_model  # same directory (pytest prepends it to sys.path)

    from espnet_cause.inference.packing import pack_model

    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    config, pth = make_tiny_model(tmp_path / "cause_tiny")
    model = pack_model(config, pth, tmp_path / "model.zip")
    speech, sr = sf.read(str(demo_wav), dtype="float32")
    wav = tmp_path / "short.wav"
    sf.write(str(wav), speech[int(0.5 * sr) : int(2.0 * sr)], sr)  # 1.5 s keeps the test short
    return model, wav


def test_render_with_a_tiny_cause_model(demo_image, tiny_cause, tmp_path):
    """--model: AUs predicted from the speech by Speech2AU (random tiny model)."""
    model, wav = tiny_cause
    out = tmp_path / "cause.mp4"
    main(_base(demo_image, tmp_path) + ["--wav", str(wav), "--model", str(model),
                                    "--output", str(out)])  # fmt: skip
    names, durations, rate, frames = _read(out)
    duration = sf.info(str(wav)).duration
    assert names == {"video": "h264", "audio": "aac"} and rate == FPS
    assert abs(durations["audio"] - duration) < 0.1 and abs(len(frames) / FPS - duration) < 0.1
    # predicted AUs move the face
    assert max(np.abs(f.astype(float) - frames[0]).max() for f in frames[1:]) > 20


def test_render_a_set_skips_bad_items_and_resumes(demo_image, tiny_cause, tmp_path):
    """--wav_scp: one video per utterance through the batch runner, with a report."""
    from espnet_cause.jobs.batch import read_report

    model, wav = tiny_cause
    scp = tmp_path / "render.scp"
    scp.write_text(f"a_good {wav}\nb_missing {tmp_path / 'nope.wav'}\n")
    out = tmp_path / "set"
    cmd = _base(demo_image, tmp_path) + ["--wav_scp", str(scp), "--model", str(model),
                                         "--output_dir", str(out), "--side_by_side"]  # fmt: skip
    main(cmd)
    names, durations, rate, frames = _read(out / "a_good.mp4")
    assert names == {"video": "h264", "audio": "aac"} and rate == FPS
    assert abs(len(frames) / FPS - sf.info(str(wav)).duration) < 0.1
    assert frames[0].shape[1] > 512  # the side panel is there (the photo is 512 wide)
    assert not (out / "b_missing.mp4").exists()
    report = read_report(out / "render_report.tsv")
    assert report["a_good"]["status"] == "ok" and report["a_good"]["frames"] == str(len(frames))
    assert report["b_missing"]["status"] == "error" and "nope.wav" in report["b_missing"]["reason"]
    before = (out / "a_good.mp4").stat().st_mtime_ns
    main(cmd)  # resumes: the finished video is not made again
    assert (out / "a_good.mp4").stat().st_mtime_ns == before


def test_frames_match_infer_and_end_with_the_audio(demo_image, demo_wav, tmp_path):
    """A 3.09 s utterance: as many frames as infer gives (ceil(3.09 * 25) = 78; rounding gave
    77), and the video ends with the audio (within one frame)."""
    from espnet_cause.assets import cause_model
    from espnet_cause.inference import Speech2AU

    speech, sr = sf.read(str(demo_wav), dtype="float32")
    wav = tmp_path / "three.wav"
    sf.write(str(wav), speech[: int(3.09 * sr)], sr)
    expected = len(Speech2AU(model=str(cause_model()))(speech[: int(3.09 * sr)], sr))
    assert expected == 78
    out = tmp_path / "three.mp4"
    main(_base(demo_image, tmp_path) + ["--wav", str(wav), "--output", str(out)])
    names, durations, rate, frames = _read(out)
    assert len(frames) == expected
    assert abs(durations["video"] - durations["audio"]) < 1.0 / FPS
    # a given AU track is cut to the same count
    write_au(tmp_path / "au.npy", _speech_aus(90))
    main(_base(demo_image, tmp_path) + ["--wav", str(wav), "--au", str(tmp_path / "au.npy"),
                                    "--output", str(out)])  # fmt: skip
    assert len(_read(out)[3]) == expected


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--gain", "-1"), ("--gain", "100"), ("--gain", "nan"), ("--fps", "0"), ("--fps", "1000"),
     ("--fps", "inf"), ("--head_motion", "-0.5"), ("--head_motion", "50"),
     ("--blink_rate", "-1"), ("--blink_rate", "600"), ("--face_index", "-1"),
     ("--face_index", "99"), ("--batch_size", "0")],
)  # fmt: skip
def test_settings_out_of_range(demo_image, tmp_path, capsys, flag, value):
    write_au(tmp_path / "au.npy", _speech_aus(4))
    argv = _base(demo_image, tmp_path) + ["--au", str(tmp_path / "au.npy"), flag, value,
                                          "--output", str(tmp_path / "o.mp4")]  # fmt: skip
    err = _fails(argv, capsys, flag, value)
    assert "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


def _png_header(path, width: int, height: int) -> None:
    """A PNG whose header says width x height (the pixel data is a stub: never decoded)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    stub = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stub)
                     + chunk(b"IEND", b""))  # fmt: skip


@pytest.mark.parametrize(("width", "height", "words"), [
    (8000, 6000, ("8000x6000", "40 megapixels")),
    (30000, 30000, ("megapixels",)),
])  # fmt: skip
def test_too_large_photo_is_refused_from_its_header(tmp_path, capsys, width, height, words):
    big = tmp_path / "big.png"
    _png_header(big, width, height)
    write_au(tmp_path / "au.npy", _speech_aus(4))
    argv = ["--image", str(big), "--verbose", "0", "--au", str(tmp_path / "au.npy"),
            "--output", str(tmp_path / "o.mp4")]  # fmt: skip
    _fails(argv, capsys, "big.png", *words)
    assert not (tmp_path / "o.mp4").exists()
