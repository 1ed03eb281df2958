"""The license-free default body: the `mannequin-x` figure driven by SMPL parameters.

mannequin-x (Apache-2.0, numpy) ships a skinned wooden mannequin (24256 vertices) and a
rigid convex one, rigged on SMPL-X's skeleton with joints calibrated to the SMPL-X
neutral body and its first ten shape coefficients. Its first 22 joints are SMPL's body
joints in SMPL order, then zero-length L_Hand / R_Hand at the wrists and 30 finger
joints (54 in all). How SMPL parameters drive it:

- ``body_pose[:, :21]`` -> its ``body_pose`` (the same joints, same local frames);
  SMPL's hand joints 22/23 are ignored; the fingers keep SMPL-X's relaxed mean pose.
- ``global_orient`` -> its ``pelvis_rotation`` (a rotation about the pelvis joint, which
  is what SMPL's global_orient is).
- ``betas`` -> its 10 SMPL-X shape coefficients (bone lengths, ground plane, head size).
  SMPL and SMPL-X shape spaces are similar in their first components (height, weight)
  but not identical, so non-zero betas give a similar, not the same, figure.
- ``transl`` -> its ``global_translation`` plus a fixed offset that moves the mannequin
  from SMPL-X's rest placement to SMPL's: horizontally the rest pelvis lands on SMPL's
  neutral rest pelvis, vertically the rest feet joints land on SMPL's neutral rest feet
  joints (vhdiff.body.skeleton.SMPL_NEUTRAL_REST_JOINTS). So feet meet the ground where
  an SMPL body's feet would for the same transl (SMPL-X's legs are ~1.4 cm longer; the
  pelvis therefore sits ~1.4 cm higher than SMPL's).

Not differentiable (numpy forward kinematics). Skinning runs in torch on the figure's
skin weights (read from mannequin-x's prepared shape; a test checks it against
mannequin-x's own numpy skinning), ~10x faster than the numpy path, which is the
fallback for rigid figures. Batches are evaluated in chunks to bound memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from vhdiff.body.body_model import BodyModel, BodyParameters
from vhdiff.body.rig import RigPose, SkinnedRig, local_rotations
from vhdiff.body.skeleton import LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS, SMPL_NEUTRAL_REST_JOINTS
from vhdiff.extras import require

__all__ = ["MannequinBody", "mannequin_rest_offset"]

_SHAPE_COEFFICIENTS = 10
_FEET = (LEFT_FOOT_JOINTS[1], RIGHT_FOOT_JOINTS[1])  # the foot (toe-base) joints 10, 11
_CHUNK = 32  # frames per evaluation (skinning memory ~ chunk * V * 12 floats)


def _joint_name(name: str) -> str:
    """mannequin's SMPL-X names (L_Hip, Spine1) -> smplx-style (left_hip, spine1)."""
    name = name.replace("L_", "left_").replace("R_", "right_")
    return name.lower()


def mannequin_rest_offset(rest_joints: np.ndarray) -> np.ndarray:
    """[3] translation taking a mannequin's rest joints [J, 3] (betas = 0) to SMPL's
    placement: x, z from the pelvis, y from the mean of the two foot joints."""
    reference = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)
    offset = reference[0] - rest_joints[0]
    offset[1] = reference[list(_FEET), 1].mean() - rest_joints[list(_FEET), 1].mean()
    return offset


class MannequinBody(BodyModel):
    """The mannequin-x figure behind the SMPL call signature (see the module docstring)."""

    kind = "mannequin"
    num_betas = _SHAPE_COEFFICIENTS

    def __init__(
        self,
        *,
        design: Literal["wooden", "convex"] = "wooden",
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        Mannequin = require("mannequin", needed_for="the mannequin body").Mannequin

        self.design = design
        self._figure = Mannequin(design)
        self._shape = np.zeros(_SHAPE_COEFFICIENTS, np.float32)
        self._skin: tuple[Tensor, Tensor, Tensor] | bool | None = None
        rest = self._figure.forward_skeleton(**self._figure.rest_pose(dtype=np.float64))
        self.rest_offset = mannequin_rest_offset(rest[:, :3, 3].astype(np.float64))
        self.joint_names = tuple(_joint_name(n) for n in self._figure.joint_names)
        self.register_buffer(
            "faces", torch.as_tensor(np.asarray(self._figure.faces), dtype=torch.long)
        )
        # Carries dtype and device (the figure itself is numpy).
        self.register_buffer(
            "_anchor", torch.zeros(0, dtype=dtype, device=device), persistent=False
        )
        self.to(device)

    @property
    def num_vertices(self) -> int:
        return int(self._figure.num_vertices)

    def _reference_buffer(self) -> Tensor:
        return self._anchor

    def _reshape(self, betas: np.ndarray) -> None:
        if not np.array_equal(betas, self._shape):
            self._figure.reshape(betas.astype(np.float32))
            self._shape = betas.astype(np.float32)
            self._skin = None

    def _skin_data(self) -> tuple[Tensor, Tensor, Tensor] | None:
        """(weights [V, J], rest vertices [V, 3], bind positions [J, 3]) of the skinned
        figure, read from mannequin-x 0.3's prepared identity, or None (rigid figure or
        another mannequin-x layout: then its own numpy skinning is used)."""
        if self._skin is False:
            return None
        if self._skin is not None:
            return self._skin
        figure = self._figure
        identity = getattr(figure, "_identity", None)
        indices = getattr(figure, "_skin_joint_indices", None)
        weights = getattr(figure, "_skin_weights", None)
        if not isinstance(identity, dict) or "skin_vertices" not in identity or indices is None:
            self._skin = False
            return None
        dense = np.zeros((indices.shape[0], len(self.joint_names)))
        np.add.at(dense, (np.arange(indices.shape[0])[:, None], indices), weights)
        self._skin = tuple(
            torch.as_tensor(np.asarray(array), dtype=torch.float64)
            for array in (dense, identity["skin_vertices"], identity["skin_bind_positions"])
        )
        return self._skin

    def _figure_pose(self, go: np.ndarray, bp: np.ndarray, tr: np.ndarray) -> dict[str, np.ndarray]:
        """mannequin-x's pose parameters for SMPL's (B frames, the current body shape)."""
        pose = self._figure.rest_pose(batch_dims=(go.shape[0],), dtype=np.float64)
        pose["body_pose"] = bp
        pose["pelvis_rotation"] = go
        pose["global_translation"] = tr + self.rest_offset
        return pose

    def _pose_numpy(
        self, go: np.ndarray, bp: np.ndarray, tr: np.ndarray
    ) -> tuple[np.ndarray | Tensor, np.ndarray]:
        """Vertices [B, V, 3] and joint transforms [B, J, 4, 4] for one body shape."""
        pose = self._figure_pose(go, bp, tr)
        transforms = self._figure.joint_transforms(pose)
        skin = self._skin_data()
        if skin is None:
            return self._figure.vertices(pose), transforms
        # Linear blend skinning, v = sum_j w_vj (R_j (v_rest - b_j) + t_j): blend the
        # per-joint affine maps [R_j | t_j - R_j b_j] by the weights, then apply once.
        weights, rest, bind = (t.to(self.dtype) for t in skin)
        transforms_t = torch.from_numpy(transforms).to(self.dtype)
        rotation, translation = transforms_t[..., :3, :3], transforms_t[..., :3, 3]
        offset = translation - (rotation @ bind[..., None])[..., 0]
        affine = torch.cat((rotation, offset[..., None]), dim=-1)  # [B, J, 3, 4]
        blended = (weights @ affine.flatten(-2)).unflatten(-1, (3, 4))  # [B, V, 3, 4]
        vertices = blended[..., 3].addcmul(blended[..., 0], rest[:, 0:1])
        vertices.addcmul_(blended[..., 1], rest[:, 1:2]).addcmul_(blended[..., 2], rest[:, 2:3])
        return vertices, transforms

    def _shape_chunks(
        self, params: BodyParameters
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(frame indices, global_orient, body_pose[:, :21], transl) as float64 numpy, in
        chunks of frames that share one body shape, with the figure reshaped to it."""
        go = params.global_orient.detach().cpu().double().numpy()
        bp = params.body_pose[:, :21].detach().cpu().double().numpy()
        tr = params.transl.detach().cpu().double().numpy()
        betas = params.betas.detach().cpu().float().numpy()
        # mannequin-x holds one shape at a time: group frames by their betas.
        unique, inverse = np.unique(betas, axis=0, return_inverse=True)
        for shape_index, shape in enumerate(unique):
            self._reshape(shape)
            frames = np.flatnonzero(inverse.reshape(-1) == shape_index)
            for start in range(0, len(frames), _CHUNK):
                rows = frames[start : start + _CHUNK]
                yield rows, go[rows], bp[rows], tr[rows]

    @torch.no_grad()
    def _pose(self, params: BodyParameters) -> tuple[Tensor, Tensor]:
        batch = params.global_orient.shape[0]
        vertices = torch.empty(batch, self.num_vertices, 3, dtype=self.dtype, device=self.device)
        joints = torch.empty(batch, len(self.joint_names), 3, dtype=self.dtype, device=self.device)
        for rows, go, bp, tr in self._shape_chunks(params):
            verts, transforms = self._pose_numpy(go, bp, tr)
            rows = torch.from_numpy(rows)
            vertices[rows] = torch.as_tensor(verts).to(self.device, self.dtype)
            joints[rows] = torch.from_numpy(transforms[..., :3, 3]).to(self.device, self.dtype)
        return vertices, joints

    def skinning_rig(self, betas: Any = None) -> SkinnedRig:
        """The wooden figure's skin for one shape (`vhdiff.body.rig`): mannequin-x's bind
        mesh and bind joints (every joint rotation the identity: a T-pose with flat hands),
        moved by ``rest_offset`` like every posed frame, and its 4-influence weights.
        The mannequin has no pose correctives, so the rig reproduces its vertices exactly."""
        shape = self.shape_vector(betas).detach().cpu().float().numpy()
        self._reshape(shape)
        skin = self._skin_data()
        if skin is None:
            raise ValueError(
                f"the {self.design} mannequin is rigid (no skin weights), so it has no skinning "
                "rig; use MannequinBody(design='wooden')"
            )
        weights, rest, bind = (t.numpy().copy() for t in skin)
        return SkinnedRig(
            vertices=rest + self.rest_offset, faces=self.faces.cpu().numpy(),
            joints=bind + self.rest_offset, parents=tuple(int(p) for p in self._figure.parents),
            joint_names=self.joint_names, weights=weights, name=self.kind,
        )  # fmt: skip

    def rig_pose(
        self, global_orient: Any, body_pose: Any, betas: Any = None, transl: Any = None
    ) -> RigPose:
        """Local joint rotations [B, J, 3, 3] (the fingers hold SMPL-X's relaxed hand mean)
        and root positions [B, 3], read from mannequin-x's own joint transforms."""
        params = self.validate(global_orient, body_pose, betas, transl)
        batch, joints = params.global_orient.shape[0], len(self.joint_names)
        rotations, root = np.empty((batch, joints, 3, 3)), np.empty((batch, 3))
        for rows, go, bp, tr in self._shape_chunks(params):
            transforms = self._figure.joint_transforms(self._figure_pose(go, bp, tr))
            rotations[rows] = local_rotations(transforms[..., :3, :3], self._figure.parents)
            root[rows] = transforms[:, 0, :3, 3]
        return RigPose(rotations=rotations, root=root)
