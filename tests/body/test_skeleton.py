"""SMPL kinematic tree constants and forward kinematics (cross-checked with smplx.lbs)."""

import pytest
import torch

from vhdiff.body import skeleton as S
from vhdiff.body.rotations import axis_angle_to_matrix


def test_tree_constants_are_consistent():
    assert len(S.SMPL_JOINT_NAMES) == len(S.SMPL_PARENTS) == S.NUM_SMPL_JOINTS == 24
    assert S.BODY_JOINT_NAMES == S.SMPL_JOINT_NAMES[:22] and len(S.BODY_PARENTS) == 22
    assert all(0 <= p < j for j, p in enumerate(S.SMPL_PARENTS) if j)
    for left, right in S.LEFT_RIGHT_PAIRS:
        assert S.SMPL_JOINT_NAMES[left].replace("left", "right") == S.SMPL_JOINT_NAMES[right]
        assert S.SMPL_PARENTS[left] in (
            S.SMPL_PARENTS[right],
            S.MIRROR_INDEX[S.SMPL_PARENTS[right]],
        )
    assert sorted(S.MIRROR_INDEX) == list(range(24))
    assert [S.SMPL_JOINT_NAMES[i] for i in S.FOOT_JOINTS] == [
        "left_ankle",
        "left_foot",
        "right_ankle",
        "right_foot",
    ]
    assert [S.SMPL_JOINT_NAMES[i] for i in S.WRIST_JOINTS] == ["left_wrist", "right_wrist"]
    chains = {j for chain in S.KINEMATIC_CHAINS for j in chain}
    assert chains == set(range(22))
    rest = torch.tensor(S.SMPL_NEUTRAL_REST_JOINTS)
    assert rest.shape == (22, 3)
    assert (rest[[1, 4, 7, 10, 13, 16, 18, 20], 0] > 0).all()  # left is +x
    assert rest[15, 1] > rest[0, 1] > rest[10, 1]  # head above pelvis above feet: y up


def test_fk_matches_smplx_rigid_transform():
    from smplx.lbs import batch_rigid_transform

    g = torch.Generator().manual_seed(0)
    pose = torch.randn(5, 24, 3, generator=g, dtype=torch.float64) * 0.5
    rest = torch.randn(5, 24, 3, generator=g, dtype=torch.float64)
    rotmats = axis_angle_to_matrix(pose)
    expected, transforms = batch_rigid_transform(
        rotmats, rest, torch.tensor(S.SMPL_PARENTS), dtype=torch.float64
    )
    out = S.forward_kinematics(rotmats, rest)
    torch.testing.assert_close(out.positions, expected)
    torch.testing.assert_close(out.rotations, transforms[..., :3, :3])
    assert out.transforms.shape == (5, 24, 4, 4)
    torch.testing.assert_close(out.transforms[..., :3, 3], out.positions)


def test_fk_rest_pose_identity_and_broadcasting():
    rest = torch.tensor(S.SMPL_NEUTRAL_REST_JOINTS)
    eye = torch.eye(3).expand(2, 3, 22, 3, 3)
    out = S.forward_kinematics(eye, rest, S.BODY_PARENTS, transl=torch.ones(2, 3, 3))
    assert out.positions.shape == (2, 3, 22, 3)
    torch.testing.assert_close(out.positions, (rest + 1).expand(2, 3, 22, 3))


def test_mirroring_commutes_with_fk():
    rest = torch.tensor(S.SMPL_NEUTRAL_REST_JOINTS, dtype=torch.float64)
    symmetric = (rest + S.mirror_joint_positions(rest)) / 2  # a left-right symmetric skeleton
    pose = torch.randn(4, 22, 3, dtype=torch.float64) * 0.4
    fk = lambda p: (
        S.forward_kinematics(axis_angle_to_matrix(p), symmetric, S.BODY_PARENTS).positions
    )
    torch.testing.assert_close(fk(S.mirror_axis_angle(pose)), S.mirror_joint_positions(fk(pose)))
    torch.testing.assert_close(S.mirror_joint_positions(S.mirror_joint_positions(rest)), rest)


def test_fk_bad_input():
    with pytest.raises(ValueError, match=r"rotmats must have shape \[\.\.\., J, 3, 3\]"):
        S.forward_kinematics(torch.zeros(22, 3), torch.zeros(22, 3))
    with pytest.raises(ValueError, match="rotmats has 22 joints but rest_joints has 24"):
        S.forward_kinematics(torch.eye(3).expand(22, 3, 3), torch.zeros(24, 3), S.BODY_PARENTS)
    with pytest.raises(ValueError, match="parents has 24 entries but the pose has 22"):
        S.forward_kinematics(torch.eye(3).expand(22, 3, 3), torch.zeros(22, 3))
    with pytest.raises(ValueError, match=r"parents\[2\] = 5"):
        S.forward_kinematics(torch.eye(3).expand(3, 3, 3), torch.zeros(3, 3), [-1, 0, 5])
    with pytest.raises(ValueError, match="22 or 24"):
        S.mirror_joint_positions(torch.zeros(10, 3))
