"""Geometric losses of the motion pipeline, as a trainer loss hook (outside the core).

MDM (Tevet et al. 2023, sec. 3, eq. 5-7) adds to the diffusion loss, on the model's clean
estimate x0_hat and the data x0 mapped to joint positions J(.) by forward kinematics:

    L_pos  = || J(x0) - J(x0_hat) ||^2                                   (eq. 5)
    L_vel  = || (J(x0)_{t+1} - J(x0)_t) - (J(x0_hat)_{t+1} - J(x0_hat)_t) ||^2   (eq. 7)
    L_foot = || (J(x0_hat)_{t+1} - J(x0_hat)_t) * f_t ||^2               (eq. 6)

f_t are foot-contact labels of the four foot joints. MDM takes them from the data; here
the weight is the model's OWN predicted contact channel (clamped to [0, 1], gradient
stopped so the model cannot lower the loss by predicting no contact), i.e. "a foot that
the model says is planted must not move" - consistency between the contacts it predicts
and the motion it makes. With 136-dim features (no contacts) the data's labels are
recomputed from J(x0).

Every term is a mean over real frames (mask), joints and coordinates, in metres^2
(velocities in metres per frame), so the weights are comparable to MDM's (all 1).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from vhdiff.body.skeleton import FOOT_JOINTS
from vhdiff.motion.representation.smpl import CONTACTS, FEATURE_DIM, foot_contacts
from vhdiff.motion.representation.smpl_torch import joints_from_features_torch
from vhdiff.motion.representation.stats import FeatureStats

__all__ = ["MotionGeometryLoss", "motion_geometry_hook"]


class MotionGeometryLoss:
    """Per-sample geometric loss [B] from a trainer `LossContext` (see module docstring).

    Args (keyword-only):
        stats: FeatureStats the data was normalised with (x0 and pred_x0 are normalised).
        position, velocity, foot_contact: the weights of L_pos, L_vel, L_foot (0 = off).
        fps: frame rate of the features.
    """

    def __init__(
        self, *, stats: FeatureStats, position: float = 1.0, velocity: float = 1.0,
        foot_contact: float = 1.0, fps: float = 20.0,
    ) -> None:
        for name, value in (("position", position), ("velocity", velocity), ("foot_contact", foot_contact)):
            if value < 0:
                raise ValueError(f"motion_geometry: weight {name} must be >= 0; got {value}")
        self.mean = torch.as_tensor(stats.mean, dtype=torch.float32)
        self.std = torch.as_tensor(stats.std, dtype=torch.float32)
        self.weights = (float(position), float(velocity), float(foot_contact))
        self.fps = float(fps)

    def _denormalize(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.mean.shape[0]:
            raise ValueError(
                f"motion_geometry: features have {x.shape[-1]} dims but the stats have "
                f"{self.mean.shape[0]}; use the dataset's feature_stats.npz"
            )
        return x.float() * self.std.to(x.device) + self.mean.to(x.device)

    def __call__(self, ctx) -> Tensor:
        # float32 even under bf16/fp16 autocast: frame-to-frame joint displacements are
        # millimetres, below half precision's resolution at body-size coordinates
        with torch.autocast(device_type=ctx.x0.device.type, enabled=False):
            return self._loss(ctx)

    def _loss(self, ctx) -> Tensor:
        x0 = self._denormalize(ctx.x0)
        pred = self._denormalize(ctx.pred_x0)
        B, T = x0.shape[:2]
        mask = torch.ones(B, T, device=x0.device) if ctx.mask is None else ctx.mask.reshape(B, T).float()
        with torch.no_grad():
            joints = joints_from_features_torch(x0, fps=self.fps)
        pred_joints = joints_from_features_torch(pred, fps=self.fps)
        w_pos, w_vel, w_foot = self.weights
        loss = torch.zeros(B, device=x0.device)
        if w_pos:
            loss = loss + w_pos * _masked_mean((joints - pred_joints).pow(2), mask)
        if T < 2 or not (w_vel or w_foot):
            return loss
        pair = mask[:, 1:] * mask[:, :-1]  # both frames real
        pred_vel = pred_joints[:, 1:] - pred_joints[:, :-1]
        if w_vel:
            vel = joints[:, 1:] - joints[:, :-1]
            loss = loss + w_vel * _masked_mean((vel - pred_vel).pow(2), pair)
        if w_foot:
            if pred.shape[-1] == FEATURE_DIM:
                contact = pred[:, :-1, CONTACTS].detach().clamp(0.0, 1.0)  # [B, T-1, 4]
            else:
                contact = _contacts_from_joints(joints, self.fps)[:, :-1]
            foot_vel = pred_vel[:, :, list(FOOT_JOINTS)] * contact[..., None]
            loss = loss + w_foot * _masked_mean(foot_vel.pow(2), pair)
        return loss


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean over everything but the batch of values [B, T, ...], real frames only -> [B]."""
    per_frame = values.flatten(2).mean(dim=2)  # [B, T]
    return (per_frame * mask).sum(1) / mask.sum(1).clamp_min(1.0)


def _contacts_from_joints(joints: Tensor, fps: float) -> Tensor:
    """Contact labels [B, T, 4] of the data's joints [B, T, 22, 3] (no gradient needed):
    vhdiff.motion.representation.smpl.foot_contacts, clip by clip."""
    labels = [foot_contacts(clip, fps) for clip in joints.detach().cpu().double().numpy()]
    return torch.as_tensor(np.stack(labels), dtype=joints.dtype, device=joints.device)


def motion_geometry_hook(
    *, stats: str | os.PathLike, position: float = 1.0, velocity: float = 1.0,
    foot_contact: float = 1.0, fps: float = 20.0,
) -> Callable:
    """`trainer.loss_hooks: {motion_geometry: {stats: DATA/feature_stats.npz, ...}}`."""
    return MotionGeometryLoss(
        stats=FeatureStats.load(stats), position=position, velocity=velocity,
        foot_contact=foot_contact, fps=fps,
    )
