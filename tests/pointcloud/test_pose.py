"""The pose condition: canonical (heading removed) SMPL poses as 6D rotations."""

import numpy as np
import pytest

from vhdiff.body.rotations_np import axis_angle_to_matrix, yaw_matrix
from vhdiff.pointcloud.pose import POSE_DIM, canonical_pose, heading, load_pose, pose_vector


def test_the_heading_is_removed_and_the_rest_kept():
    rng = np.random.default_rng(0)
    body = rng.normal(size=(21, 3)) * 0.3
    tilt = np.array([0.2, 0.0, 0.1])
    base = canonical_pose(tilt, body)
    for yaw in (0.5, -2.0, 3.0):
        turned = yaw_matrix(np.array(yaw)) @ axis_angle_to_matrix(tilt)
        from vhdiff.body.rotations_np import matrix_to_axis_angle

        pose = canonical_pose(matrix_to_axis_angle(turned), body)
        np.testing.assert_allclose(axis_angle_to_matrix(pose[0]), axis_angle_to_matrix(base[0]), atol=1e-5)
        np.testing.assert_allclose(pose[1:], body, atol=1e-6)
        assert abs(heading(axis_angle_to_matrix(pose[0]))) < 1e-5


def test_pose_vector_is_6d_and_rejects_other_shapes():
    vector = pose_vector(np.zeros((22, 3)))
    assert vector.shape == (POSE_DIM,)
    np.testing.assert_allclose(vector[:6], [1, 0, 0, 0, 1, 0])
    assert pose_vector(np.zeros((5, 22, 3))).shape == (5, POSE_DIM)
    with pytest.raises(ValueError, match="22, 3"):
        pose_vector(np.zeros((21, 3)))


def test_load_pose_from_a_motion_file(tmp_path):
    from vhdiff.body.smpl_motion import SMPLMotion

    rng = np.random.default_rng(1)
    motion = SMPLMotion(global_orient=rng.normal(size=(5, 3)) * 0.2, body_pose=rng.normal(size=(5, 21, 3)) * 0.2,
                        transl=np.zeros((5, 3)), betas=np.zeros(10), fps=20.0)
    motion.save(tmp_path / "m.npz")
    pose = load_pose(f"{tmp_path / 'm.npz'}:3")
    np.testing.assert_allclose(pose[1:], motion.body_pose[3], atol=1e-6)
    np.testing.assert_allclose(load_pose(tmp_path / "m.npz")[1:], motion.body_pose[0], atol=1e-6)
    with pytest.raises(ValueError, match="frame 9 is outside"):
        load_pose(f"{tmp_path / 'm.npz'}:9")
    with pytest.raises(FileNotFoundError, match="no pose file"):
        load_pose(tmp_path / "missing.npz")
    np.save(tmp_path / "wrong.npy", np.zeros((10, 3)))
    with pytest.raises(ValueError, match="shape \\[10, 3\\]"):
        load_pose(tmp_path / "wrong.npy")
