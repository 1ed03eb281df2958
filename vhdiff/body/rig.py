"""A body's linear-blend-skinning rig, and a motion expressed on it (for glTF export).

A :class:`SkinnedRig` is one body shape in its bind pose: every joint rotation is the
identity, the joints sit at ``joints`` and the mesh at ``vertices``. Posing it with a
:class:`RigPose` (local rotations R_j and the root joint's world position) is plain linear
blend skinning::

    G_j = G_parent(j) R_j,   p_j = p_parent(j) + G_parent(j) (joints_j - joints_parent(j))
    v   = sum_j weights_vj (G_j (vertices_v - joints_j) + p_j)

with G_root = R_root and p_root = ``RigPose.root``. That is what glTF skinning computes
(jointWorld_j * inverseBind_j with inverseBind_j = translate(-joints_j)). Body models build
both with :meth:`vhdiff.body.BodyModel.skinning_rig` and :meth:`~vhdiff.body.BodyModel.rig_pose`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["RigPose", "SkinnedRig", "local_rotations"]


@dataclass
class SkinnedRig:
    """One body shape in its bind pose (all joint rotations the identity); metres, Y up.

    vertices: [V, 3] float64 bind-pose mesh (for SMPL: the shaped template, without pose
        correctives).
    faces: [F, 3] int64 vertex indices.
    joints: [J, 3] float64 bind-pose joint positions.
    parents: J parent indices, parents[0] = -1 and parents[j] < j.
    joint_names: J names (the 22 SMPL body joints first, in SMPL order).
    weights: [V, J] float64 skinning weights, rows summing to 1.
    name: what the body is ("mannequin", "smpl", ...).
    """

    vertices: np.ndarray
    faces: np.ndarray
    joints: np.ndarray
    parents: tuple[int, ...]
    joint_names: tuple[str, ...]
    weights: np.ndarray
    name: str

    @property
    def offsets(self) -> np.ndarray:
        """[J, 3] each joint's bind position relative to its parent's (the root's: its own)."""
        parents = np.asarray(self.parents)
        offsets = self.joints.copy()
        offsets[1:] -= self.joints[parents[1:]]
        return offsets


@dataclass
class RigPose:
    """T frames of a rig's pose.

    rotations: [T, J, 3, 3] float64 rotation of each joint relative to its parent (the
        root's: its world rotation).
    root: [T, 3] float64 world position of the root joint (metres).
    """

    rotations: np.ndarray
    root: np.ndarray


def local_rotations(world: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """World joint rotations [..., J, 3, 3] -> rotations relative to the parent joint's."""
    parents = np.asarray(parents)
    local = world.copy()
    local[..., 1:, :, :] = np.swapaxes(world[..., parents[1:], :, :], -1, -2) @ world[..., 1:, :, :]
    return local
