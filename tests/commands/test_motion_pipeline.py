"""`vhdiff motion` end to end with a tiny random pipeline (2 steps, 1 s, small videos):
files, frame counts, seeds, editing, and the errors that need the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vhdiff.body import SMPLMotion
from vhdiff.body.bvh import read_bvh
from vhdiff.cli import main

FAST = ["--steps", "2", "--length", "1", "--size", "128"]


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_prompt_to_mp4_and_npz(tiny_pipeline_dir, tmp_path, capsys):
    import imageio.v3 as iio

    out = tmp_path / "walk.mp4"
    argv = ["a person walks forward", "--checkpoint", str(tiny_pipeline_dir), "--out", str(out)]
    assert main(["motion", *argv, *FAST, "--seed", "3"]) == 0
    assert names(tmp_path) == ["walk.mp4", "walk.npz"]
    motion = SMPLMotion.load(tmp_path / "walk.npz")
    assert motion.num_frames == 20 and motion.fps == 20.0
    video = iio.imread(out)
    assert video.shape == (20, 128, 128, 3) and video.std() > 5
    assert iio.immeta(out)["fps"] == pytest.approx(20.0)
    assert "20 frames at 20 fps ('a person walks forward')" in capsys.readouterr().out


def test_numbered_outputs_and_seeds(tiny_pipeline_dir, tmp_path):
    common = ["--checkpoint", str(tiny_pipeline_dir), *FAST, "--no-video", "--seed", "7"]
    assert main(["motion", "a person jumps", "--num", "2", "--bvh", "--out", str(tmp_path / "a" / "j.mp4"), *common]) == 0  # fmt: skip
    assert names(tmp_path / "a") == ["j_000.bvh", "j_000.npz", "j_001.bvh", "j_001.npz"]
    first, second = (SMPLMotion.load(tmp_path / "a" / f"j_00{i}.npz") for i in (0, 1))
    assert first.num_frames == second.num_frames == 20
    assert not np.allclose(first.body_pose, second.body_pose)  # two different samples
    assert read_bvh(tmp_path / "a" / "j_001.bvh").num_frames == 20
    assert main(["motion", "a person jumps", "--num", "2", "--out", str(tmp_path / "b" / "j.npz"), *common]) == 0  # fmt: skip
    again = SMPLMotion.load(tmp_path / "b" / "j_000.npz")
    np.testing.assert_array_equal(again.body_pose, first.body_pose)  # same seed, same motion


def test_edit_keeps_frames_and_body_parts(tiny_pipeline_dir, tmp_path):
    common = ["--checkpoint", str(tiny_pipeline_dir), "--steps", "2", "--no-video", "--seed", "1"]
    assert main(["motion", "a person walks", "--length", "1", "--out", str(tmp_path / "src.npz"), *common]) == 0  # fmt: skip
    source = SMPLMotion.load(tmp_path / "src.npz")
    edit = ["--edit", str(tmp_path / "src.npz")]
    assert main(["motion", "a person waves", *edit, "--keep", "first:5", "--out", str(tmp_path / "kf.npz"), *common]) == 0  # fmt: skip
    keyframed = SMPLMotion.load(tmp_path / "kf.npz")
    assert keyframed.num_frames == source.num_frames
    np.testing.assert_allclose(keyframed.body_pose[:5], source.body_pose[:5], atol=1e-3)
    assert not np.allclose(keyframed.body_pose[5:], source.body_pose[5:], atol=1e-2)
    assert main(["motion", "a person waves", *edit, "--keep", "lower", "--out", str(tmp_path / "up.npz"), *common]) == 0  # fmt: skip
    upper_new = SMPLMotion.load(tmp_path / "up.npz")
    legs = [j - 1 for j in (1, 2, 4, 5, 7, 8, 10, 11)]  # body_pose index = SMPL joint - 1
    np.testing.assert_allclose(upper_new.body_pose[:, legs], source.body_pose[:, legs], atol=1e-3)
    arms = [j - 1 for j in (16, 17, 18, 19)]
    assert not np.allclose(upper_new.body_pose[:, arms], source.body_pose[:, arms], atol=1e-2)


def error_of(argv, capsys) -> str:
    assert main(["motion", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vhdiff motion: error: ")
    return lines[0]


def test_errors_that_need_the_model(tiny_pipeline_dir, tmp_path, capsys):
    out = ["--out", str(tmp_path / "out" / "x.mp4")]
    line = error_of(["walk", "--checkpoint", str(tiny_pipeline_dir), "--length", "3", *out], capsys)
    assert "beyond this model's maximum of 2 s" in line
    other = tmp_path / "points"
    other.mkdir()
    (other / "pipeline.json").write_text(json.dumps({"_class": "PointCloudPipeline"}))
    line = error_of(["walk", "--checkpoint", str(other), *out], capsys)
    assert "not a MotionPipeline (another modality?)" in line
    single = tmp_path / "single"
    single.mkdir()
    (single / "config.json").write_text("{}")
    assert "not a motion pipeline" in error_of(["walk", "--checkpoint", str(single), *out], capsys)  # fmt: skip
    missing = str(tmp_path / "missing")
    assert "no motion pipeline folder" in error_of(["walk", "--checkpoint", missing, *out], capsys)
    # the tiny model has 100 training timesteps: the bounds come from the model
    line = error_of(["walk", "--checkpoint", str(tiny_pipeline_dir), "--guidance-interval", "0:5000", *out], capsys)
    assert line.endswith("--guidance-interval 0:5000 lies outside the model's timesteps 0-99; give "
                         "T_MIN:T_MAX within 0-99, or all")
    line = error_of(["walk", "--checkpoint", str(tiny_pipeline_dir), "--steps", "500", *out], capsys)
    assert "--steps must be in [1, 100] (the model's training timesteps); got 500" in line
    assert not (tmp_path / "out").exists()


def test_the_bundled_models_guidance_interval_is_bounded_by_its_timesteps(tmp_path, capsys):
    line = error_of(["walk", "--guidance-interval", "0:5000", "--out", str(tmp_path / "x.npz")], capsys)
    assert "lies outside the model's timesteps 0-999; give T_MIN:T_MAX within 0-999, or all" in line


def test_snap_sets_how_far_the_prompt_is_pulled_to_the_training_captions(tmp_path):
    """The bundled model snaps prompts (strength 0.5); --snap 0 gives the raw prompt, --snap 1
    the nearest captions' blend: three different motions from one seed."""
    common = ["someone ambles forward", "--steps", "4", "--length", "1", "--no-video", "--seed", "0"]
    poses = {}
    for snap in ("0", "1", None):
        out = tmp_path / f"snap_{snap}.npz"
        assert main(["motion", *common, "--out", str(out), *([] if snap is None else ["--snap", snap])]) == 0
        poses[snap] = SMPLMotion.load(out).body_pose
    assert np.abs(poses["0"] - poses["1"]).max() > 1e-3
    assert np.abs(poses["0"] - poses[None]).max() > 1e-3
    assert np.abs(poses["1"] - poses[None]).max() > 1e-3


def test_smoothing_and_foot_lock_options(planted_pipeline_dir, tmp_path):
    """Default: the model's smoothing (0.7 frames); --smoothing 0 the raw output; --foot-lock
    changes only the root's path and the legs (the other joints keep the same smoothing's pose)."""
    from vhdiff.motion.metrics.physical import jitter
    from vhdiff.motion.representation.smpl import joints_from_motion

    common = ["a person walks", "--checkpoint", str(planted_pipeline_dir), *FAST, "--no-video",
              "--seed", "2", "--num", "2"]  # fmt: skip
    runs = {"default": [], "raw": ["--smoothing", "0"], "locked": ["--foot-lock"]}
    got = {}
    for name, extra in runs.items():
        assert main(["motion", *common, "--out", str(tmp_path / f"{name}.npz"), *extra]) == 0
        got[name] = [SMPLMotion.load(tmp_path / f"{name}_{i:03d}.npz") for i in range(2)]
    shake = {k: np.mean([jitter(joints_from_motion(m), fps=20.0) for m in ms]) for k, ms in got.items()}
    assert shake["default"] < shake["raw"]
    moved = 0
    for locked, default in zip(got["locked"], got["default"], strict=True):
        legs = [0, 1, 3, 4, 6, 7]  # body_pose rows of SMPL joints 1, 2, 4, 5, 7, 8
        np.testing.assert_allclose(
            np.delete(locked.body_pose, legs, axis=1), np.delete(default.body_pose, legs, axis=1),
            atol=1e-5,
        )
        np.testing.assert_allclose(locked.global_orient, default.global_orient, atol=1e-5)
        moved += np.abs(locked.transl - default.transl).max() > 1e-4
    assert moved == 2  # the feet marked as planted were held
