"""Shared test fixtures, all inside the repository: nothing beside the clone is read.

- ``face_model``, ``demo_image``, ``demo_wav``: the files that ship with the package
  (``espnet_cause/assets``: MediaPipe's face_landmarker.task, the public-domain Grace Hopper photo,
  CMU ARCTIC a0007).
- ``smile_video``: made once per session: the demo photo moved by the project's warp renderer from
  a known AU12 ramp (neutral, then smiling from 0.7 s on), with the first 2.4 s of the demo speech
  as AAC audio (640x600, 30 fps, 72 frames).
- ``openface20_csv``: an OpenFace 2.0 FeatureExtraction CSV written in that program's real column
  layout (431 columns, header separated by ``", "``), 100 frames with known AU values.
- ``tiny_fastspeech2_au``: a FastSpeech2AU trained two steps on the tests/tts corpus (CLI tests
  and the bad-input catalogue use it).

A test skipped on a clean clone is a failure: set ``ESPNET_CAUSE_NO_SKIP=1`` (CI does) and every
skip is turned into a failure naming its reason.
"""

from __future__ import annotations

import gc
import importlib.util
import os
from pathlib import Path

import pytest
from made_fixtures import (
    SMILE_FPS,
    SMILE_FRAMES,
    SMILE_WIDTH,
    smile_aus,
    widen,
    write_openface20_csv,
)

#: Environment variable that turns skipped tests into failures (set by .ci/parts/20-test.sh).
NO_SKIP_ENV = "ESPNET_CAUSE_NO_SKIP"


def _fail_skip(report) -> None:
    if report.skipped and os.environ.get(NO_SKIP_ENV) and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and {NO_SKIP_ENV} forbids skips: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With ``ESPNET_CAUSE_NO_SKIP`` set, a skipped test is reported as failed, with its reason."""
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at import (``pytest.importorskip`` at module level)."""
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.fixture(autouse=True)
def _collect_between_tests():
    """Run the garbage collector after every test: MediaPipe's own finalizer closes its graph and
    waits on a dispatcher thread, which deadlocked when a collection happened to run inside a
    later test's matplotlib call (espnet2's trainer plotting); between tests it is harmless."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def face_model() -> Path:
    """The packaged MediaPipe ``face_landmarker.task``."""
    from espnet_cause import assets

    return assets.face_landmarker()


@pytest.fixture(scope="session")
def demo_image() -> Path:
    """The packaged demo photo (Grace Hopper, 512x600 RGB)."""
    from espnet_cause import assets

    return assets.demo_image()


@pytest.fixture(scope="session")
def demo_wav() -> Path:
    """The packaged demo speech (CMU ARCTIC a0007, 16 kHz mono, 4.0 s)."""
    from espnet_cause import assets

    return assets.demo_wav()


@pytest.fixture(scope="session")
def smile_video(tmp_path_factory, demo_image, demo_wav) -> Path:
    """A 2.4 s mp4 of the demo face going from neutral to smiling, with speech as audio.

    640x600 (the 512x600 photo with its edge columns repeated), 30 fps, 72 frames (H.264), AAC
    mono 16 kHz; rendered by
    :class:`espnet_cause.render.warp.WarpRenderer` from :func:`smile_aus`.
    """
    from espnet_cause.io.audio import load_audio
    from espnet_cause.io.image import load_image
    from espnet_cause.io.mp4 import write_mp4
    from espnet_cause.render.warp import WarpRenderer

    path = tmp_path_factory.mktemp("smile") / "smile.mp4"
    speech, sample_rate = load_audio(demo_wav)
    renderer = WarpRenderer()
    try:
        frames = renderer.render(widen(load_image(demo_image), SMILE_WIDTH), smile_aus())
        audio = speech[: round(SMILE_FRAMES / SMILE_FPS * sample_rate)]
        write_mp4(path, frames, SMILE_FPS, audio=audio, sample_rate=sample_rate)
    finally:
        renderer.close()
    return path


@pytest.fixture(scope="session", params=[",", ", "], ids=["comma", "comma_space"])
def openface20_csv(request, tmp_path_factory) -> Path:
    """An OpenFace 2.0 CSV (values: :func:`openface20_aus`), rows separated by "," and ", "."""
    root = tmp_path_factory.mktemp("openface20")
    return write_openface20_csv(root / "openface20.csv", row_sep=request.param)


@pytest.fixture(scope="module")
def landmarker_path(face_model):
    return face_model


@pytest.fixture(scope="module")
def landmarker(landmarker_path):
    from espnet_cause.face.landmarker import FaceLandmarker

    with FaceLandmarker(landmarker_path) as lm:
        yield lm


@pytest.fixture(scope="module")
def tracker(landmarker_path):
    """The built-in AU tracker (what the closed loop reads rendered frames with)."""
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor

    with MediaPipeAUExtractor(landmarker_path, threaded=False) as extractor:
        yield extractor


@pytest.fixture(scope="module")
def grace(demo_image):
    """The demo photo as (H, W, 3) uint8 RGB."""
    from espnet_cause.io.image import load_image

    return load_image(demo_image)


TTS_TESTS = Path(__file__).resolve().parent / "tts"


def _load(name: str, path: Path):
    """Import a tests/tts module under a private name (no clash with pytest's own imports)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_fastspeech2_au(tmp_path_factory) -> tuple[Path, dict]:
    """(exp dir, corpus) of a FastSpeech2AU trained two steps on the tests/tts corpus, once per
    session; the exp dir holds ``config.yaml`` and ``1epoch.pth``. Tests only read it."""
    from espnet_cause.bin.au_tts_train import main as train

    corpus_mod = _load("_tts_corpus_conftest", TTS_TESTS / "conftest.py")
    training = _load("_tts_training_helpers", TTS_TESTS / "test_tts_training.py")
    root = tmp_path_factory.mktemp("tiny_fastspeech2_au")
    corpus = corpus_mod.write_corpus(root / "corpus")
    shape = training._shape_file(corpus, root / "speech_shape")
    args = training._common(root, "tts_fastspeech2_au_tiny.yaml")
    args += ["--token_list", str(corpus["token_list"])]
    extra = [("durations", "durations", "text_int"), ("au.scp", "au", "kaldi_ark")]
    args += training._data_args(corpus, extra, shape)
    train(args)
    return root / "exp", corpus
