"""The demo's index.html opened from disk in Chromium: every picture and every video on it
loads (decoded, with a size; videos with their duration), and the page asks for nothing over
the network."""

import pytest

from vhdiff.cli import main

# every <img> and <video> of the page: whether it loaded, and what it is
MEDIA_STATE = """() => [
  ...[...document.images].map(img => ({tag: "img", src: img.getAttribute("src"),
                                       ok: img.complete && img.naturalWidth > 0, width: img.naturalWidth})),
  ...[...document.querySelectorAll("video")].map(video => ({tag: "video", src: video.currentSrc,
      ok: video.readyState >= 2 && !video.error, width: video.videoWidth, duration: video.duration})),
]"""


@pytest.mark.slow
def test_every_picture_and_video_of_the_demo_page_loads(tmp_path, page):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "96"]) == 0
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((out / "index.html").as_uri())
    for video in page.query_selector_all("video"):  # ask each video to load its data, then wait
        video.evaluate("v => { v.preload = 'auto'; v.load(); }")
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 2 || v.error)"
        " && [...document.images].every(img => img.complete)", timeout=60_000)
    media = page.evaluate(MEDIA_STATE)
    images = [m for m in media if m["tag"] == "img"]
    videos = [m for m in media if m["tag"] == "video"]
    assert len(images) >= 4 and len(videos) >= 5  # overview, clouds, images, strips; one video per motion
    broken = [m["src"] for m in media if not m["ok"]]
    assert not broken, f"did not load in Chromium: {broken}"
    assert all(v["duration"] > 0.5 for v in videos) and all(m["width"] > 0 for m in media)
    assert all(url.startswith("file://") for url in requests), [u for u in requests if not u.startswith("file://")]
