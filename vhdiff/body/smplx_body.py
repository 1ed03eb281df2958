"""SMPL, SMPL-H and SMPL-X bodies through the `smplx` package, from plain `.npz` files.

smplx's SMPL loader reads pickles only, so the arrays are read here without pickle
(:func:`vhdiff.body.model_files.read_model_arrays`) and handed to smplx's layer classes
as a data struct. SMPL-X's loader reads a path itself; it is given the file when every
array is numeric, or a temporary copy without the object entries otherwise, so smplx
never unpickles anything either. Hands, jaw and eyes stay at their flat rest pose.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vhdiff.body.body_model import BodyModel, BodyParameters
from vhdiff.body.model_files import model_kind, read_model_arrays
from vhdiff.body.rig import RigPose, SkinnedRig
from vhdiff.body.rotations import axis_angle_to_matrix
from vhdiff.body.skeleton import SMPL_JOINT_NAMES
from vhdiff.extras import require

__all__ = ["SMPLFamilyBody"]

_HAND_NAMES = tuple(
    f"{finger}{segment}"
    for finger in ("index", "middle", "pinky", "ring", "thumb")
    for segment in (1, 2, 3)
)
JOINT_NAMES = {
    "smpl": SMPL_JOINT_NAMES,
    "smplh": SMPL_JOINT_NAMES[:22]
    + tuple(f"left_{n}" for n in _HAND_NAMES)
    + tuple(f"right_{n}" for n in _HAND_NAMES),
    "smplx": SMPL_JOINT_NAMES[:22]
    + ("jaw", "left_eye_smplhf", "right_eye_smplhf")
    + tuple(f"left_{n}" for n in _HAND_NAMES)
    + tuple(f"right_{n}" for n in _HAND_NAMES),
}
# smplx adds landmark joints picked from vertices; we return only the kinematic tree, so
# any vertex will do for them (this also lets smaller synthetic meshes load).
_DUMMY_VERTEX_IDS = {name: 0 for name in ("nose", "reye", "leye", "rear", "lear")}


class _Struct:
    def __init__(self, **arrays: np.ndarray) -> None:
        self.__dict__.update(arrays)


def _smplh_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """SMPL-H files from AMASS lack the hand PCA; smplx needs it even for rotation input."""
    arrays = dict(arrays)
    for side in ("l", "r"):
        arrays.setdefault(f"hands_components{side}", np.eye(45))
        arrays.setdefault(f"hands_mean{side}", np.zeros(45))
    return arrays


class SMPLFamilyBody(BodyModel):
    """A real SMPL / SMPL-H / SMPL-X body (or a synthetic file in the same layout).

    Construct with :meth:`from_file`. Joints: the model's kinematic tree (24, 52 or 55),
    SMPL body joints first; vertices: the model's mesh (6890 or 10475 for real files).
    """

    def __init__(self, *, layer: torch.nn.Module, kind: str, source: str) -> None:
        super().__init__()
        self.layer = layer
        self.kind = kind
        self.source = source
        self.num_betas = int(layer.num_betas)
        self.num_joints = int(layer.J_regressor.shape[0])
        self.joint_names = JOINT_NAMES[kind][: self.num_joints]
        self.register_buffer("faces", layer.faces_tensor.clone(), persistent=False)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike,
        *,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
        num_betas: int = 10,
    ) -> SMPLFamilyBody:
        """Load an `.npz` model file; the kind (SMPL / SMPL-H / SMPL-X) is read from it."""
        smplx = require("smplx", needed_for="SMPL model files")

        path = Path(path)
        arrays, skipped = read_model_arrays(path)
        kind = model_kind(arrays, path)
        quiet = contextlib.redirect_stdout(io.StringIO())  # smplx prints beta-count notes
        with quiet:
            if kind == "smpl":
                layer = smplx.SMPLLayer(
                    model_path=str(path), data_struct=_Struct(**arrays), num_betas=num_betas,
                    dtype=dtype, vertex_ids=_DUMMY_VERTEX_IDS, use_hands=False,
                    use_feet_keypoints=False,
                )  # fmt: skip
            elif kind == "smplh":
                layer = smplx.SMPLHLayer(
                    model_path=str(path), data_struct=_Struct(**_smplh_arrays(arrays)),
                    num_betas=num_betas, dtype=dtype, vertex_ids=_DUMMY_VERTEX_IDS,
                    use_hands=False, use_feet_keypoints=False, use_pca=False,
                )  # fmt: skip
            else:
                layer = cls._smplx_layer(path, arrays, skipped, dtype=dtype, num_betas=num_betas)
        return cls(layer=layer, kind=kind, source=str(path)).to(device)

    @staticmethod
    def _smplx_layer(
        path: Path,
        arrays: dict[str, np.ndarray],
        skipped: list[str],
        *,
        dtype: torch.dtype,
        num_betas: int,
    ) -> torch.nn.Module:
        smplx = require("smplx", needed_for="SMPL model files")

        kwargs = {"num_betas": num_betas, "dtype": dtype, "use_pca": False, "ext": "npz"}
        if not skipped:
            return smplx.SMPLXLayer(model_path=str(path), **kwargs)
        with tempfile.TemporaryDirectory() as folder:
            clean = Path(folder) / "SMPLX_CLEAN.npz"
            np.savez(clean, **arrays)  # numeric arrays only: nothing for smplx to unpickle
            return smplx.SMPLXLayer(model_path=str(clean), **kwargs)

    @property
    def num_vertices(self) -> int:
        return int(self.layer.v_template.shape[0])

    def _reference_buffer(self) -> Tensor:
        return self.layer.v_template

    def _pose(self, params: BodyParameters) -> tuple[Tensor, Tensor]:
        body_pose = params.body_pose
        batch = body_pose.shape[0]
        if self.kind == "smpl" and body_pose.shape[1] == 21:
            body_pose = torch.cat((body_pose, body_pose.new_zeros(batch, 2, 3)), dim=1)
        elif self.kind != "smpl":
            body_pose = body_pose[:, :21]  # SMPL's two hand joints have no counterpart
        output = self.layer(
            global_orient=axis_angle_to_matrix(params.global_orient)[:, None],
            body_pose=axis_angle_to_matrix(body_pose),
            betas=params.betas,
            transl=params.transl,
        )
        return output.vertices, output.joints[:, : self.num_joints]

    def _shaped_joints(self, betas: Tensor) -> Tensor:
        """Rest joints [B, J, 3] of shapes betas [B, num_betas] (J_regressor of the shaped
        template; SMPL-X's expression stays zero)."""
        layer = self.layer
        template = layer.J_regressor @ layer.v_template  # [J, 3]
        shapedirs = layer.shapedirs[..., : betas.shape[1]]
        directions = torch.einsum("jv,vck->jck", layer.J_regressor, shapedirs)
        return template + torch.einsum("jck,bk->bjc", directions, betas)

    @torch.no_grad()
    def skinning_rig(self, betas: Any = None) -> SkinnedRig:
        """The shaped template in the rest pose (`vhdiff.body.rig`): v_template plus the
        shape blend shapes for `betas`, its regressed joints and the model's LBS weights.
        Pose correctives (posedirs) are left out: linear blend skinning cannot express them."""
        shape = self.shape_vector(betas)
        layer = self.layer
        vertices = layer.v_template + layer.shapedirs[..., : shape.shape[0]] @ shape
        return SkinnedRig(
            vertices=vertices.double().cpu().numpy(), faces=self.faces.cpu().numpy(),
            joints=self._shaped_joints(shape[None])[0].double().cpu().numpy(),
            parents=tuple(int(p) for p in layer.parents[: self.num_joints].tolist()),
            joint_names=tuple(self.joint_names), weights=layer.lbs_weights.double().cpu().numpy(),
            name=self.kind,
        )  # fmt: skip

    @torch.no_grad()
    def rig_pose(
        self, global_orient: Any, body_pose: Any, betas: Any = None, transl: Any = None
    ) -> RigPose:
        """Local rotations [B, J, 3, 3]: global_orient, then body_pose (SMPL: 23 joints, the
        hands zero when 21 are given), every other joint (hands, jaw, eyes) at rest as in
        :meth:`forward`; root [B, 3] = the shaped rest pelvis + transl."""
        params = self.validate(global_orient, body_pose, betas, transl)
        body = params.body_pose if self.kind == "smpl" else params.body_pose[:, :21]
        pose = torch.cat((params.global_orient[:, None], body), dim=1).double()
        rotations = torch.eye(3, dtype=torch.float64).repeat(pose.shape[0], self.num_joints, 1, 1)
        rotations[:, : pose.shape[1]] = axis_angle_to_matrix(pose).cpu()
        root = self._shaped_joints(params.betas)[:, 0] + params.transl
        return RigPose(rotations=rotations.numpy(), root=root.double().cpu().numpy())
