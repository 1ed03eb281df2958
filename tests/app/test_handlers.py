"""The app's handlers without a server: every bad input is a gr.Error with a clear message,
raised before any model loads; the page has its stable element ids and API names; importing
the app loads neither gradio nor torch."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from vhdiff.app.common import AppState, as_handler
from vhdiff.app.layout import AppTabs, build_blocks
from vhdiff.body.smpl_motion import SMPLMotion

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tabs(tmp_path_factory):
    return AppTabs.for_state(AppState(out=tmp_path_factory.mktemp("app")))


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(gr.Error) as info:
        as_handler(fn)(*args, **kwargs)
    return info.value.message


def test_the_app_package_and_command_import_neither_gradio_nor_torch():
    code = (
        "import sys, vhdiff.app.server, vhdiff.commands.app; "
        "print(sorted(m for m in ('gradio', 'torch') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_motion_needs_a_prompt(tabs, prompt):
    assert "the prompt is empty" in message(tabs.motion.generate, prompt, 6.0, 0)


def test_a_pasted_document_is_not_a_prompt(tabs):
    assert "more than 500" in message(tabs.motion.generate, "walk " * 200, 6.0, 0)


@pytest.mark.parametrize("seconds", [0, 0.1, 1000, math.nan, -3])
def test_motion_length_must_be_in_range(tabs, seconds):
    assert "seconds must be a number in [0.5, 10]" in message(
        tabs.motion.generate, "a person walks", seconds, 0
    )


def test_too_many_takes_and_steps(tabs):
    assert "takes must be an integer in [1, 4]" in message(
        tabs.motion.generate, "a person walks", 6.0, 0, 50
    )
    assert "steps must be an integer in [1, 1000]" in message(
        tabs.motion.generate, "a person walks", 6.0, 0, 1, None, 10**6
    )


def test_unknown_sampler_and_body_name_the_choices(tabs):
    text = message(tabs.motion.generate, "a person walks", 6.0, 0, 1, "euler-magic")
    assert "euler-magic" in text and "ddim" in text
    text = message(tabs.motion.generate, "a person walks", 6.0, 0, 1, None, None, None, "robot")
    assert "unknown body 'robot'" in text and "mannequin" in text


def test_bad_seed_and_guidance(tabs):
    assert "seed must be a whole number from 0 to 2**63 - 1" in message(
        tabs.motion.generate, "a person walks", 6.0, -1
    )
    assert "guidance must be a number in [0, 50]" in message(
        tabs.motion.generate, "a person walks", 6.0, 0, 1, None, None, 99.0
    )


def test_number_boxes_take_typed_text():
    """The page's number boxes are text boxes (a blank one means the model's setting): typed
    numbers are parsed, anything else is named with its range, blanks are None."""
    from vhdiff.app.common import check_seed, optional_count, optional_number

    assert optional_count("steps", " 12 ", 1, 1000) == 12
    assert optional_count("points", "", 1, 10) is None and check_seed("  ") is None
    assert optional_number("2.5") == 2.5 and optional_number(None) is None
    with pytest.raises(ValueError, match=r"steps must be an integer in \[1, 1000\]; got 'ten'"):
        optional_count("steps", "ten", 1, 1000)
    with pytest.raises(ValueError, match="steps must be an integer"):
        optional_count("steps", "2.5", 1, 1000)


def test_typed_text_reaches_the_handlers_checks(tabs):
    assert "guidance must be a number in [0, 50]" in message(
        tabs.motion.generate, "a person walks", 6.0, "", 1, None, "", "99"
    )
    assert "seed must be a whole number" in message(tabs.image.generate, "", 2, "-1")
    assert "points must be an integer in [1, " in message(
        tabs.pointcloud.generate, "", 2, "many"
    )


def test_motion_edit_wants_an_smpl_npz(tabs, tmp_path):
    picture = tmp_path / "walk.png"
    picture.write_bytes(b"\x89PNG not really")
    assert "is not a motion file (.npz)" in message(
        tabs.motion.edit, "a person waves", str(picture)
    )
    assert "no motion file was uploaded" in message(tabs.motion.edit, "a person waves", None)
    other = tmp_path / "weights.npz"
    np.savez(other, w=np.zeros(3))
    text = message(tabs.motion.edit, "a person waves", str(other))
    assert (
        "is not an SMPL motion .npz" in text
        and "missing keys" in text
        and str(tmp_path) not in text
    )
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert "is not an SMPL motion .npz" in message(tabs.motion.edit, "a person waves", str(broken))


def test_inbetweening_must_leave_frames_to_make(tabs, tmp_path):
    frames = 30
    walk = SMPLMotion(
        global_orient=np.zeros((frames, 3)),
        body_pose=np.zeros((frames, 21, 3)),
        transl=np.zeros((frames, 3)),
        betas=np.zeros(10),
        fps=20.0,
    )
    path = walk.save(tmp_path / "walk.npz")
    text = message(tabs.motion.edit, "a person sits", str(path), "ends", 15)
    assert "leaves nothing to make" in text and "fewer than 15" in text
    assert "unknown edit 'sideways'" in message(
        tabs.motion.edit, "a person sits", str(path), "sideways"
    )


def test_pointcloud_sizes(tabs):
    assert "clouds must be an integer in [1, 16]" in message(tabs.pointcloud.generate, "", 1000)
    assert "points must be an integer in [1, 16384]" in message(
        tabs.pointcloud.generate, "", 2, 10**7
    )
    assert "more than 500" in message(tabs.pointcloud.generate, "x" * 600, 2)


def test_image_sizes_and_uploads(tabs, tmp_path):
    assert "images must be an integer in [1, 16]" in message(tabs.image.generate, "a person", 10**4)
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    assert "is not an image that can be read" in message(
        tabs.image.edit, str(text_file), "a person squatting"
    )
    assert "no image was uploaded" in message(tabs.image.edit, None, "a person squatting")
    from vhdiff.viz.writers import write_image

    picture = write_image(tmp_path / "me.png", np.zeros((32, 32, 3), np.uint8))
    small = write_image(tmp_path / "mask.png", np.zeros((16, 16), np.uint8))
    assert "the mask is 16x16 but the image is 32x32" in message(
        tabs.image.edit, str(picture), "", 0.5, str(small)
    )
    assert "strength must be a number in [0.01, 1]" in message(
        tabs.image.edit, str(picture), "", 3.0
    )


def test_an_unexpected_failure_is_one_line_and_says_the_app_keeps_serving():
    def broken(progress=None):
        return 1 / 0

    text = message(broken)
    assert "ZeroDivisionError" in text and "keeps serving" in text and "Traceback" not in text


def test_handlers_report_progress_through_gradio(tabs):
    import inspect

    handler = as_handler(tabs.motion.generate)
    parameters = inspect.signature(handler).parameters
    assert list(parameters)[:3] == ["prompt", "seconds", "seed"]
    assert isinstance(parameters["progress"].default, gr.Progress)


IDS = {
    "motion-prompt",
    "motion-seconds",
    "motion-seed",
    "motion-takes",
    "motion-sampler",
    "motion-steps",
    "motion-guidance",
    "motion-body",
    "motion-generate",
    "motion-edit-file",
    "motion-edit-keep",
    "motion-edit-frames",
    "motion-edit",
    "motion-video",
    "motion-3d",
    "motion-files",
    "motion-status",
    "pointcloud-prompt",
    "pointcloud-num",
    "pointcloud-points",
    "pointcloud-seed",
    "pointcloud-steps",
    "pointcloud-generate",
    "pointcloud-image",
    "pointcloud-3d",
    "pointcloud-files",
    "pointcloud-status",
    "image-prompt",
    "image-num",
    "image-seed",
    "image-steps",
    "image-guidance",
    "image-generate",
    "image-gallery",
    "image-files",
    "image-status",
    "image-edit-input",
    "image-edit-prompt",
    "image-edit-strength",
    "image-edit-mask",
    "image-edit-seed",
    "image-edit",
    "image-edit-output",
    "image-edit-files",
    "image-edit-status",
}


def test_the_page_has_its_element_ids_and_api_names(tabs):
    config = build_blocks(tabs).get_config_file()
    ids = [c["props"].get("elem_id") for c in config["components"] if c["props"].get("elem_id")]
    assert IDS <= set(ids) and len(ids) == len(set(ids))
    kinds = {c["props"].get("elem_id"): c["type"] for c in config["components"]}
    assert (
        kinds["motion-video"] == "video"
        and kinds["motion-3d"] == "model3d"
        and kinds["motion-files"] == "file"
    )
    names = {d.get("api_name") for d in config["dependencies"]}
    assert {"motion", "motion_edit", "pointcloud", "image", "image_edit"} <= names


def test_the_page_fills_in_the_model_settings_on_load(tabs):
    from vhdiff.app.layout import model_settings
    from vhdiff.body.posing import BODIES
    from vhdiff.diffusion import SAMPLER_NAMES

    sampler, steps, guidance, body = model_settings(gr, tabs.motion)
    assert [value for _, value in sampler.choices] == list(
        SAMPLER_NAMES
    ) and sampler.value == "dpm++"
    assert (steps, guidance) == (
        10,
        2.5,
    )  # MotionGeneration's defaults: the model is not loaded here
    assert [value for _, value in body.choices] == list(BODIES)
