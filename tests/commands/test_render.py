"""`vhdiff render`: motion files to videos, GIFs and PNGs with each body; user errors."""

from __future__ import annotations

import numpy as np
import pytest

from vhdiff.body import SMPLMotion
from vhdiff.body.posing import CHUNK, body_model_for, pose_motion, resample_indices
from vhdiff.cli import main


@pytest.fixture()
def motion_file(tmp_path):
    frames = 6
    body_pose = np.zeros((frames, 21, 3), dtype=np.float32)
    body_pose[:, 15, 2] = np.linspace(0.0, 1.2, frames)  # raise the left arm
    transl = np.zeros((frames, 3), dtype=np.float32)
    transl[:, 2] = np.linspace(0.0, 0.5, frames)
    motion = SMPLMotion(
        global_orient=np.zeros((frames, 3)),
        body_pose=body_pose,
        transl=transl,
        betas=np.zeros(10),
        fps=12.0,
    )
    return motion.save(tmp_path / "motion.npz")


def test_pose_motion_matches_one_model_call_across_chunks():
    import torch

    frames = CHUNK + 6  # two chunks
    rng = np.random.default_rng(0)
    motion = SMPLMotion(
        global_orient=rng.normal(scale=0.3, size=(frames, 3)),
        body_pose=rng.normal(scale=0.3, size=(frames, 21, 3)),
        transl=rng.normal(size=(frames, 3)),
        betas=np.zeros(10),
        fps=20.0,
    )
    model = body_model_for("skeleton", None)  # no SMPL path: the mannequin
    assert model.kind == "mannequin"
    with torch.no_grad():
        whole = model(**motion.to_torch())
    vertices, joints, faces = pose_motion(model, motion)
    assert vertices.shape == tuple(whole.vertices.shape) and joints.shape[0] == frames
    np.testing.assert_allclose(vertices, whole.vertices.numpy(), atol=1e-5)
    np.testing.assert_array_equal(faces, whole.faces.numpy())
    picked = np.array([frames - 1, 0, CHUNK])
    some, some_joints, _ = pose_motion(model, motion, picked)
    np.testing.assert_allclose(some, whole.vertices.numpy()[picked], atol=1e-5)
    np.testing.assert_allclose(some_joints, whole.joints.numpy()[picked], atol=1e-5)


def test_body_model_for_smpl_without_files_says_where_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="SMPL"):
        body_model_for("smpl", str(tmp_path))


def test_mannequin_mp4(motion_file, tmp_path, capsys):
    import imageio.v3 as iio

    out = tmp_path / "out" / "walk.mp4"
    assert main(["render", str(motion_file), "--out", str(out), "--size", "64"]) == 0
    video = iio.imread(out)
    assert video.shape == (6, 64, 64, 3) and video.std() > 10
    assert iio.immeta(out)["fps"] == pytest.approx(12.0)
    assert "6 frames at 12 fps" in capsys.readouterr().out


def test_skeleton_gif_resampled(motion_file, tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "walk.gif"
    args = ["render", str(motion_file), "--out", str(out), "--body", "skeleton", "--size", "64"]
    assert main([*args, "--fps", "6"]) == 0
    assert iio.imread(out).shape[:3] == (3, 64, 64)


def test_smpl_body_png_frames_and_meshes(motion_file, tmp_path):
    from vhdiff.body.synthetic import write_synthetic_model

    model = write_synthetic_model(tmp_path / "SMPL_NEUTRAL.npz", kind="smpl")
    frames, meshes = tmp_path / "frames", tmp_path / "meshes"
    args = ["render", str(motion_file), "--out", str(frames), "--body", "smpl", "--size", "48"]
    assert main([*args, "--smpl-path", str(model), "--meshes", str(meshes)]) == 0
    assert len(list(frames.glob("frame_*.png"))) == 6
    assert len(list(meshes.glob("frame_*.obj"))) == 6


def test_user_errors_are_one_line(motion_file, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VHDIFF_SMPL_DIR", raising=False)
    out = str(tmp_path / "x.mp4")
    assert main(["render", str(motion_file), "--out", out, "--body", "smpl"]) == 2
    assert "VHDIFF_SMPL_DIR" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "missing.npz"), "--out", out]) == 2
    assert "motion file not found" in capsys.readouterr().err
    assert main(["render", str(motion_file), "--out", str(tmp_path / "x.avi")]) == 2
    assert ".mp4 or .gif" in capsys.readouterr().err
    assert main(["render", str(motion_file), "--out", out, "--size", "4"]) == 2
    assert "--size" in capsys.readouterr().err


def test_resample_indices():
    assert resample_indices(6, 12.0, 6.0).tolist() == [0, 2, 4]
    up = resample_indices(4, 10.0, 20.0)
    assert len(up) == 8 and up.max() == 3 and np.all(np.diff(up) >= 0)
    with pytest.raises(ValueError, match="--fps"):
        resample_indices(4, 10.0, 0.0)


def test_numeric_options_beyond_their_range_are_one_line(motion_file, tmp_path, capsys):
    out = str(tmp_path / "x.mp4")
    for option, value, message in [
        ("--fps", "1e9", "--fps must be between 1 and 240 frames per second"),
        ("--size", "100000", "--size must be between 16 and 4096 pixels"),
        ("--azimuth", "nan", "--azimuth must be between -360 and 360 degrees"),
        ("--elevation", "90", "--elevation must be between -89 and 89 degrees"),
    ]:
        assert main(["render", str(motion_file), "--out", out, option, value]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npz"]


def test_png_and_mesh_folders_replace_only_what_a_render_wrote(motion_file, tmp_path, capsys):
    frames = tmp_path / "frames"
    args = ["render", str(motion_file), "--out", str(frames), "--body", "skeleton", "--size", "32"]
    assert main(args) == 0
    (frames / "frame_00099.png").write_bytes(b"a frame of a longer render")
    assert main(args) == 0  # ours: replaced whole
    assert sorted(p.name for p in frames.iterdir()) == [f"frame_{t:05d}.png" for t in range(6)]
    (frames / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "is not a folder of numbered PNG files (one holds only frame_NNNNN.png files)" in err
    assert (frames / "notes.txt").read_text() == "mine" and len(list(frames.iterdir())) == 7
    mine = tmp_path / "meshes"
    mine.mkdir()
    (mine / "scan.obj").write_text("v 0 0 0\n")
    assert main([*args[:3], str(tmp_path / "w.gif"), *args[4:], "--meshes", str(mine)]) == 2
    assert "meshes' is not empty" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["scan.obj"] and not (tmp_path / "w.gif").exists()


def test_an_unwritable_or_full_output_is_one_line_and_leaves_nothing(motion_file, tmp_path, capsys, monkeypatch):
    import errno

    from vhdiff.viz import writers

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers, "write_mesh_sequence", full)
    args = ["render", str(motion_file), "--out", str(tmp_path / "w.gif"), "--body", "skeleton",
            "--size", "32", "--meshes", str(tmp_path / "meshes")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "the disk is full" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npz"]  # the GIF was not kept either


def test_a_read_only_output_folder_is_refused_before_rendering(motion_file, read_only_dir, capsys, monkeypatch):
    from vhdiff.body import posing

    def refuse(*args, **kwargs):
        raise AssertionError("the motion was posed before the output place was checked")

    monkeypatch.setattr(posing, "pose_motion", refuse)
    assert main(["render", str(motion_file), "--out", str(read_only_dir / "w.mp4")]) == 2
    assert "read-only file system" in capsys.readouterr().err
