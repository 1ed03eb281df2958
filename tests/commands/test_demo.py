"""The README's main job: `vhdiff demo` writes a rendered, playable motion per prompt, the
edits, the side-by-side video and the overview picture (each motion does what its prompt
says, measured); point clouds; images with an edit and an inpainting; and index.html, which
shows every one of them from disk."""

import json
import re
from urllib.parse import unquote

import numpy as np
import pytest

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.cli import main
from vhdiff.motion.demo import DEMO_PROMPTS, INBETWEEN_FRAMES
from vhdiff.motion.representation import get_representation
from vhdiff.motion.representation.smpl import root_heading


def joints(motion: SMPLMotion) -> np.ndarray:
    rep = get_representation("smpl")
    return rep.to_motion(rep.from_smpl(motion), fps=motion.fps)[1]


def glb_seconds(path) -> float:
    """The last key time of a .glb's animation (its body animated over the whole motion)."""
    import pygltflib

    gltf = pygltflib.GLTF2().load(str(path))
    (animation,) = gltf.animations
    return max(gltf.accessors[sampler.input].max[0] for sampler in animation.samplers)


@pytest.mark.slow
def test_demo_writes_every_prompt_and_the_edit(tmp_path):
    import imageio.v3 as iio

    assert main(["demo", "--out", str(tmp_path), "--size", "96", "--parts", "motion"]) == 0
    motions = {}
    for name in [*DEMO_PROMPTS, "walk_edit_upper", "walk_inbetween"]:
        motions[name] = SMPLMotion.load(tmp_path / f"{name}.npz")
        seconds = DEMO_PROMPTS.get(name, DEMO_PROMPTS["walk"])[1]
        assert motions[name].num_frames == round(seconds * 20) and np.isfinite(motions[name].body_pose).all()
        frames = iio.imread(tmp_path / f"{name}.mp4")
        assert frames.shape[0] == round(seconds * 20) and frames.std() > 1.0  # not a blank video
        assert (tmp_path / f"{name}.bvh").stat().st_size > 1000
        assert abs(glb_seconds(tmp_path / f"{name}.glb") - (round(seconds * 20) - 1) / 20) < 1e-4
    overview = iio.imread(tmp_path / "overview.png")
    assert overview.shape[0] > 3 * 192 and overview.std() > 1.0
    side = iio.imread(tmp_path / "side_by_side.mp4")  # every motion at once, one 48-pixel tile each
    assert side.shape[:3] == (round(max(s for _, s in DEMO_PROMPTS.values()) * 20), 48, 48 * len(motions))
    walk, jump = joints(motions["walk"]), joints(motions["jump"])
    assert np.linalg.norm(walk[-1, 0, [0, 2]] - walk[0, 0, [0, 2]]) > 3.0  # walks forward
    height = jump[:, 0, 1]
    up = height > np.median(height) + 0.08
    assert int(up[0]) + int(np.sum(up[1:] & ~up[:-1])) >= 2  # jumps up and down ...
    assert np.linalg.norm(jump[-1, 0, [0, 2]] - jump[0, 0, [0, 2]]) < 0.5  # ... on the spot
    heading = np.degrees(np.unwrap(root_heading(motions["turn"])))
    assert -220 < heading[-1] - heading[0] < -140  # turns around (about 180 degrees) to the right
    # the edit kept the walk's legs and path and waves the right hand (wrist over shoulder)
    source, edited = motions["walk"], motions["walk_edit_upper"]
    np.testing.assert_allclose(edited.transl, source.transl, atol=1e-4)
    np.testing.assert_allclose(edited.body_pose[:, [0, 1, 3, 4]], source.body_pose[:, [0, 1, 3, 4]], atol=1e-3)
    wave = joints(edited)
    assert (wave[:, 21, 1] > wave[:, 17, 1]).mean() > 0.5 and (wave[:, 20, 1] > wave[:, 16, 1]).mean() < 0.2
    # the in-betweening kept the walk's first and last second and fills the middle smoothly
    between = motions["walk_inbetween"]
    for kept in (slice(0, INBETWEEN_FRAMES), slice(-INBETWEEN_FRAMES, None)):
        np.testing.assert_allclose(between.transl[kept], source.transl[kept], atol=1e-4)
        np.testing.assert_allclose(between.body_pose[kept], source.body_pose[kept], atol=1e-3)
    speed = np.linalg.norm(np.diff(joints(between), axis=0), axis=-1).max(axis=1) * 20  # m/s, fastest joint
    k, end = INBETWEEN_FRAMES, between.num_frames - INBETWEEN_FRAMES
    # speed[i] is the step from frame i to i + 1: k - 1 and end - 1 cross the seams, k and end - 2 are the
    # generated steps next to them (steps inside the kept frames are the source walk's own, spikes and all)
    seams = speed[[k - 1, k, end - 2, end - 1]]
    assert seams.max() < 6.0, f"a joint jumps at {seams.max():.1f} m/s at an in-betweening seam"


@pytest.mark.slow
def test_demo_writes_point_clouds_images_and_a_page_that_shows_them(tmp_path):
    import imageio.v3 as iio
    import trimesh

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--parts", "pointcloud,image"]) == 0
    clouds = sorted((out / "pointclouds").glob("cloud_*.ply"))
    assert len(clouds) == 16
    points = np.asarray(trimesh.load(clouds[0]).vertices)
    height = np.percentile(points[:, 1], 98) - np.percentile(points[:, 1], 2)
    assert points.shape == (2048, 3) and 1.0 < height < 2.2  # a body's height, metres, Y up
    images = sorted((out / "images").glob("image_*.png"))
    assert len(images) == 16 and iio.imread(images[0]).shape == (32, 32, 3)
    source, filled = iio.imread(out / "images/edit_source.png"), iio.imread(out / "images/inpaint.png")
    mask = iio.imread(out / "images/inpaint_mask.png") > 127
    assert np.array_equal(filled[~mask], source[~mask]) and not np.array_equal(filled[mask], source[mask])
    edited = iio.imread(out / "images/edit_sdedit.png")
    assert 0 < np.abs(edited.astype(int) - source).mean() < 128
    page = (out / "index.html").read_text()
    linked = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "pointclouds/grid.png" in linked and "images/grid.png" in linked and len(linked) >= 16 + 16 + 6
    assert all((out / unquote(link)).is_file() for link in linked)
    assert "http" not in page  # nothing from the network
    record = json.loads((out / "demo.json").read_text())
    assert record["parts"] == ["pointcloud", "image"] and record["seconds"] > 0
    # a second run replaces the demo folder only when asked
    assert main(["demo", "--out", str(out), "--parts", "image"]) != 0
    assert main(["demo", "--out", str(out), "--parts", "image", "--force"]) == 0
    assert not (out / "pointclouds").exists()


def test_demo_refuses_a_folder_it_did_not_write_and_unknown_parts(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", "--out", str(tmp_path), "--force"]) != 0
    assert "not empty" in capsys.readouterr().err and (tmp_path / "notes.txt").read_text() == "mine"
    assert main(["demo", "--out", str(tmp_path / "new"), "--parts", "motion,video"]) != 0
    assert "video" in capsys.readouterr().err and not (tmp_path / "new").exists()
