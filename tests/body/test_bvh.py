"""BVH export: the file parses back, and forward kinematics of the parsed hierarchy and
Euler channels reproduces the SMPL motion's joint positions (< 1e-4 m) for random poses,
every rotation order, centimetres, gimbal lock and a custom skeleton."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vhdiff.body.bvh import EULER_ORDERS, read_bvh, write_bvh
from vhdiff.body.skeleton import BODY_JOINT_NAMES, BODY_PARENTS, SMPL_NEUTRAL_REST_JOINTS
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation.smpl import joints_from_motion


def smpl_order(bvh) -> list[int]:
    """Indices of the SMPL joints in the file (BVH lists joints depth-first)."""
    return [bvh.joint_names.index(name) for name in BODY_JOINT_NAMES]


def smpl_positions(bvh) -> np.ndarray:
    """[T, 22, 3] FK of the parsed file, in SMPL joint order."""
    return bvh.joint_positions()[:, smpl_order(bvh)]


def random_motion(frames: int = 12, seed: int = 0, fps: float = 20.0) -> SMPLMotion:
    rng = np.random.default_rng(seed)
    # rotation vectors with angles up to ~pi: far beyond any gimbal-safe range
    axes = rng.normal(size=(frames, 22, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    pose = axes * rng.uniform(0.0, 3.1, size=(frames, 22, 1))
    return SMPLMotion(
        global_orient=pose[:, 0],
        body_pose=pose[:, 1:],
        transl=rng.normal(scale=0.5, size=(frames, 3)) + [0.0, 0.9, 0.0],
        betas=np.zeros(10),
        fps=fps,
    )


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_round_trip_reproduces_joint_positions(tmp_path, order):
    motion = random_motion(seed=EULER_ORDERS.index(order))
    path = write_bvh(tmp_path / "walk.bvh", motion, order=order)
    bvh = read_bvh(path)
    assert sorted(bvh.joint_names) == sorted(BODY_JOINT_NAMES)
    index = smpl_order(bvh)
    parents = [bvh.joint_names[p] if p >= 0 else None for p in bvh.parents]
    for joint, parent in enumerate(BODY_PARENTS):
        expected = BODY_JOINT_NAMES[parent] if parent >= 0 else None
        assert parents[index[joint]] == expected
    assert bvh.num_frames == motion.num_frames
    assert bvh.fps == pytest.approx(motion.fps)
    assert bvh.channels[0][:3] == ("Xposition", "Yposition", "Zposition")
    assert all(c == tuple(f"{a}rotation" for a in order) for c in bvh.channels[1:])
    error = np.abs(smpl_positions(bvh) - joints_from_motion(motion)).max()
    assert error < 1e-4


def test_hierarchy_offsets_and_end_sites(tmp_path):
    bvh = read_bvh(write_bvh(tmp_path / "a.bvh", random_motion(frames=2)))
    rest = np.asarray(SMPL_NEUTRAL_REST_JOINTS)
    np.testing.assert_allclose(bvh.offsets[0], 0.0)  # root: the channels hold its position
    index = smpl_order(bvh)
    np.testing.assert_allclose(bvh.rest_joints()[index], rest - rest[0], atol=1e-6)
    leaves = sorted(BODY_JOINT_NAMES[index.index(j)] for j in bvh.end_sites)
    assert leaves == sorted(["left_foot", "right_foot", "head", "left_wrist", "right_wrist"])
    head_bone = rest[15] - rest[12]
    np.testing.assert_allclose(bvh.end_sites[index[15]], 0.5 * head_bone, atol=1e-6)
    text = (tmp_path / "a.bvh").read_text()
    assert text.startswith("HIERARCHY\nROOT pelvis\n{\n\tOFFSET 0.000000 0.000000 0.000000\n")
    assert "Frames: 2\nFrame Time: 0.05000000\n" in text


def test_centimetres_scale_offsets_and_positions(tmp_path):
    motion = random_motion(frames=5, seed=3)
    metres = read_bvh(write_bvh(tmp_path / "m.bvh", motion))
    cm = read_bvh(write_bvh(tmp_path / "cm.bvh", motion, scale=100.0))
    np.testing.assert_allclose(cm.offsets, 100.0 * metres.offsets, atol=1e-4)
    assert np.abs(smpl_positions(cm) / 100.0 - joints_from_motion(motion)).max() < 1e-4


def test_gimbal_lock_is_exact(tmp_path):
    """Middle angle of ZXY at +-90 degrees: the Euler triple is not unique but must still
    give the same rotation."""
    import roma
    import torch

    locked = torch.tensor(
        [[0.7, math.pi / 2, -0.4], [-1.2, -math.pi / 2, 0.9], [0.0, math.pi / 2, 0.0]],
        dtype=torch.float64,
    )
    rotvecs = roma.rotmat_to_rotvec(roma.euler_to_rotmat("ZXY", locked)).numpy()  # [3, 3]
    frames = 3
    pose = np.zeros((frames, 22, 3))
    pose[:, 0] = rotvecs  # the pelvis
    pose[:, 4] = rotvecs[::-1]  # a knee
    pose[:, 16] = rotvecs[[1, 2, 0]]  # a shoulder
    motion = SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:], transl=np.zeros((frames, 3)),
        betas=np.zeros(10), fps=30.0,
    )  # fmt: skip
    bvh = read_bvh(write_bvh(tmp_path / "lock.bvh", motion, order="ZXY"))
    assert np.all(np.isfinite(bvh.frames))
    np.testing.assert_allclose(np.abs(bvh.frames[:, 4]), 90.0, atol=1e-4)  # pelvis X angle
    assert np.abs(smpl_positions(bvh) - joints_from_motion(motion)).max() < 1e-4


def test_custom_rest_joints_follow_the_skeleton(tmp_path):
    rng = np.random.default_rng(7)
    rest = np.asarray(SMPL_NEUTRAL_REST_JOINTS) * 1.1 + rng.normal(scale=0.01, size=(22, 3))
    motion = random_motion(frames=6, seed=5)
    bvh = read_bvh(write_bvh(tmp_path / "tall.bvh", motion, rest_joints=rest[None]))
    expected = joints_from_motion(motion, rest_joints=rest)
    assert np.abs(smpl_positions(bvh) - expected).max() < 1e-4
    assert np.abs(smpl_positions(bvh) - joints_from_motion(motion)).max() > 1e-2


def test_bad_arguments_raise_clear_errors(tmp_path):
    motion = random_motion(frames=2)
    with pytest.raises(ValueError, match=r"end in \.bvh"):
        write_bvh(tmp_path / "a.txt", motion)
    with pytest.raises(ValueError, match="order must be one of"):
        write_bvh(tmp_path / "a.bvh", motion, order="XYX")
    with pytest.raises(ValueError, match=r"rest_joints must have shape \[22, 3\]"):
        write_bvh(tmp_path / "a.bvh", motion, rest_joints=np.zeros((20, 3)))
    with pytest.raises(ValueError, match="scale must be a positive"):
        write_bvh(tmp_path / "a.bvh", motion, scale=0)
    with pytest.raises(ValueError, match="22 distinct names"):
        write_bvh(tmp_path / "a.bvh", motion, joint_names=["j"] * 22)
    with pytest.raises(ValueError, match="SMPLMotion"):
        write_bvh(tmp_path / "a.bvh", {"poses": np.zeros((2, 66))})
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = write_bvh(tmp_path / "a.bvh", random_motion(frames=2))
    before = path.read_text()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("vhdiff.atomic_io.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_bvh(path, random_motion(frames=3, seed=1))
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.bvh"]


def test_reader_rejects_broken_files(tmp_path):
    good = write_bvh(tmp_path / "good.bvh", random_motion(frames=3)).read_text()
    cases = {
        "no_motion.bvh": (good.split("MOTION")[0], "no MOTION section"),
        "short_frame.bvh": (good.rstrip("\n").rsplit(" ", 1)[0] + "\n", "frame 2 has 68"),
        "frames.bvh": (good.replace("Frames: 3", "Frames: 4"), "expected 4 frames"),
        "channel.bvh": (good.replace("Xrotation", "Qrotation", 1), "unknown channels"),
        "brace.bvh": (good.replace("End Site", "End Cite", 1), "expected 'Site'"),
        "number.bvh": (good.replace("OFFSET 0.000000", "OFFSET abc", 1), "expected 3 numbers"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message):
            read_bvh(tmp_path / name)
    (tmp_path / "binary.bvh").write_bytes(b"\xff\xfe\x00HIERARCHY")
    with pytest.raises(ValueError, match="not a text"):
        read_bvh(tmp_path / "binary.bvh")
    with pytest.raises(FileNotFoundError, match="not found"):
        read_bvh(tmp_path / "missing.bvh")


def test_skeleton_marker_joint_names_the_skeleton(tmp_path):
    motion = random_motion(frames=3, seed=4)
    plain = read_bvh(write_bvh(tmp_path / "plain.bvh", motion))
    marked = read_bvh(write_bvh(tmp_path / "marked.bvh", motion, skeleton="mannequin"))
    assert plain.skeleton is None and marked.skeleton == "mannequin"
    marker = marked.joint_names.index("vhdiff_skeleton_mannequin")
    assert marked.parents[marker] == 0 and marked.channels[marker] == ()
    np.testing.assert_allclose(marked.frames, plain.frames)  # no MOTION column added
    index = smpl_order(marked)
    np.testing.assert_allclose(marked.joint_positions()[:, index], smpl_positions(plain), atol=1e-9)
    with pytest.raises(ValueError, match="may not be empty or hold spaces"):
        write_bvh(tmp_path / "bad.bvh", motion, skeleton="two words")


def test_reader_ignores_lines_beyond_the_frame_count(tmp_path):
    """Real files (assimp's Boxing_Toes.bvh) hold more frame lines than 'Frames:' says."""
    text = write_bvh(tmp_path / "a.bvh", random_motion(frames=3)).read_text()
    (tmp_path / "extra.bvh").write_text(text.replace("Frames: 3", "Frames: 2"))
    bvh = read_bvh(tmp_path / "extra.bvh")
    assert bvh.num_frames == 2
    np.testing.assert_allclose(bvh.frames, read_bvh(tmp_path / "a.bvh").frames[:2])
