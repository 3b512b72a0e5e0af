"""Play speech through the machine's own audio player while a take streams (``livelink --play``).

The first player found on ``PATH`` (:data:`PLAYERS`: ALSA's ``aplay``, PulseAudio's ``paplay``,
PipeWire's ``pw-play``, FFmpeg's ``ffplay``, macOS's ``afplay``) plays a temporary wav file in a
child process; nothing is linked into Python, so the sender has no audio dependency.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.audio import write_wav

#: Players tried in order, with their arguments before the file name.
PLAYERS: tuple[tuple[str, ...], ...] = (
    ("aplay", "-q"),
    ("paplay",),
    ("pw-play",),
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"),
    ("afplay",),
)


def find_player() -> list[str]:
    """The command of the first player on ``PATH``.

    Raises:
        CauseError: when there is none.
    """
    for command in PLAYERS:
        path = shutil.which(command[0])
        if path:
            return [path, *command[1:]]
    names = ", ".join(c[0] for c in PLAYERS)
    raise CauseError(
        f"--play needs an audio player on PATH ({names}) and none was found",
        fix="install one (Debian: apt-get install -y alsa-utils) or leave out --play",
    )


class Playback:
    """Speech playing in a child process; ``with Playback(x, sr): ...`` waits for its end.

    Args:
        samples: (N,) mono float speech.
        sr: Its sample rate.
    """

    def __init__(self, samples: np.ndarray, sr: int) -> None:
        self.command = find_player()
        self._dir = tempfile.TemporaryDirectory(prefix="espnet-cause-play-")
        self.path = Path(self._dir.name) / "speech.wav"
        write_wav(self.path, np.asarray(samples, np.float32), sr)
        self.process = subprocess.Popen(
            [*self.command, str(self.path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )

    def __enter__(self) -> Playback:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is not None:  # the take was cut short: stop the sound too
                self.process.terminate()
            self.process.wait()
        finally:
            self._dir.cleanup()
