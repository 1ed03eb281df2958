"""The SMPL kinematic tree and forward kinematics.

Joint order is SMPL's (also the first 22 joints of SMPL-H, SMPL-X and the mannequin):
0 pelvis, 1/2 left/right hip, 3 spine1, 4/5 knees, 6 spine2, 7/8 ankles, 9 spine3,
10/11 feet, 12 neck, 13/14 collars, 15 head, 16/17 shoulders, 18/19 elbows,
20/21 wrists, 22/23 hands (SMPL only); left before right.

Coordinates: the SMPL canonical frame, Y up, metres; in the rest pose the body faces
+Z and its left side is +X.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "BODY_JOINT_NAMES",
    "BODY_PARENTS",
    "FOOT_JOINTS",
    "HAND_JOINTS",
    "KINEMATIC_CHAINS",
    "LEFT_FOOT_JOINTS",
    "LEFT_RIGHT_PAIRS",
    "MIRROR_INDEX",
    "NUM_BODY_JOINTS",
    "NUM_SMPL_JOINTS",
    "RIGHT_FOOT_JOINTS",
    "SMPL_JOINT_NAMES",
    "SMPL_NEUTRAL_REST_JOINTS",
    "SMPL_PARENTS",
    "WRIST_JOINTS",
    "Kinematics",
    "forward_kinematics",
    "mirror_axis_angle",
    "mirror_joint_positions",
]

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
SMPL_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)  # fmt: skip
NUM_SMPL_JOINTS = 24

# The 22-joint body used by HumanML3D / KIT-style joint features (SMPL without hands).
NUM_BODY_JOINTS = 22
BODY_JOINT_NAMES: tuple[str, ...] = SMPL_JOINT_NAMES[:NUM_BODY_JOINTS]
BODY_PARENTS: tuple[int, ...] = SMPL_PARENTS[:NUM_BODY_JOINTS]

# (left, right) index pairs; mirroring swaps them and negates x.
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21), (22, 23),
)  # fmt: skip


def _mirror_index(num_joints: int) -> tuple[int, ...]:
    index = list(range(num_joints))
    for left, right in LEFT_RIGHT_PAIRS:
        if right < num_joints:
            index[left], index[right] = right, left
    return tuple(index)


# MIRROR_INDEX[j] is the joint that j becomes in the mirrored body (24 joints; take
# [:22] for the body subset, which maps into itself).
MIRROR_INDEX: tuple[int, ...] = _mirror_index(NUM_SMPL_JOINTS)

LEFT_FOOT_JOINTS: tuple[int, int] = (7, 10)  # left ankle, left foot (HumanML3D fid_l)
RIGHT_FOOT_JOINTS: tuple[int, int] = (8, 11)  # right ankle, right foot (HumanML3D fid_r)
FOOT_JOINTS: tuple[int, ...] = LEFT_FOOT_JOINTS + RIGHT_FOOT_JOINTS
WRIST_JOINTS: tuple[int, int] = (20, 21)  # the hands' ends in the 22-joint body
HAND_JOINTS: tuple[int, int] = (22, 23)  # SMPL's hand joints (absent from the 22-joint body)

# Chains for stick figures (HumanML3D's t2m_kinematic_chain): right leg, left leg,
# spine to head, right arm, left arm.
KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),
    (0, 1, 4, 7, 10),
    (0, 3, 6, 9, 12, 15),
    (9, 14, 17, 19, 21),
    (9, 13, 16, 18, 20),
)

# Rest-pose joints of the gender-neutral SMPL body (betas = 0, transl = 0) in metres,
# rounded to the millimetre, as widely reproduced in open-source SMPL tooling. Used as
# the reference skeleton: the mannequin is placed so its feet meet the ground where
# these feet would, and the synthetic test model regresses exactly these joints.
SMPL_NEUTRAL_REST_JOINTS: tuple[tuple[float, float, float], ...] = (
    (-0.002, -0.223, 0.028), (0.068, -0.315, 0.021), (-0.069, -0.314, 0.024),
    (-0.004, -0.114, 0.002), (0.102, -0.690, 0.017), (-0.108, -0.696, 0.015),
    (0.001, 0.021, 0.003), (0.088, -1.088, -0.027), (-0.092, -1.095, -0.027),
    (0.003, 0.074, 0.028), (0.115, -1.144, 0.093), (-0.117, -1.143, 0.096),
    (0.000, 0.288, -0.015), (0.081, 0.195, -0.006), (-0.079, 0.193, -0.011),
    (0.005, 0.353, 0.037), (0.172, 0.226, -0.015), (-0.175, 0.225, -0.020),
    (0.432, 0.213, -0.042), (-0.429, 0.212, -0.041), (0.681, 0.222, -0.044),
    (-0.684, 0.220, -0.047),
)  # fmt: skip


@dataclass
class Kinematics:
    """Result of :func:`forward_kinematics`.

    positions: [..., J, 3] joint positions in the world frame.
    rotations: [..., J, 3, 3] global (world) orientation of each joint's frame.
    """

    positions: Tensor
    rotations: Tensor

    @property
    def transforms(self) -> Tensor:
        """[..., J, 4, 4] homogeneous world transforms (rotation and joint position)."""
        top = torch.cat((self.rotations, self.positions[..., None]), dim=-1)
        bottom = torch.zeros_like(top[..., :1, :])
        bottom[..., 0, 3] = 1.0
        return torch.cat((top, bottom), dim=-2)


def _check_parents(parents: Sequence[int], num_joints: int) -> list[int]:
    parents = [int(p) for p in parents]
    if len(parents) != num_joints:
        raise ValueError(f"parents has {len(parents)} entries but the pose has {num_joints} joints")
    if parents[0] >= 0:
        raise ValueError(f"parents[0] must be -1 (the root), got {parents[0]}")
    for joint, parent in enumerate(parents[1:], start=1):
        if not 0 <= parent < joint:
            raise ValueError(
                f"parents must list each joint after its parent (0 <= parents[j] < j); "
                f"parents[{joint}] = {parent}"
            )
    return parents


def forward_kinematics(
    rotmats: Tensor,
    rest_joints: Tensor,
    parents: Sequence[int] = SMPL_PARENTS,
    transl: Tensor | None = None,
) -> Kinematics:
    """Pose a skeleton: local joint rotations -> world joint positions and orientations.

    Args:
        rotmats: [..., J, 3, 3] rotation of each joint relative to its parent; rotmats[..., 0]
            is the root (SMPL's global_orient), applied about the root joint.
        rest_joints: [..., J, 3] (or [J, 3]) rest-pose joint positions; broadcast against rotmats.
        parents: J parent indices, parents[0] = -1 and parents[j] < j (SMPL_PARENTS by default).
        transl: optional [..., 3] added to every joint (SMPL's transl).

    Returns:
        Kinematics with positions [..., J, 3] and rotations [..., J, 3, 3]:
        G_j = G_parent(j) R_j and p_j = p_parent(j) + G_parent(j) (rest_j - rest_parent(j)),
        the rigid part of SMPL's skinning chain (Loper et al. 2015, Eq. 4).
    """
    if rotmats.dim() < 3 or tuple(rotmats.shape[-2:]) != (3, 3):
        raise ValueError(f"rotmats must have shape [..., J, 3, 3], got {list(rotmats.shape)}")
    if rest_joints.dim() < 2 or rest_joints.shape[-1] != 3:
        raise ValueError(f"rest_joints must have shape [..., J, 3], got {list(rest_joints.shape)}")
    num_joints = rotmats.shape[-3]
    if rest_joints.shape[-2] != num_joints:
        raise ValueError(
            f"rotmats has {num_joints} joints but rest_joints has {rest_joints.shape[-2]}"
        )
    parents = _check_parents(parents, num_joints)
    rest_joints = rest_joints.to(rotmats.dtype)
    batch = torch.broadcast_shapes(rotmats.shape[:-3], rest_joints.shape[:-2])
    rotmats = rotmats.expand(*batch, num_joints, 3, 3)
    rest_joints = rest_joints.expand(*batch, num_joints, 3)

    rotations = [rotmats[..., 0, :, :]]
    positions = [rest_joints[..., 0, :]]
    for joint in range(1, num_joints):
        parent = parents[joint]
        offset = rest_joints[..., joint, :] - rest_joints[..., parent, :]
        positions.append(positions[parent] + (rotations[parent] @ offset[..., None])[..., 0])
        rotations.append(rotations[parent] @ rotmats[..., joint, :, :])
    out_positions = torch.stack(positions, dim=-2)
    if transl is not None:
        out_positions = out_positions + transl[..., None, :].to(out_positions.dtype)
    return Kinematics(positions=out_positions, rotations=torch.stack(rotations, dim=-3))


def mirror_joint_positions(positions: Tensor) -> Tensor:
    """Left-right mirror of joints [..., J, 3] (J = 22 or 24): swap pairs, negate x."""
    num_joints = positions.shape[-2]
    if num_joints not in (NUM_BODY_JOINTS, NUM_SMPL_JOINTS):
        raise ValueError(f"expected 22 or 24 SMPL joints, got {num_joints}")
    mirrored = positions[..., list(MIRROR_INDEX[:num_joints]), :].clone()
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


def mirror_axis_angle(pose: Tensor) -> Tensor:
    """Left-right mirror of local axis-angle rotations [..., J, 3] (J = 22 or 24, root first).

    Reflecting x -> -x maps a rotation R to S R S with S = diag(-1, 1, 1), which for a
    rotation vector (x, y, z) gives (x, -y, -z); the left/right joints then swap.
    """
    num_joints = pose.shape[-2]
    if num_joints not in (NUM_BODY_JOINTS, NUM_SMPL_JOINTS) or pose.shape[-1] != 3:
        raise ValueError(f"expected [..., 22 or 24, 3] axis-angle, got {list(pose.shape)}")
    mirrored = pose[..., list(MIRROR_INDEX[:num_joints]), :].clone()
    mirrored[..., 1:] = -mirrored[..., 1:]
    return mirrored
