"""to_features / from_features round trip, heading convention, joints, stats."""

import numpy as np
import pytest
import torch

from tests.motion.helpers import smooth_motion
from vhdiff.body import rotations as tr
from vhdiff.body import rotations_np as nr
from vhdiff.body.skeleton import BODY_PARENTS, SMPL_NEUTRAL_REST_JOINTS, forward_kinematics
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation.smpl import (
    CONTACTS,
    FEATURE_DIM,
    FEATURE_DIM_NO_CONTACTS,
    ROOT_VELOCITY,
    YAW_VELOCITY,
    from_features,
    joints_from_features,
    joints_from_motion,
    root_heading,
    split_heading,
    to_features,
)
from vhdiff.motion.representation.stats import FeatureStats


def _rotmats(motion):
    return nr.axis_angle_to_matrix(motion.poses.reshape(-1, 22, 3))


def test_round_trip_error_is_tiny():
    motion = smooth_motion(200, seed=3)
    features = to_features(motion)
    assert features.shape == (200, FEATURE_DIM) and features.dtype == np.float32
    back = from_features(
        features,
        fps=motion.fps,
        betas=motion.betas,
        start_heading=root_heading(motion)[0],
        start_xz=(motion.transl[0, 0], motion.transl[0, 2]),
    )
    assert back.num_frames == 200 and back.fps == 20.0
    np.testing.assert_allclose(back.transl, motion.transl, atol=1e-4)
    np.testing.assert_allclose(_rotmats(back), _rotmats(motion), atol=1e-4)
    np.testing.assert_array_equal(back.betas, motion.betas)
    joints = joints_from_features(
        features, start_heading=root_heading(motion)[0],
        start_xz=(motion.transl[0, 0], motion.transl[0, 2]),
    )  # fmt: skip
    np.testing.assert_allclose(joints, joints_from_motion(motion), atol=1e-4)


def test_features_are_heading_and_position_invariant():
    motion = smooth_motion(50, seed=1)
    turn = nr.yaw_matrix(np.array(1.3))
    rotated = SMPLMotion(
        global_orient=nr.matrix_to_axis_angle(turn @ _rotmats(motion)[:, 0]),
        body_pose=motion.body_pose,
        transl=(motion.transl + [0.3, 0, -2.0]) @ turn.T,
        betas=motion.betas,
        fps=motion.fps,
    )
    # Turning the world about Y and shifting it leaves every feature unchanged (a constant
    # offset of transl cancels in the velocities; heights do not change).
    np.testing.assert_allclose(to_features(rotated), to_features(motion), atol=1e-5)


def test_velocity_convention_and_left_turn_is_positive():
    frames, fps = 11, 20.0
    psi = np.linspace(0.0, 1.0, frames)  # turning left at 0.1 rad/frame = 2 rad/s
    transl = np.zeros((frames, 3))
    transl[:, 0] = np.linspace(0, 1, frames)  # moving towards +X = the body's left at psi=0
    motion = SMPLMotion(
        global_orient=np.stack((np.zeros(frames), psi, np.zeros(frames)), 1),
        body_pose=np.zeros((frames, 21, 3)), transl=transl, betas=np.zeros(10), fps=fps,
    )  # fmt: skip
    features = to_features(motion, contacts=False)
    assert features.shape == (frames, FEATURE_DIM_NO_CONTACTS)
    np.testing.assert_allclose(features[:, YAW_VELOCITY][:, 0], 0.1 * fps, atol=1e-5)
    # frame 0 velocity = displacement 0 -> 1, in frame 0's heading (psi = 0): pure +x (left)
    np.testing.assert_allclose(features[0, ROOT_VELOCITY], [0.1 * fps, 0.0], atol=1e-5)
    # frame t: rotate the world +X step into the heading frame of frame t
    # (turned left by psi, the body faces (sin psi, 0, cos psi): a +X step is partly forward)
    expected_t = np.array([np.cos(psi[4]), np.sin(psi[4])]) * 0.1 * fps
    np.testing.assert_allclose(features[4, ROOT_VELOCITY], expected_t, atol=1e-5)
    # the last frame repeats the one before
    np.testing.assert_array_equal(features[-1, 1:4], features[-2, 1:4])
    np.testing.assert_allclose(root_heading(motion), psi, atol=1e-9)


def test_split_heading_matches_forward_vector_for_upright_bodies():
    rng = np.random.default_rng(0)
    psi = rng.uniform(-3, 3, size=64)
    tilt = nr.axis_angle_to_matrix(
        np.stack((rng.normal(size=64) * 0.3, np.zeros(64), rng.normal(size=64) * 0.3), 1)
    )
    got_psi, got_tilt = split_heading(nr.yaw_matrix(psi) @ tilt)
    np.testing.assert_allclose(got_psi, psi, atol=1e-9)
    np.testing.assert_allclose(got_tilt, tilt, atol=1e-9)


def test_numpy_rotations_and_fk_match_torch():
    rng = np.random.default_rng(1)
    aa = rng.normal(size=(32, 22, 3))
    mats = nr.axis_angle_to_matrix(aa)
    np.testing.assert_allclose(mats, tr.axis_angle_to_matrix(torch.tensor(aa)).numpy(), atol=1e-12)
    np.testing.assert_allclose(
        nr.axis_angle_to_matrix(nr.matrix_to_axis_angle(mats)), mats, atol=1e-9
    )
    np.testing.assert_allclose(
        nr.rotation_6d_to_matrix(nr.matrix_to_rotation_6d(mats)), mats, atol=1e-12
    )
    transl = rng.normal(size=(32, 3))
    expected = forward_kinematics(
        torch.tensor(mats), torch.tensor(SMPL_NEUTRAL_REST_JOINTS, dtype=torch.float64),
        parents=BODY_PARENTS, transl=torch.tensor(transl),
    ).positions.numpy()  # fmt: skip
    got = nr.forward_kinematics(mats, np.array(SMPL_NEUTRAL_REST_JOINTS), BODY_PARENTS, transl)[0]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_contacts_mark_the_planted_foot():
    frames = 40
    motion = SMPLMotion(
        global_orient=np.zeros((frames, 3)), body_pose=np.zeros((frames, 21, 3)),
        transl=np.zeros((frames, 3)), betas=np.zeros(10), fps=20.0,
    )  # fmt: skip
    motion.body_pose[20:, 0] = [-0.8, 0, 0]  # left hip flexes: the left leg lifts at frame 20
    contacts = to_features(motion)[:, CONTACTS]
    assert contacts[:19].all()  # standing still
    assert not contacts[25:, :2].any()  # left ankle/foot lifted
    assert contacts[:, 2:].all()  # right foot planted throughout


def test_from_features_checks_shapes():
    with pytest.raises(ValueError, match=r"\[T, 140\]"):
        from_features(np.zeros((10, 263)))
    with pytest.raises(ValueError, match="NaN"):
        from_features(np.full((3, 140), np.nan))
    with pytest.raises(ValueError, match=r"features have no frames"):
        from_features(np.zeros((0, 136)))


def test_feature_stats_floor_normalise_and_file(tmp_path):
    data = np.random.default_rng(0).normal(size=(500, 4)) * [1, 2, 0, 3] + [0, 1, 5, -1]
    stats = FeatureStats.from_features([data[:200], data[200:]], min_std=1e-2)
    assert stats.std[2] == pytest.approx(1e-2)  # constant dimension floored
    normed = stats.normalize(data)
    np.testing.assert_allclose(normed[:, [0, 1, 3]].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(normed[:, [0, 1, 3]].std(0), 1, atol=1e-4)
    np.testing.assert_allclose(stats.denormalize(normed), data, atol=1e-5)
    as_tensor = stats.normalize(torch.tensor(data, dtype=torch.float32))
    assert as_tensor.dtype == torch.float32
    np.testing.assert_allclose(as_tensor.numpy(), normed, atol=1e-4)
    loaded = FeatureStats.load(stats.save(tmp_path / "stats.npz"))
    np.testing.assert_array_equal(loaded.mean, stats.mean)
    np.testing.assert_array_equal(loaded.std, stats.std)
    with pytest.raises(ValueError, match="5 dims but the stats have 4"):
        stats.normalize(np.zeros((2, 5)))
    with pytest.raises(FileNotFoundError, match="prep"):
        FeatureStats.load(tmp_path / "missing.npz")
