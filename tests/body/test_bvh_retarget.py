"""BVH -> SMPL retargeting: our own BVH export comes back as the same SMPL parameters (any
unit, any rotation order); a T-pose and an A-pose skeleton doing the same motion give the
same SMPL pose; other names through a mapping file; each bad input is a one-line error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vhdiff.body import rotations_np as nr
from vhdiff.body.bvh import read_bvh, write_bvh
from vhdiff.body.bvh_names import CONVENTIONS, load_mapping, match_joints, normalize_name
from vhdiff.body.bvh_retarget import retarget_bvh
from vhdiff.body.skeleton import BODY_JOINT_NAMES, BODY_PARENTS, SMPL_NEUTRAL_REST_JOINTS
from vhdiff.body.smpl_motion import SMPLMotion

REST = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)
ARMS = {"left": (16, 18, 20), "right": (17, 19, 21)}  # shoulder, elbow, wrist


def random_motion(frames: int = 8, seed: int = 0, max_angle: float = 2.5) -> SMPLMotion:
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(frames, 22, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    pose = axes * rng.uniform(0.0, max_angle, size=(frames, 22, 1))
    return SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:],
        transl=rng.normal(scale=0.3, size=(frames, 3)) + [0.0, 0.9, 0.0],
        betas=np.zeros(10), fps=30.0,
    )  # fmt: skip


def rotations(motion: SMPLMotion) -> np.ndarray:
    """[T, 22, 3, 3] local rotation matrices."""
    return nr.axis_angle_to_matrix(motion.poses.reshape(-1, 22, 3).astype(np.float64))


def assert_same_pose(got: SMPLMotion, expected: SMPLMotion, atol: float = 1e-4) -> None:
    np.testing.assert_allclose(rotations(got), rotations(expected), atol=atol)
    np.testing.assert_allclose(got.transl, expected.transl, atol=atol)


@pytest.mark.parametrize(("order", "scale"), [("ZXY", 1.0), ("XYZ", 100.0), ("YZX", 2.54)])
def test_own_export_round_trips(tmp_path, order, scale):
    motion = random_motion(seed=len(order) + int(scale))
    bvh = read_bvh(write_bvh(tmp_path / "a.bvh", motion, order=order, scale=scale))
    result = retarget_bvh(bvh)
    assert result.match.convention == "smpl"
    assert result.scale == pytest.approx(1.0 / scale, rel=1e-5)
    np.testing.assert_allclose(result.world, np.eye(3))
    assert result.motion.fps == pytest.approx(motion.fps)
    assert_same_pose(result.motion, motion)


def a_pose_version(motion: SMPLMotion, degrees: float = 45.0) -> tuple[SMPLMotion, np.ndarray]:
    """The same motion on a skeleton whose rest arms hang `degrees` below SMPL's: rest
    joints [22, 3] with each arm's elbow and wrist turned down about its shoulder by A,
    and local rotations with every arm joint's world frame G' = G A^T (same world bones)."""
    rest = REST.copy()
    turn = {}
    for shoulder, elbow, wrist in ARMS.values():
        bone = REST[elbow] - REST[shoulder]
        axis = np.cross(bone, [0.0, 1.0, 0.0])
        turn[shoulder] = nr.axis_angle_to_matrix(-np.radians(degrees) * axis / np.linalg.norm(axis))
        for joint in (elbow, wrist):
            rest[joint] = REST[shoulder] + turn[shoulder] @ (REST[joint] - REST[shoulder])
        turn[elbow] = turn[wrist] = turn[shoulder]
    _, world = nr.forward_kinematics(rotations(motion), REST, BODY_PARENTS)
    world = world.copy()
    for joint, a in turn.items():
        world[:, joint] = world[:, joint] @ a.T
    local = world.copy()
    local[:, 1:] = np.swapaxes(world[:, list(BODY_PARENTS[1:])], -1, -2) @ world[:, 1:]
    pose = nr.matrix_to_axis_angle(local)
    # the root position channel is rest[0] + transl: same rest pelvis, same transl
    moved = SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:], transl=motion.transl,
        betas=motion.betas, fps=motion.fps,
    )  # fmt: skip
    return moved, rest


def test_t_pose_and_a_pose_skeletons_give_the_same_smpl_pose(tmp_path):
    motion = random_motion(seed=5, max_angle=1.5)
    a_motion, a_rest = a_pose_version(motion)
    a_file = write_bvh(tmp_path / "a_pose.bvh", a_motion, rest_joints=a_rest, scale=100.0)
    t_file = write_bvh(tmp_path / "t_pose.bvh", motion)
    a_bvh = read_bvh(a_file)
    rest = {name: a_bvh.rest_joints()[i] / 100.0 for i, name in enumerate(a_bvh.joint_names)}
    assert (rest["left_elbow"] - rest["left_shoulder"])[1] < -0.15  # the rest arm hangs down
    from_t = retarget_bvh(read_bvh(t_file)).motion
    from_a = retarget_bvh(a_bvh).motion
    assert_same_pose(from_t, motion)
    assert_same_pose(from_a, from_t)


def test_other_names_need_a_mapping_file(tmp_path):
    names = [f"bone{i:02d}" for i in range(22)]
    motion = random_motion(seed=2)
    bvh = read_bvh(write_bvh(tmp_path / "a.bvh", motion, joint_names=names))
    with pytest.raises(ValueError, match=r"unmatched BVH joints: bone00, .*--mapping FILE") as info:
        retarget_bvh(bvh, where="a.bvh")
    assert "\n" not in str(info.value)
    mapping_file = tmp_path / "map.json"
    mapping_file.write_text(json.dumps(dict(zip(names, BODY_JOINT_NAMES))))
    result = retarget_bvh(bvh, mapping=load_mapping(mapping_file))
    assert result.match.convention == "user"
    assert_same_pose(result.motion, motion)


def test_mapping_file_errors(tmp_path):
    cases = {
        "list.json": ("[1, 2]", "JSON object of strings"),
        "broken.json": ("{", "not a JSON file"),
        "unknown.json": ('{"Hips": "hips"}', r"unknown SMPL joint names \['hips'\]"),
        "twice.json": ('{"A": "pelvis", "B": "pelvis"}', "named once"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message):
            load_mapping(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_mapping(tmp_path / "missing.json")


def test_conventions_pick_the_table_that_names_most_joints():
    cmu = ["Hips", "LHipJoint", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RHipJoint",
           "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "LowerBack", "Spine", "Spine1",
           "Neck", "Neck1", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
           "RightShoulder", "RightArm", "RightForeArm", "RightHand"]  # fmt: skip
    match = match_joints(cmu)
    assert match.convention == "cmu"
    assert cmu[match.bvh_of[BODY_JOINT_NAMES.index("left_collar")]] == "LeftShoulder"
    assert set(match.unmatched) == {"LHipJoint", "RHipJoint", "Neck1"}
    mixamo = [
        "mixamorig:" + n for n in cmu if n not in ("LHipJoint", "RHipJoint", "LowerBack", "Neck1")
    ] + ["mixamorig:Spine2"]
    match = match_joints(mixamo)
    assert match.convention == "mixamo"
    assert mixamo[match.bvh_of[BODY_JOINT_NAMES.index("spine3")]] == "mixamorig:Spine2"
    assert normalize_name("mixamorig:LeftUpLeg") == normalize_name("left_up_leg") == "leftupleg"
    for table in CONVENTIONS.values():
        assert set(table.values()) <= set(BODY_JOINT_NAMES)


def bad_file(tmp_path, name: str, edit) -> object:
    good = write_bvh(tmp_path / "good.bvh", random_motion(frames=3)).read_text()
    path = tmp_path / name
    path.write_text(edit(good))
    return read_bvh(path)


def test_bad_input_errors_are_one_line(tmp_path):
    def no_frames(text: str) -> str:
        head = text.split("Frames:")[0]
        return head + "Frames: 0\nFrame Time: 0.05\n"

    def nan_value(text: str) -> str:
        lines = text.splitlines()
        lines[-1] = "nan " + lines[-1].split(" ", 1)[1]
        return "\n".join(lines) + "\n"

    def zxz_order(text: str) -> str:
        return text.replace("CHANNELS 3 Zrotation Xrotation Yrotation",
                            "CHANNELS 3 Zrotation Xrotation Zrotation", 1)  # fmt: skip

    def renamed(text: str) -> str:
        return text.replace("JOINT left_knee", "JOINT knee_L").replace(
            "JOINT left_hip", "JOINT hip_L"
        )

    cases = {
        "empty.bvh": (no_frames, "no frames"),
        "nan.bvh": (nan_value, "NaN or infinite"),
        "order.bvh": (zxz_order, "rotation channel order ZXZ; supported"),
        "names.bvh": (renamed, "no joint for SMPL's left_hip, left_knee .*hip_L, knee_L"),
    }
    for name, (edit, message) in cases.items():
        with pytest.raises(ValueError, match=message) as info:
            retarget_bvh(bad_file(tmp_path, name, edit), where=name)
        assert "\n" not in str(info.value) and str(info.value).startswith(name)


def test_a_z_up_file_comes_back_y_up(tmp_path):
    """The same motion in a Z-up world (every joint's rotation conjugated, offsets and root
    turned): the rest pose gives the axes back and the SMPL motion is the same."""
    turn = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # Y up -> Z up
    motion = random_motion(seed=7)
    local = turn @ rotations(motion) @ turn.T
    pose = nr.matrix_to_axis_angle(local)
    z_up = SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:], transl=motion.transl @ turn.T,
        betas=motion.betas, fps=motion.fps,
    )  # fmt: skip
    bvh = read_bvh(write_bvh(tmp_path / "z.bvh", z_up, rest_joints=REST @ turn.T))
    result = retarget_bvh(bvh)
    np.testing.assert_allclose(result.world, turn.T, atol=1e-12)
    assert_same_pose(result.motion, motion)
