"""`vhdiff app` driven in Chromium like a user does: start the command on a free localhost
port, type a prompt, press Generate, wait; the video plays with the expected frame count,
the 3D view draws the body; the same for point clouds and images. Screenshots are kept
(tests/browser/conftest.py)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

SECONDS = 2.0  # a short motion: 40 frames at 20 fps
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The URL of a `vhdiff app` started as a user starts it (its own process, a free port)."""
    out = tmp_path_factory.mktemp("app_out")
    port = free_port()
    vhdiff = Path(sys.executable).with_name("vhdiff")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYOPENGL_PLATFORM": "egl"}
    log = (out.parent / "app.log").open("w")
    proc = subprocess.Popen([str(vhdiff), "app", "--port", str(port), "--out", str(out)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"vhdiff app did not come up: {(out.parent / 'app.log').read_text()[-2000:]}")
        time.sleep(0.25)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def canvas_draws_something(page, selector: str) -> bool:
    """Whether the 3D view's canvas shows more than a flat background (screenshot's pixel spread)."""
    import imageio.v3 as iio

    canvas = page.locator(f"{selector} canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    for _ in range(40):  # the viewer draws once the model file has loaded
        shot = iio.imread(canvas.screenshot(), extension=".png")[..., :3].astype(float)
        if shot.std() > 3.0 and len(np.unique(shot.reshape(-1, 3), axis=0)) > 50:
            return True
        page.wait_for_timeout(500)
    return False


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


@pytest.mark.slow
def test_motion_tab_makes_a_video_that_plays_and_a_3d_body(app_url, page):
    import imageio.v3 as iio

    page.goto(app_url)
    page.locator("#motion-prompt textarea").fill("a person walks forward")
    seconds = page.locator("#motion-seconds input[type=number]")
    seconds.fill(str(SECONDS))
    seconds.press("Enter")
    page.locator("#motion-generate").click()
    video = page.locator("#motion-video video")
    video.wait_for(state="attached", timeout=120_000)
    page.wait_for_function("() => { const v = document.querySelector('#motion-video video');"
                           " return v && v.readyState >= 2; }", timeout=60_000)
    played = page.evaluate("""async () => {
        const v = document.querySelector('#motion-video video');
        v.muted = true; v.currentTime = 0; await v.play();
        await new Promise(r => setTimeout(r, 800));
        return {time: v.currentTime, duration: v.duration, width: v.videoWidth, src: v.currentSrc};
    }""")
    assert played["time"] > 0.2 and played["width"] > 0, played  # it plays
    assert abs(played["duration"] - SECONDS) < 0.15, played
    frames = iio.imread(fetch(played["src"]), extension=".mp4")
    assert frames.shape[0] == round(SECONDS * 20) and frames.std() > 1.0
    assert canvas_draws_something(page, "#motion-3d"), "the 3D view drew nothing"
    names = page.locator("#motion-files").inner_text()
    for suffix in (".npz", ".bvh", ".glb"):
        assert suffix in names, names


@pytest.mark.slow
def test_pointcloud_tab_draws_clouds_and_a_3d_view(app_url, page):
    page.goto(app_url)
    page.get_by_role("tab", name="Point clouds").click()
    page.locator("#pointcloud-generate").click()
    page.wait_for_function("() => { const i = document.querySelector('#pointcloud-image img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=120_000)
    assert canvas_draws_something(page, "#pointcloud-3d"), "the 3D view drew nothing"
    assert ".ply" in page.locator("#pointcloud-files").inner_text()


@pytest.mark.slow
def test_image_tab_shows_generated_images(app_url, page):
    page.goto(app_url)
    page.get_by_role("tab", name="Images").click()
    page.locator("#image-prompt textarea").fill("a person raising both arms")
    page.locator("#image-generate").click()
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('#image-gallery img')];"
                           " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
                           timeout=120_000)
    assert ".png" in page.locator("#image-files").inner_text()
