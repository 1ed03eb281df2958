"""Differentiable joint positions from (denormalised) motion features, in torch.

The torch twin of :func:`vhdiff.motion.representation.smpl.joints_from_features` for batches,
used by the geometric training losses (:mod:`vhdiff.motion.training.losses`): the root is
integrated from its velocities (cumulative sums), every 6D block is mapped to a rotation by
Gram-Schmidt, and forward kinematics runs on the neutral SMPL skeleton. Gradients flow to
every feature except the contact labels.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vhdiff.body.rotations import rotation_6d_to_matrix
from vhdiff.body.skeleton import (
    BODY_PARENTS,
    NUM_BODY_JOINTS,
    SMPL_NEUTRAL_REST_JOINTS,
    forward_kinematics,
)
from vhdiff.motion.representation.smpl import (
    BODY_ROTATIONS,
    FEATURE_DIM,
    FEATURE_DIM_NO_CONTACTS,
    ROOT_TILT,
    ROOT_VELOCITY,
    YAW_VELOCITY,
)

__all__ = ["joints_from_features_torch", "yaw_matrix"]


def yaw_matrix(psi: Tensor) -> Tensor:
    """R_y(psi) [..., 3, 3] for angles [...]: rotation about +Y (+Z turns towards +X)."""
    c, s = psi.cos(), psi.sin()
    zero, one = torch.zeros_like(psi), torch.ones_like(psi)
    return torch.stack((c, zero, s, zero, one, zero, -s, zero, c), -1).reshape(*psi.shape, 3, 3)


def joints_from_features_torch(features: Tensor, *, fps: float = 20.0) -> Tensor:
    """Joint positions [B, T, 22, 3] of denormalised features [B, T, 140 or 136].

    Start heading 0 and start position (0, 0) on the ground plane, as the numpy version's
    defaults; the last frame's velocities are unused (forward differences).
    """
    if features.ndim != 3 or features.shape[-1] not in (FEATURE_DIM, FEATURE_DIM_NO_CONTACTS):
        raise ValueError(
            f"features must have shape [B, T, {FEATURE_DIM}] (or {FEATURE_DIM_NO_CONTACTS}); "
            f"got {list(features.shape)}"
        )
    B, T, _ = features.shape
    omega = features[..., YAW_VELOCITY][..., 0] / fps  # [B, T] heading change to the next frame
    zero = torch.zeros_like(omega[:, :1])
    psi = torch.cat((zero, torch.cumsum(omega[:, :-1], dim=1)), dim=1)
    yaw = yaw_matrix(psi)  # [B, T, 3, 3]
    local = torch.zeros(B, T, 3, dtype=features.dtype, device=features.device)
    local = local.index_copy(2, torch.tensor([0, 2], device=features.device), features[..., ROOT_VELOCITY] / fps)
    world = (yaw @ local[..., None])[..., 0]  # [B, T, 3] displacement to the next frame
    xz = torch.cat((torch.zeros_like(world[:, :1]), torch.cumsum(world[:, :-1], dim=1)), dim=1)
    transl = torch.stack((xz[..., 0], features[..., 0], xz[..., 2]), dim=-1)
    root = yaw @ rotation_6d_to_matrix(features[..., ROOT_TILT])
    body = rotation_6d_to_matrix(features[..., BODY_ROTATIONS].reshape(B, T, NUM_BODY_JOINTS - 1, 6))
    rotmats = torch.cat((root[:, :, None], body), dim=2)  # [B, T, 22, 3, 3]
    rest = torch.as_tensor(SMPL_NEUTRAL_REST_JOINTS, dtype=features.dtype, device=features.device)
    return forward_kinematics(rotmats, rest, BODY_PARENTS, transl).positions
