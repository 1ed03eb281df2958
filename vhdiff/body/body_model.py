"""The body-model interface shared by the SMPL family (through smplx) and the mannequin.

Every body model is called the same way::

    out = model(global_orient, body_pose, betas=None, transl=None)

global_orient [B, 3], body_pose [B, 21, 3] or [B, 23, 3] (also flat [B, 63] / [B, 69]),
betas [B, <= 10] or [<= 10] (zero-padded; None = mean shape), transl [B, 3] (None = 0);
all axis-angle, any batch size B >= 1, numpy arrays or tensors. Inputs are cast to the
model's dtype (float32 or float64, see :meth:`torch.nn.Module.to`) and device.

Convention: SMPL's canonical frame, Y up, metres, the rest body faces +Z with its left
side at +X; ``global_orient`` rotates the body about the pelvis joint and ``transl`` is
added to every vertex and joint, exactly as in SMPL. With ``transl = 0`` the pelvis sits
at the body's rest pelvis (about (0, -0.22, 0.03) for SMPL), not at the origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from vhdiff.body.rig import RigPose, SkinnedRig
from vhdiff.body.skeleton import BODY_JOINT_NAMES

__all__ = ["BodyModel", "BodyOutput", "BodyParameters"]

NUM_POSE_JOINTS = 21  # SMPL joints 1..21 (body_pose without SMPL's hands)


@dataclass
class BodyOutput:
    """A posed body.

    vertices: [B, V, 3] metres.
    joints: [B, J, 3]; joints[:, :22] are the 22 SMPL body joints in SMPL order
        (see vhdiff.body.skeleton), whatever the body; the rest depend on the model
        (model.joint_names lists them all).
    faces: [F, 3] LongTensor of vertex indices (the same for every batch element).
    """

    vertices: Tensor
    joints: Tensor
    faces: Tensor


@dataclass
class BodyParameters:
    """Validated inputs: global_orient [B, 3], body_pose [B, P, 3] (P = 21 or 23),
    betas [B, num_betas], transl [B, 3]; all in the model's dtype and device."""

    global_orient: Tensor
    body_pose: Tensor
    betas: Tensor
    transl: Tensor


def _as_tensor(value: Any, name: str, dtype: torch.dtype, device: torch.device) -> Tensor:
    if not isinstance(value, Tensor):
        try:
            import numpy as np

            array = np.asarray(value)
        except Exception as exc:  # pragma: no cover - exotic input
            raise ValueError(
                f"{name} must be a tensor or array, got {type(value).__name__}"
            ) from exc
        if array.dtype.kind != "f":
            raise ValueError(
                f"{name} must be float32 or float64, got numpy dtype {array.dtype}; "
                "convert it with .astype(np.float32)"
            )
        value = torch.from_numpy(np.ascontiguousarray(array))
    if value.dtype not in (torch.float32, torch.float64):
        raise ValueError(
            f"{name} must be float32 or float64, got {value.dtype}; convert it with .float()"
        )
    return value.to(device=device, dtype=dtype)


class BodyModel(nn.Module):
    """Base class: validates the SMPL parameters, then calls :meth:`_pose`.

    Subclasses set ``kind`` (e.g. "smpl", "mannequin"), ``num_betas`` (the most shape
    coefficients they use), ``joint_names`` (all J output joints, the 22 SMPL body joints
    first) and register a ``faces`` LongTensor buffer [F, 3].
    """

    kind: str = "body"
    num_betas: int = 10
    joint_names: tuple[str, ...] = BODY_JOINT_NAMES
    faces: Tensor

    @property
    def dtype(self) -> torch.dtype:
        return self._reference_buffer().dtype

    @property
    def device(self) -> torch.device:
        return self._reference_buffer().device

    @property
    def num_vertices(self) -> int:
        raise NotImplementedError

    def _reference_buffer(self) -> Tensor:
        """A floating-point buffer whose dtype/device define the model's."""
        raise NotImplementedError

    def _pose(self, params: BodyParameters) -> tuple[Tensor, Tensor]:
        """Return vertices [B, V, 3] and joints [B, J, 3] for validated parameters."""
        raise NotImplementedError

    def skinning_rig(self, betas: Any = None) -> SkinnedRig:
        """The body's skinning rig for one shape, in its bind pose (`vhdiff.body.rig`).

        betas: [<= num_betas] (or [1, <= num_betas]); None = the mean shape.
        """
        raise NotImplementedError(
            f"the {self.kind} body has no skinning rig; use the mannequin or an SMPL-family body"
        )

    def rig_pose(
        self,
        global_orient: Any,
        body_pose: Any,
        betas: Any = None,
        transl: Any = None,
    ) -> RigPose:
        """What poses :meth:`skinning_rig` as :meth:`forward` poses the body (same inputs,
        B frames): local joint rotations [B, J, 3, 3] and root positions [B, 3]."""
        raise NotImplementedError(
            f"the {self.kind} body has no skinning rig; use the mannequin or an SMPL-family body"
        )

    def shape_vector(self, betas: Any = None) -> Tensor:
        """One validated shape: betas [<= num_betas] or [1, <= num_betas] -> [num_betas]."""
        if betas is not None and getattr(betas, "ndim", 1) == 2:
            if betas.shape[0] != 1:
                raise ValueError(
                    f"a rig has one body shape: betas must have shape [N] or [1, N], got "
                    f"{list(betas.shape)}; pass the motion's betas"
                )
            betas = betas[0]
        zeros = torch.zeros(1, 3, dtype=self.dtype, device=self.device)
        return self.validate(zeros, zeros.new_zeros(1, 21, 3), betas=betas).betas[0]

    def validate(
        self,
        global_orient: Any,
        body_pose: Any,
        betas: Any = None,
        transl: Any = None,
    ) -> BodyParameters:
        """Check shapes and dtypes; see the module docstring for what is accepted."""
        dtype, device = self.dtype, self.device
        global_orient = _as_tensor(global_orient, "global_orient", dtype, device)
        body_pose = _as_tensor(body_pose, "body_pose", dtype, device)
        if global_orient.dim() != 2 or global_orient.shape[1] != 3:
            raise ValueError(
                f"global_orient must have shape [B, 3], got {list(global_orient.shape)}; "
                "for one frame use global_orient[None]"
            )
        batch = global_orient.shape[0]
        if batch == 0:
            raise ValueError("batch size must be at least 1, got global_orient of shape [0, 3]")
        if body_pose.dim() == 2 and body_pose.shape[1] in (63, 69):
            body_pose = body_pose.reshape(body_pose.shape[0], -1, 3)
        if (
            body_pose.dim() != 3
            or body_pose.shape[0] != batch
            or body_pose.shape[1:]
            not in (
                (21, 3),
                (23, 3),
            )
        ):
            raise ValueError(
                f"body_pose must have shape [B, 21, 3] or [B, 23, 3] with B = {batch} "
                f"(flat [B, 63] / [B, 69] also accepted), got {list(body_pose.shape)}"
            )
        if betas is None:
            betas = torch.zeros(batch, self.num_betas, dtype=dtype, device=device)
        else:
            betas = _as_tensor(betas, "betas", dtype, device)
            if betas.dim() == 1:
                betas = betas.expand(batch, -1)
            if betas.dim() != 2 or betas.shape[0] != batch:
                raise ValueError(
                    f"betas must have shape [B, N] with B = {batch} (or [N]), got {list(betas.shape)}"
                )
            if betas.shape[1] > self.num_betas:
                raise ValueError(
                    f"betas has {betas.shape[1]} coefficients but the {self.kind} body supports at "
                    f"most {self.num_betas}; pass betas[:, :{self.num_betas}]"
                )
            if betas.shape[1] < self.num_betas:
                pad = betas.new_zeros(batch, self.num_betas - betas.shape[1])
                betas = torch.cat((betas, pad), dim=1)
        if transl is None:
            transl = torch.zeros(batch, 3, dtype=dtype, device=device)
        else:
            transl = _as_tensor(transl, "transl", dtype, device)
            if transl.shape != (batch, 3):
                raise ValueError(
                    f"transl must have shape [B, 3] = [{batch}, 3], got {list(transl.shape)}"
                )
        return BodyParameters(global_orient, body_pose, betas, transl)

    def forward(
        self,
        global_orient: Any,
        body_pose: Any,
        betas: Any = None,
        transl: Any = None,
    ) -> BodyOutput:
        """Pose the body; see the module docstring for shapes. Returns :class:`BodyOutput`."""
        params = self.validate(global_orient, body_pose, betas, transl)
        vertices, joints = self._pose(params)
        return BodyOutput(vertices=vertices, joints=joints, faces=self.faces)
