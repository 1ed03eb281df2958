"""The app served on a free port and driven by gradio_client, as a user's script would: the
three generate endpoints answer with files in their formats, an edit of the answer's own
.npz works, two clients at once both get answers, and an error leaves the app serving."""

import os
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from vhdiff.app.server import GRADIO_FOLDER, AppSettings, launch_app

pytestmark = [
    pytest.mark.slow,  # loads the three bundled models and renders videos: ~1 min on 2 cores
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing"),  # gradio vs pandas 3
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    environment = dict(os.environ)  # the app points gradio's and the caches' folders into --out
    running = launch_app(AppSettings(port=0, out=tmp_path_factory.mktemp("app-out"), video_size=64))
    yield running
    running.close()
    os.environ.clear()
    os.environ.update(environment)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


def client(app, downloads):
    return gradio_client.Client(app.url, verbose=False, download_files=str(downloads))


def path_of(value) -> Path:
    """A file output as gradio_client returns it (a path, or a dict holding one)."""
    if isinstance(value, dict):
        value = value.get("video") or value.get("image") or value.get("path")
    return Path(value)


def test_motion_answers_a_video_a_glb_and_the_downloads(app, downloads):
    import imageio.v3 as iio
    import pygltflib

    from vhdiff.body.smpl_motion import SMPLMotion

    video, glb, files, status = client(app, downloads).predict(
        "a person walks forward", 2.0, 0, api_name="/motion"
    )
    frames = iio.imread(path_of(video))
    assert frames.shape[:3] == (40, 64, 64) and frames.std() > 1.0  # 2 s at 20 fps, not blank
    gltf = pygltflib.GLTF2().load(str(path_of(glb)))
    assert len(gltf.animations) == 1 and gltf.skins
    suffixes = sorted(path_of(f).suffix for f in files)
    assert suffixes == [".bvh", ".glb", ".mp4", ".npz"]
    npz = next(path_of(f) for f in files if path_of(f).suffix == ".npz")
    assert SMPLMotion.load(npz).num_frames == 40
    assert "40 frames at 20 fps" in status and "seed 0" in status and "total" in status
    folders = [p for p in app.out.iterdir() if p.name.startswith("motion-")]
    assert folders and all(
        p.parent == app.out for p in folders
    )  # each request: its own folder inside --out
    assert os.environ["GRADIO_TEMP_DIR"] == str(app.out / GRADIO_FOLDER)

    edited = client(app, downloads).predict(
        "a person sits down",
        gradio_client.handle_file(str(npz)),
        "ends",
        10,
        1,
        api_name="/motion_edit",
    )
    assert (
        iio.imread(path_of(edited[0])).shape[0] == 40
        and "edit keeping first:10,last:10" in edited[3]
    )


def test_pointcloud_answers_ply_files_and_a_picture(app, downloads):
    import imageio.v3 as iio

    from vhdiff.pointcloud.files import read_points

    picture, ply, files, status = client(app, downloads).predict(
        "", 2, 512, 0, 5, api_name="/pointcloud"
    )
    assert read_points(path_of(ply)).shape == (512, 3)
    assert sorted(path_of(f).suffix for f in files) == [".ply", ".ply", ".png"]
    assert iio.imread(path_of(picture)).std() > 1.0 and "2 clouds of 512 points" in status


def test_image_answers_pngs(app, downloads):
    import imageio.v3 as iio

    gallery, files, _ = client(app, downloads).predict(
        "a person walking, seen from the front", 2, 0, 5, api_name="/image"
    )
    assert len(gallery) == 2 and [iio.imread(path_of(f)).shape for f in files] == [(32, 32, 3)] * 2
    shown = iio.imread(path_of(gallery[0]))
    assert shown.shape[0] > 32  # enlarged for the page
    edited, _, edit_status = client(app, downloads).predict(
        gradio_client.handle_file(str(path_of(files[0]))),
        "a person squatting",
        0.4,
        None,
        0,
        api_name="/image_edit",
    )
    assert iio.imread(path_of(edited)).shape[0] > 32 and "SDEdit at strength 0.4" in edit_status


def test_two_clients_at_once_both_get_answers(app, downloads):
    answers, errors = {}, []

    def ask(seed):
        try:
            answers[seed] = client(app, downloads).predict(
                "a person jumps", 1.0, seed, api_name="/motion"
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == [] and sorted(answers) == [1, 2]
    assert all("seed" in answer[3] for answer in answers.values())
    assert answers[1][2] != answers[2][2]  # each its own files


def test_an_error_is_a_message_and_the_app_keeps_serving(app, downloads):
    with pytest.raises(gradio_client.exceptions.AppError, match="the prompt is empty"):
        client(app, downloads).predict("   ", 2.0, 0, api_name="/motion")
    with pytest.raises(gradio_client.exceptions.AppError, match="not an SMPL motion"):
        bad = downloads / "bad.npz"
        np.savez(bad, x=np.zeros(2))
        client(app, downloads).predict(
            "a person waves", gradio_client.handle_file(str(bad)), api_name="/motion_edit"
        )
    not_an_image = downloads / "notes.png"
    not_an_image.write_text("not an image")
    with pytest.raises(gradio_client.exceptions.AppError, match="image"):
        client(app, downloads).predict(
            gradio_client.handle_file(str(not_an_image)), api_name="/image_edit"
        )
    with urllib.request.urlopen(app.url) as page:
        assert page.status == 200
    video, *_ = client(app, downloads).predict("a person walks", 1.0, 3, api_name="/motion")
    assert path_of(video).suffix == ".mp4"
