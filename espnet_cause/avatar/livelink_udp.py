"""Live Link Face over UDP: the packets Unreal's Live Link Face source receives, paced in real time.

Epic's Live Link Face app streams one UDP datagram per frame to each target (default port
:data:`DEFAULT_PORT`); Unreal's *Live Link Face* source (Window > Live Link > Source > Live Link
Face) listens for them and shows one subject per subject name. A datagram (all integers and
floats big-endian, strings length-prefixed)::

    uint8    packet version          6
    uint32   device id length        36
    bytes    device id               a UUID string, UTF-8 (36 characters)
    uint32   subject name length
    bytes    subject name            UTF-8
    int32    frame number            FFrameTime's frame ...
    float32  sub-frame               ... and its fraction (0 here: frames are on the grid)
    int32    frame rate numerator    60
    int32    frame rate denominator  1
    uint8    value count             61
    float32  x 61                    the 52 blendshapes in ARKit order, then the 9 head and
                                     eye rotations (HeadYaw ... RightEyeRoll)

The value order is Unreal's ``EARFaceBlendShape``: the 52 in Apple's order
(:data:`~espnet_cause.arkit.ARKIT_NAMES`: ``JawLeft`` before ``JawRight``, ``MouthLeft`` before
``MouthRight``, unlike the Live Link Face CSV's columns, :mod:`espnet_cause.io.livelink`), then
:data:`~espnet_cause.arkit.LIVELINK_ROTATION_NAMES`; decoders of the stream (PyPI's
``pylivelinkface``) read it in that order. The device id is exactly 36 characters, as the app's (a UUID):
decoders such as PyPI's ``pylivelinkface`` read it at a fixed offset. The frame number counts
frames of the day at the take's rate (the app sends its timecode), so it grows by one per frame.
Rotations are in radians, as ARKit's head and eye transforms give them.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import struct
import time
import uuid
from collections.abc import Callable, Iterable

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES, LIVELINK_ROTATION_NAMES
from espnet_cause.avatar.animation import animate_speech
from espnet_cause.avatar.playback import Playback
from espnet_cause.errors import CauseError
from espnet_cause.inference import Speech2AU
from espnet_cause.io.audio import load_speech

#: The packet version the Live Link Face app sends (and Unreal's source expects).
PACKET_VERSION = 6
#: Values per packet: 52 blendshapes + 9 rotations.
NUM_VALUES = len(ARKIT_NAMES) + len(LIVELINK_ROTATION_NAMES)
#: The port Unreal's Live Link Face source listens on by default (and the app sends to).
DEFAULT_PORT = 11111
#: The app streams at 60 frames per second.
DEFAULT_FPS = 60
DEFAULT_SUBJECT = "espnet-cause"
#: The length every device id has (a UUID string).
DEVICE_ID_LENGTH = 36


def device_id_for(subject: str) -> str:
    """A stable 36-character device id for a subject on this machine (a UUID-5 string)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{socket.gethostname()}/{subject}"))


def encode_packet(
    values: np.ndarray, *, subject: str, device_id: str, frame: int, fps: int = DEFAULT_FPS
) -> bytes:
    """One Live Link Face datagram (module docstring).

    Args:
        values: (61,) blendshapes (ARKit order, 0..1) then the 9 rotations (radians).
        subject: The subject name Unreal lists.
        device_id: 36 characters (:func:`device_id_for`).
        frame: Frame number (FFrameTime's frame at ``fps``).
        fps: Frame rate (numerator; the denominator is 1).

    Returns:
        The packet bytes.
    """
    values = np.asarray(values, dtype=">f4").reshape(-1)
    if values.size != NUM_VALUES:
        raise ValueError(f"a Live Link packet has {NUM_VALUES} values, got {values.size}")
    device = device_id.encode("utf-8")
    if len(device) != DEVICE_ID_LENGTH:
        raise ValueError(f"device id must be {DEVICE_ID_LENGTH} bytes (a UUID), got {device_id!r}")
    name = subject.encode("utf-8")
    return b"".join(
        [
            struct.pack(">BI", PACKET_VERSION, len(device)),
            device,
            struct.pack(">I", len(name)),
            name,
            struct.pack(">ifiiB", frame, 0.0, fps, 1, NUM_VALUES),
            values.tobytes(),
        ]
    )


def packet_values(arkit: np.ndarray, rotations: np.ndarray | None = None) -> np.ndarray:
    """Frames of ARKit blendshapes (Apple order) and rotations as packet values.

    Args:
        arkit: (T, 52) weights in :data:`~espnet_cause.arkit.ARKIT_NAMES` order (clipped to 0..1).
        rotations: (T, 9) head and eye rotations in Live Link order (radians), or None (zeros).

    Returns:
        (T, 61) float32: the 52 in ARKit order, then the 9 rotations.
    """
    shapes = np.clip(np.asarray(arkit, np.float32), 0.0, 1.0)
    if shapes.ndim != 2 or shapes.shape[1] != len(ARKIT_NAMES):
        raise ValueError(f"blendshapes have shape {shapes.shape}, expected (T, 52)")
    if rotations is None:
        rotations = np.zeros((len(shapes), len(LIVELINK_ROTATION_NAMES)), np.float32)
    rotations = np.asarray(rotations, np.float32)
    if rotations.shape != (len(shapes), len(LIVELINK_ROTATION_NAMES)):
        raise ValueError(f"rotations have shape {rotations.shape}, expected ({len(shapes)}, 9)")
    return np.nan_to_num(np.hstack([shapes, rotations]))


def parse_target(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``, port :data:`DEFAULT_PORT`) -> (host, port).

    Raises:
        CauseError: for a malformed target or a port out of range.
    """
    host, _, port_text = text.rpartition(":") if ":" in text else (text, "", str(DEFAULT_PORT))
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not host or not 0 < port < 65536:
        raise CauseError(
            f"Live Link target {text!r} is not HOST:PORT", fix="e.g. 192.168.1.20:11111"
        )
    return host, port


class LiveLinkSender:
    """Sends Live Link Face packets of one subject to one target over UDP.

    Args:
        host: Address of the machine running Unreal (its Live Link Face source).
        port: Its port (default :data:`DEFAULT_PORT`).
        subject: Subject name shown in Unreal's Live Link window.
        fps: Frame rate written in the packets.

    Raises:
        CauseError: when the host cannot be resolved.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        subject: str = DEFAULT_SUBJECT,
        fps: int = DEFAULT_FPS,
    ) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except (socket.gaierror, UnicodeError) as e:
            raise CauseError(
                f"cannot resolve Live Link host {host!r}: {e}", fix="check --host"
            ) from None
        family, _, _, _, self.address = infos[0]
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.subject = subject
        self.device_id = device_id_for(subject)
        self.fps = int(fps)
        now = datetime.datetime.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        #: Frame number of the first packet: frames of the day at ``fps`` (the app's timecode).
        self.first_frame = int((now - midnight).total_seconds() * self.fps)
        self.sent = 0

    def send(self, values: np.ndarray) -> None:
        """Send one frame: (61,) values (:func:`packet_values` row)."""
        packet = encode_packet(
            values,
            subject=self.subject,
            device_id=self.device_id,
            frame=self.first_frame + self.sent,
            fps=self.fps,
        )
        try:
            self.sock.sendto(packet, self.address)
        except OSError as e:
            raise CauseError(f"cannot send to {self.address[0]}:{self.address[1]}: {e}") from None
        self.sent += 1

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> LiveLinkSender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def send_paced(
    sender: LiveLinkSender,
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    start: float | None = None,
) -> float:
    """Send frames in real time: frame ``k`` at ``start + k / fps`` on ``clock``.

    A frame whose time has passed (the sender fell behind) is sent at once; none is dropped.

    Args:
        sender: Where to send.
        frames: (61,) value rows (:func:`packet_values`).
        fps: Their frame rate.
        clock: Seconds (monotonic).
        sleep: How to wait.
        start: Clock time of frame 0 (default: now), e.g. when the audio started playing.

    Returns:
        The largest lateness of a frame, seconds.
    """
    t0 = clock() if start is None else start
    late = 0.0
    for k, row in enumerate(frames):
        due = t0 + k / fps
        wait = due - clock()
        if wait > 0:
            sleep(wait)
        late = max(late, clock() - due)
        sender.send(row)
    return late


def send_take(
    take,
    host: str,
    port: int = DEFAULT_PORT,
    *,
    subject: str = DEFAULT_SUBJECT,
    speech: np.ndarray | None = None,
    sr: int | None = None,
) -> dict:
    """Stream a take to a Live Link target in real time, optionally playing its speech here.

    Args:
        take: An :class:`~espnet_cause.avatar.animation.Animation` (its ``fps`` must be whole).
        host: Target address.
        port: Target port.
        subject: Subject name.
        speech: (N,) mono speech to play at the same moment (:mod:`espnet_cause.avatar.playback`),
            or None.
        sr: Its sample rate.

    Returns:
        ``{"frames", "seconds", "max_late_s"}``: packets sent, wall time, worst lateness.
    """
    fps = int(round(take.fps))
    values = packet_values(take.arkit, take.rotations)
    with LiveLinkSender(host, port, subject=subject, fps=fps) as sender:
        with contextlib.ExitStack() as stack:
            if speech is not None:
                stack.enter_context(Playback(speech, sr))
            started = time.monotonic()
            late = send_paced(sender, values, take.fps)
            took = time.monotonic() - started
        return {"frames": sender.sent, "seconds": round(took, 3), "max_late_s": round(late, 4)}


def send_wav(
    wav: str,
    host: str,
    port: int = DEFAULT_PORT,
    *,
    subject: str = DEFAULT_SUBJECT,
    model: str | None = None,
    fps: int = DEFAULT_FPS,
    play: bool = False,
    motion: dict | None = None,
) -> dict:
    """The ``livelink`` CLI's job: a speech file -> a take -> Live Link packets in real time.

    Args:
        wav: Speech file (any rate, mono or multi-channel).
        host: Target address.
        port: Target port.
        subject: Subject name.
        model: CAUSE ``model.zip`` (None: the built-in model).
        fps: Packets per second.
        play: Also play the speech on this machine.
        motion: ``head_motion``, ``blink_rate``, ``seed`` of the take.

    Returns:
        :func:`send_take`'s summary.
    """
    samples, sr = load_speech(wav, name=wav)
    speech2au = Speech2AU(model)
    take = animate_speech(speech2au, samples, sr, fps=float(fps), name=wav, **(motion or {}))
    mono = speech2au.prepare(samples, sr, wav) if play else None
    return send_take(take, host, port, subject=subject, speech=mono, sr=speech2au.fs)
