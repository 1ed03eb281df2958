"""BVH export that matches the video: with the body's skeleton (the default) the file's
forward kinematics gives the drawn body's joints (< 1 mm); with the SMPL skeleton it gives
the neutral SMPL joints; the file names its skeleton; `vhdiff motion --bvh-skeleton`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from vhdiff.atomic_io import Staging
from vhdiff.body.bvh import read_bvh
from vhdiff.body.posing import pose_motion
from vhdiff.body.skeleton import BODY_JOINT_NAMES
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.export import BVH_SKELETONS, MotionExporter
from vhdiff.motion.representation.smpl import joints_from_motion


def motion(frames: int = 6, seed: int = 0) -> SMPLMotion:
    rng = np.random.default_rng(seed)
    pose = 0.4 * rng.normal(size=(frames, 22, 3))
    return SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:],
        transl=rng.normal(scale=0.3, size=(frames, 3)) + [0.0, 0.9, 0.0],
        betas=rng.normal(scale=0.8, size=10), fps=20.0,
    )  # fmt: skip


def exported_joints(tmp_path, exporter: MotionExporter, clip: SMPLMotion):
    """(the BVH file parsed, its FK joints [T, 22, 3] in SMPL order)."""
    with Staging() as staging:
        exporter.export(clip, "a test", tmp_path / "clip", staging)
    bvh = read_bvh(tmp_path / "clip.bvh")
    order = [bvh.joint_names.index(name) for name in BODY_JOINT_NAMES]
    return bvh, bvh.joint_positions()[:, order]


def test_body_skeleton_matches_the_drawn_body(tmp_path):
    clip = motion()
    exporter = MotionExporter(body="mannequin", video=None, bvh=True)  # the defaults' skeleton
    bvh, joints = exported_joints(tmp_path, exporter, clip)
    _, drawn, _ = pose_motion(exporter.model(), clip)
    assert bvh.skeleton == "mannequin"
    assert np.abs(joints - drawn[:, :22]).max() < 1e-3
    # the SMPL mean skeleton is what the video does not show: centimetres away
    assert np.abs(joints_from_motion(clip) - drawn[:, :22]).max() > 0.02


def test_smpl_skeleton_is_the_neutral_smpl_one(tmp_path):
    clip = motion(seed=1)
    exporter = MotionExporter(body="mannequin", video=None, bvh=True, bvh_skeleton="smpl")
    bvh, joints = exported_joints(tmp_path, exporter, clip)
    assert bvh.skeleton == "smpl_mean"
    assert np.abs(joints - joints_from_motion(clip)).max() < 1e-4
    with pytest.raises(ValueError, match="choose one of body, smpl"):
        MotionExporter(bvh=True, bvh_skeleton="mannequin")


@dataclass
class FakeMotion:
    smpl: SMPLMotion
    prompt: str


@pytest.mark.parametrize("skeleton", BVH_SKELETONS)
def test_motion_command_takes_bvh_skeleton(tmp_path, monkeypatch, skeleton):
    from vhdiff.cli import main
    from vhdiff.commands import motion as motion_command

    clip = motion(frames=4, seed=2)
    monkeypatch.setattr(
        motion_command, "generate", lambda args, plan: [FakeMotion(clip, plan.prompts[0])]
    )
    out = tmp_path / "w.npz"
    argv = ["motion", "walk", "--out", str(out), "--bvh", "--bvh-skeleton", skeleton]
    assert main([*argv, "--body", "skeleton", "--no-video"]) == 0
    expected = {"body": "mannequin", "smpl": "smpl_mean"}[skeleton]
    assert read_bvh(tmp_path / "w.bvh").skeleton == expected
