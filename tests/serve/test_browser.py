"""The page in a real browser: headless Chromium with its microphone faked from a wav file.

Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``;
CI installs them in ``.ci/parts/15-browser-deps.sh``) are driven by Selenium through the system
chromedriver (no driver download). The test uploads a face photo, talks into the fake
microphone, checks that AU frames arrive and the face image changes over time, that the ARKit
curves are drawn, the avatar drawn from them moves and the stream's latency is shown, stops,
renders the take as mp4 and downloads it, then streams a wav file chosen in the page forwarded to
a Live Link target (a loopback UDP socket); it saves a screenshot (``live.png`` in the test's
temporary directory, path printed).
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from serve_helpers import LiveServer, changed_pixels, speechlike

from espnet_cause.au import AU_NAMES
from espnet_cause.serve.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install -y chromium chromium-driver"


def wait_for(driver, script: str, timeout: float = 30.0, what: str = ""):
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return {script};")
        if value:
            return value
        if time.monotonic() > deadline:
            state = driver.execute_script("return JSON.stringify(window.live || null);")
            errors = driver.execute_script("return document.getElementById('error').textContent;")
            raise AssertionError(
                f"timed out waiting for {what or script}: live={state} error={errors!r}"
            )
        time.sleep(0.1)


def face_pixels(driver) -> np.ndarray:
    """The face canvas as an (H, W, 4) array (read in the page)."""
    data = driver.execute_script(
        "const c = document.getElementById('face');"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];"
    )
    width, height, values = data
    return np.array(values, np.uint8).reshape(height, width, 4)


#: A canvas's pixel values summed in the page (cheap to compare over time).
CANVAS_SUM = (
    "const c = document.getElementById(arguments[0]);"
    "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
    "let s = 0; for (let i = 0; i < d.length; i++) s += d[i] * (1 + (i % 7)); return s;"
)


@pytest.fixture
def browser(tmp_path, demo_wav):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"needs Debian's headless Chromium and its driver: {INSTALL}")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    mic = demo_wav  # real speech with pauses (16 kHz mono PCM wav); Chromium loops it
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}", "--autoplay-policy=no-user-gesture-required",
    ):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver, downloads
    finally:
        driver.quit()


def test_page_moves_the_face_as_you_talk(browser, speech2au, face_model, demo_image, tmp_path):
    landmarker, photo = face_model, demo_image
    driver, downloads = browser
    from selenium.webdriver.common.by import By

    unreal = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a Live Link target
    unreal.bind(("127.0.0.1", 0))
    unreal.settimeout(5)
    target = f"127.0.0.1:{unreal.getsockname()[1]}"
    app = create_app(
        speech2au=speech2au, face_landmarker_path=landmarker, image=photo, livelink=target
    )
    with LiveServer(app) as server:
        driver.get(server.url + "/")
        wait_for(driver, "window.live && window.live.ready", what="the page to load")

        # a face photo chosen in the page is checked by the server (face found)
        driver.find_element(By.ID, "photo").send_keys(str(photo))
        wait_for(driver, "document.getElementById('photo-note').textContent.includes('face found')")
        rest = face_pixels(driver)

        # talk: the fake microphone streams; frames arrive and the face changes over time
        driver.find_element(By.ID, "talk").click()
        wait_for(
            driver, "window.live.frames >= 25 && window.live.images >= 5", what="frames and images"
        )
        # the face keeps changing: at least 3 snapshots, each different from the one before
        changes, moved, last = [], 0, face_pixels(driver)
        deadline = time.monotonic() + 15
        while len(changes) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            now = face_pixels(driver)
            moved = max(moved, changed_pixels(now, rest))
            if changed_pixels(now, last) >= 5:  # identical AUs give identical JPEG frames
                changes.append(changed_pixels(now, last))
                last = now
        assert moved >= 50, f"the face never moved from the photo ({moved} pixels changed)"
        assert len(changes) >= 3, f"the face stopped changing: changes {changes} in 15 s"
        frames_before = driver.execute_script("return window.live.frames;")
        time.sleep(0.5)
        frames_after = driver.execute_script("return window.live.frames;")
        assert frames_after - frames_before >= 8, "AU frames do not keep arriving in real time"
        driver.save_screenshot(str(tmp_path / "live.png"))
        print("screenshot:", tmp_path / "live.png")

        driver.find_element(By.ID, "stop").click()
        wait_for(driver, "window.live.ended === 1", what="the end of the take")
        assert driver.execute_script("return window.live.errors;") == []

        # render the take as mp4 and download it
        wait_for(driver, "!document.getElementById('render').disabled")
        driver.find_element(By.ID, "render").click()
        wait_for(driver, "window.live.mp4Bytes > 0", timeout=240, what="the mp4")  # a busy machine
        driver.find_element(By.ID, "download").click()
        deadline = time.monotonic() + 30
        while not list(downloads.glob("*.mp4")) and time.monotonic() < deadline:
            time.sleep(0.2)
        files = list(downloads.glob("*.mp4"))
        assert files, f"no mp4 downloaded: {list(downloads.iterdir())}"
        import av

        with av.open(str(files[0])) as c:
            assert c.streams.video and c.streams.audio
            assert c.streams.video[0].codec_context.width > 0
            num_frames = sum(1 for _ in c.decode(video=0))
        take = driver.execute_script("return window.live.take;")
        assert abs(num_frames - take["samples"] / take["sampleRate"] * 25) <= 1

        # a wav file chosen in the page streams at real-time pace too
        wav = tmp_path / "speech.wav"
        sf.write(wav, speechlike(1.2, fs=22050, seed=6), 22050, subtype="PCM_16")
        driver.find_element(By.ID, "livelink").click()  # forwarded to Live Link this time
        driver.find_element(By.ID, "wav").send_keys(str(wav))
        # the ARKit curves, the avatar drawn from them and the stream's latency, as it runs
        drawings, deadline = set(), time.monotonic() + 60
        while time.monotonic() < deadline:
            drawings.add(driver.execute_script(CANVAS_SUM, "avatar"))
            if driver.execute_script("return window.live.ended === 2;"):
                break
            time.sleep(0.1)
        wait_for(driver, "window.live.ended === 2", what="the wav take")
        assert len(drawings) >= 3, "the avatar does not move"
        assert driver.execute_script("return window.live.arkitFrames;") == 30
        assert driver.execute_script(CANVAS_SUM, "arkit") > 0  # the 52 bars are drawn
        latency = driver.execute_script("return window.live.latency;")
        assert 0 < latency < 5000, latency
        assert "latency:" in driver.find_element(By.ID, "latency").text
        packets = [unreal.recv(65536) for _ in range(30)]
        unreal.close()
        assert all(p[0] == 6 for p in packets)  # Live Link Face packet version
        assert driver.execute_script("return window.live.frames;") == 30, driver.execute_script(
            "return [JSON.stringify(window.live), document.getElementById('status').textContent];"
        )
        assert driver.execute_script("return window.live.errors;") == []
    png = (tmp_path / "live.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy(tmp_path / "live.png", tmp_path / "live_final.png")


RUN_IN_PAGE = """
const [signal, chunk, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
(async () => {
  const { parseFrontend, LogMel, FrameStream } = await import("/static/logmel.js");
  const { loadLocalModel } = await import("/static/local.js");
  const params = parseFrontend(await (await fetch("/model/frontend.json")).text());
  const feats = new LogMel(params).features(Float32Array.from(signal));
  const model = await loadLocalModel();
  let state = null;
  const encode = async (rows, t) => {
    const feeds = { feats: new model.ort.Tensor("float32", rows, [1, t, params.nMels]) };
    let out;
    if (state === null) out = await model.first.run(feeds);
    else (state.forEach((s, i) => (feeds[`state_in_${i}`] = s)), (out = await model.next.run(feeds)));
    state = Array.from({ length: model.states }, (_, i) => out[`state_out_${i}`]);
    return out.au.data;
  };
  const stream = new FrameStream(params, encode, () => (state = null));
  const x = Float32Array.from(signal);
  const frames = [];
  for (let i = 0; i < x.length; i += chunk) frames.push(...(await stream.accept(x.subarray(i, i + chunk))));
  frames.push(...(await stream.finish()));
  done({ feats: Array.from(feats), frames, numAus: params.numAus, nMels: params.nMels });
})().catch((e) => done({ error: String(e && e.stack || e) }));
"""


def test_page_runs_the_model_itself(browser, speech2au, causal_model_zip, tmp_path):
    """In-browser mode: onnxruntime-web from the server's static/ort/, the JavaScript log-mel
    frontend equal to the Python one within 1e-3, frames equal to the Python ONNX stream."""
    from selenium.webdriver.common.by import By

    from espnet_cause.inference.onnx.runtime import OnnxCAUSE

    driver, _ = browser
    lite = OnnxCAUSE.from_zip(causal_model_zip)
    app = create_app(speech2au=speech2au)  # no face landmarker: AU bars only
    with LiveServer(app) as server:
        driver.set_script_timeout(60)
        driver.get(server.url + "/?local=1")
        wait_for(driver, "window.live && window.live.ready", what="the page to load")
        assert driver.execute_script("return document.getElementById('local').checked;")

        signal = speechlike(1.3, seed=3)
        signal[:2000] = 0.0  # digital silence, then speech
        got = driver.execute_async_script(RUN_IN_PAGE, signal.tolist(), 640)
        assert "error" not in got, got.get("error")
        feats = np.asarray(got["feats"], np.float32).reshape(-1, got["nMels"])
        want = lite.frontend.features(signal)
        assert feats.shape == want.shape and np.abs(feats - want).max() < 1e-3
        stream = lite.streamer()
        ref = np.concatenate(
            [stream.accept(signal[i : i + 640]) for i in range(0, len(signal), 640)]
            + [stream.finish()]
        )
        frames = np.asarray(got["frames"], np.float32).reshape(-1, got["numAus"])
        assert frames.shape == ref.shape == (33, 17)
        assert np.abs(frames - ref).max() < 1e-3
        assert np.abs(frames - lite(signal)).max() < 1e-3  # and equal to offline inference

        # the page's own controls in this mode: a wav file streams through the in-page model
        wav = tmp_path / "speech.wav"
        sf.write(wav, speechlike(1.2, fs=16000, seed=6), 16000, subtype="PCM_16")
        driver.find_element(By.ID, "wav").send_keys(str(wav))
        wait_for(driver, "window.live.ended === 1", what="the wav take in the page")
        live = driver.execute_script("return window.live;")
        assert live["local"] is True and live["frames"] == 30 and live["images"] == 0
        last = np.array([live["last"][name] for name in AU_NAMES])  # the bars' last frame
        assert last.shape == (17,) and 0 < last.max() <= 5
        assert live["errors"] == [], live["errors"]
        assert app.state.slots.active == 0  # nothing went through the server's /stream
        driver.save_screenshot(str(tmp_path / "local.png"))
        print("screenshot:", tmp_path / "local.png")
