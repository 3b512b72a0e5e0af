"""Live Link Face over UDP: the sender's packets read by an independent decoder (PyPI
``pylivelinkface``) from a loopback socket, arriving in real time with the jaw following the speech."""

from __future__ import annotations

import math
import os
import socket
import stat
import threading
import time

import numpy as np
import pytest
from pylivelinkface import FaceBlendShape, PyLiveLinkFace

from espnet_cause.arkit import ARKIT_NAMES, LIVELINK_ROTATION_NAMES, to_pascal
from espnet_cause.avatar.livelink_udp import (
    DEVICE_ID_LENGTH,
    device_id_for,
    encode_packet,
    parse_target,
)
from espnet_cause.bin.livelink import main
from espnet_cause.errors import CauseError


class Receiver:
    """Collects (arrival time, datagram) on a loopback UDP port in a thread."""

    def __init__(self, quiet_s: float = 1.5) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(quiet_s)
        self.port = self.sock.getsockname()[1]
        self.packets: list[tuple[float, bytes]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                if self.packets:
                    return
                continue
            self.packets.append((time.monotonic(), data))

    def wait(self) -> list[tuple[float, bytes]]:
        self.thread.join(30)
        self.sock.close()
        return self.packets


def test_a_packet_decodes_with_pylivelinkface():
    values = np.linspace(0, 1, 61, dtype=np.float32)
    values[52:] = [0.1, -0.2, 0.05, 0.0, 0.3, 0.0, -0.1, 0.2, 0.0]
    packet = encode_packet(values, subject="Narrator", device_id=device_id_for("x"), frame=1234)
    ok, face = PyLiveLinkFace.decode(packet)
    assert ok and face.name == "Narrator" and face.fps == 60 and face._denominator == 1
    assert face._frames == 1234 and face._version == 6
    np.testing.assert_allclose(face._blend_shapes, values, atol=1e-7)
    # the decoder's names: ARKit's 52 in Apple's order (PascalCase), then the rotations
    assert [m.name for m in FaceBlendShape] == [to_pascal(n) for n in ARKIT_NAMES] + list(
        LIVELINK_ROTATION_NAMES
    )
    with pytest.raises(ValueError, match="61 values"):
        encode_packet(values[:52], subject="a", device_id=device_id_for("x"), frame=0)
    with pytest.raises(ValueError, match="36 bytes"):
        encode_packet(values, subject="a", device_id="short", frame=0)
    assert len(device_id_for("anything")) == DEVICE_ID_LENGTH


def test_targets_parse_and_bad_ones_are_refused():
    assert parse_target("10.0.0.2:11112") == ("10.0.0.2", 11112)
    assert parse_target("studio-pc") == ("studio-pc", 11111)
    for bad in ("host:port", "host:0", ":11111", "host:70000"):
        with pytest.raises(CauseError, match="not HOST:PORT"):
            parse_target(bad)


def test_speech_streams_to_a_live_link_source_in_real_time(padded_speech):
    path, samples, sr, lead = padded_speech
    duration = len(samples) / sr
    receiver = Receiver()
    sent = main(["--wav", str(path), "--port", str(receiver.port), "--subject", "Test"])
    packets = receiver.wait()

    expected = math.ceil(duration * 60)
    assert sent["frames"] == expected and len(packets) == expected  # loopback loses none
    faces = [PyLiveLinkFace.decode(data) for _, data in packets]
    assert all(ok for ok, _ in faces)
    faces = [f for _, f in faces]
    assert {f.name for f in faces} == {"Test"} and {f.fps for f in faces} == {60}
    assert len({f.uuid for f in faces}) == 1
    frames = np.array([f._frames for f in faces])
    assert (np.diff(frames) == 1).all()  # one frame number per packet, increasing
    # paced in real time: 60 a second over the speech's length (loose bounds: a shared machine)
    arrivals = np.array([t for t, _ in packets])
    span = arrivals[-1] - arrivals[0]
    assert 0.9 * (expected - 1) / 60 <= span <= 1.6 * duration, span
    per_second = np.diff(arrivals)
    assert np.median(per_second) == pytest.approx(1 / 60, abs=0.006)

    values = np.array([f._blend_shapes for f in faces])
    jaw = values[:, FaceBlendShape.JawOpen.value]
    silent, speech = jaw[: int((lead - 0.15) * 60)], jaw[int((lead + 0.1) * 60) :]
    assert silent.max() < 0.05 and speech.max() > 0.15 and speech.mean() > 4 * silent.mean() + 0.02
    # the head moves (nods, drifts) and the weights are in range
    head = values[:, [FaceBlendShape.HeadYaw.value, FaceBlendShape.HeadPitch.value]]
    assert np.ptp(head, axis=0).min() > np.deg2rad(0.3)
    assert values[:, :52].min() >= 0.0 and values[:, :52].max() <= 1.0
    assert np.all(values[:, FaceBlendShape.TongueOut.value] == 0.0)


def _fake_player(directory, log):
    player = directory / "aplay"
    player.write_text(f'#!/bin/sh\ncp "$2" "{log}"\n')
    player.chmod(player.stat().st_mode | stat.S_IEXEC)


def test_play_runs_the_audio_player_with_the_speech(padded_speech, tmp_path, monkeypatch):
    import soundfile as sf

    path, samples, sr, _ = padded_speech
    short = tmp_path / "short.wav"
    sf.write(str(short), samples[-int(0.4 * sr) :], sr)
    bin_dir, played = tmp_path / "bin", tmp_path / "played.wav"
    bin_dir.mkdir()
    _fake_player(bin_dir, played)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + "/usr/bin:/bin")
    receiver = Receiver(quiet_s=1.0)
    main(["--wav", str(short), "--port", str(receiver.port), "--play", "--head_motion", "0"])
    assert len(receiver.wait()) == 24
    heard, rate = sf.read(str(played))
    assert rate == 16000 and abs(len(heard) / rate - 0.4) < 0.01


def test_play_without_a_player_says_what_to_install(padded_speech, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no player anywhere
    with pytest.raises(SystemExit) as e:
        main(["--wav", str(padded_speech[0]), "--port", "9", "--play"])
    assert e.value.code == 2
    assert "alsa-utils" in capsys.readouterr().err
