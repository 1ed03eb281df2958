"""Retarget a BVH motion of any skeleton onto the SMPL body (22 joints, neutral skeleton).

Steps (:func:`retarget_bvh`):

1. **Joints**: :func:`vhdiff.body.bvh_names.match_joints` maps BVH joints to SMPL joints
   by name (a convention table or a user mapping).
2. **World axes**: the BVH rest pose gives "up" (ankles -> head) and "left" (right hip ->
   left hip); the rotation ``W`` taking them to SMPL's +Y and +X (facing +Z), snapped to
   the nearest signed axis permutation, turns the file's world into SMPL's: offsets
   ``W o``, local rotations ``W R W^T``, root positions ``W p`` (identity for Y-up files).
3. **Rest-pose offsets**: for each mapped SMPL joint s (BVH joint b), the constant
   rotation ``C_s`` takes SMPL's rest bone directions to the BVH's rest bone directions
   (``C_s e = d``), both measured in world coordinates of the respective rest poses from
   s to its nearest mapped descendants (through unmapped or coinciding joints). With two
   or more directions ``C_s`` is their least-squares fit (Kabsch); with one it is the
   shortest arc from the parent's offset (``C_s = arc(C_p e, d) C_p``, so a twist
   reference is carried down each chain); with none (leaves: feet, head, wrists) it is the
   parent's ``C_p``. Then the SMPL global orientation is ``Q_s = G_b C_s`` (``G_b`` the
   BVH joint's world rotation by forward kinematics), so every SMPL bone points where its
   BVH bone points: a T-pose and an A-pose skeleton doing the same motion give the same
   SMPL pose. Unmapped SMPL joints take their parent's orientation (``Q_s = Q_p``).
   Local rotations: ``global_orient = Q_0``, ``body_pose_s = Q_p^T Q_s`` as axis-angle.
4. **Translation**: the mapped pelvis's world position, scaled by ``SMPL leg length /
   BVH leg length`` (hip -> knee -> ankle, both sides averaged; so file units do not
   matter), becomes SMPL's pelvis position: ``transl = s p_pelvis - J0`` (SMPL rotates
   about its rest pelvis J0).

Resampling and putting the feet on the ground are the dataset builder's
(``vhdiff.data_prep.bvh_motion``). Rotation matrices act on column vectors; the BVH
Euler convention is ``vhdiff.body.bvh``'s (channels in file order, intrinsic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from vhdiff.body import rotations_np as nr
from vhdiff.body.bvh import BVHMotion
from vhdiff.body.bvh_names import JointMatch, match_joints
from vhdiff.body.skeleton import BODY_PARENTS, NUM_BODY_JOINTS, SMPL_NEUTRAL_REST_JOINTS
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["RetargetedMotion", "retarget_bvh"]

_SMPL_REST = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)
_CHILDREN: dict[int, list[int]] = {j: [] for j in range(NUM_BODY_JOINTS)}
for _joint, _parent in enumerate(BODY_PARENTS[1:], start=1):
    _CHILDREN[_parent].append(_joint)
_LEGS = ((1, 4, 7), (2, 5, 8))  # hip, knee, ankle (left, right)
_COINCIDE = 1e-3  # bones shorter than this fraction of the leg length have no direction


@dataclass(frozen=True)
class RetargetedMotion:
    """An SMPL motion made from a BVH file.

    motion: SMPLMotion at the file's frame rate (T frames), neutral betas, Y up, metres.
    match: the joint correspondence used.
    scale: metres per file unit (SMPL leg length / the BVH's).
    world: [3, 3] rotation taking the file's world axes to SMPL's.
    """

    motion: SMPLMotion
    match: JointMatch
    scale: float
    world: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[3, 3] shortest rotation taking direction a to direction b (Rodrigues)."""
    a, b = _unit(a), _unit(b)
    axis, cos = np.cross(a, b), float(a @ b)
    if np.linalg.norm(axis) < 1e-9:
        if cos > 0:
            return np.eye(3)
        other = np.eye(3)[int(np.argmin(np.abs(a)))]  # 180 degrees about any normal of a
        return nr.axis_angle_to_matrix(np.pi * _unit(np.cross(a, other)))
    return nr.axis_angle_to_matrix(_unit(axis) * np.arctan2(np.linalg.norm(axis), cos))


def _kabsch(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """[3, 3] rotation R minimising sum |R source_i - target_i|^2 (unit rows [N, 3])."""
    u, _, vt = np.linalg.svd(source.T @ target)
    flip = np.diag([1.0, 1.0, np.sign(np.linalg.det(vt.T @ u.T))])
    return vt.T @ flip @ u.T


def _world_axes(rest: np.ndarray, bvh_of: dict[int, int], leg: float) -> np.ndarray:
    """[3, 3] W: the BVH rest pose's left -> +X, up -> +Y (module docstring, step 2)."""
    top = next(bvh_of[j] for j in (15, 12, 9, 6, 3, 16) if j in bvh_of)  # head, neck, ...
    up = rest[top] - 0.5 * (rest[bvh_of[7]] + rest[bvh_of[8]])
    left = rest[bvh_of[1]] - rest[bvh_of[2]]
    left = left - (left @ _unit(up)) * _unit(up) if np.linalg.norm(up) > 0 else left
    if min(np.linalg.norm(up), np.linalg.norm(left)) < _COINCIDE * leg:
        raise ValueError(
            "the rest pose (OFFSETs) shows no up (ankles to head) or no left (hip to hip) "
            "direction; is it a standing human skeleton?"
        )
    rows = np.stack([_unit(left), _unit(up), np.cross(_unit(left), _unit(up))])
    snapped = np.zeros((3, 3))
    for row, vector in enumerate(rows):
        axis = int(np.argmax(np.abs(vector)))
        snapped[row, axis] = np.sign(vector[axis])
    if abs(np.linalg.det(snapped) - 1.0) < 1e-6:
        return snapped
    return rows  # a skeleton standing askew: its own (orthonormal) axes


def _leg_length(points: np.ndarray, index: dict[int, int] | None = None) -> float:
    def at(j: int) -> np.ndarray:
        return points[j if index is None else index[j]]

    return float(
        np.mean([sum(np.linalg.norm(at(b) - at(a)) for a, b in pairwise(leg)) for leg in _LEGS])
    )


def _rest_offsets(rest: np.ndarray, bvh_of: dict[int, int], leg: float) -> dict[int, np.ndarray]:
    """{SMPL joint: C_s [3, 3]} for the mapped joints (module docstring, step 3)."""

    def targets(s: int, below: int) -> list[int]:
        out = []
        for child in _CHILDREN[below]:
            far = child in bvh_of and np.linalg.norm(rest[bvh_of[child]] - rest[bvh_of[s]])
            out += [child] if far and far > _COINCIDE * leg else targets(s, child)
        return out

    offsets: dict[int, np.ndarray] = {}
    for s in range(NUM_BODY_JOINTS):  # parents first
        parent = BODY_PARENTS[s]
        inherited = np.eye(3) if parent < 0 else offsets.get(parent, np.eye(3))
        if s not in bvh_of:
            offsets[s] = inherited
            continue
        found = targets(s, s)
        smpl = np.stack([_unit(_SMPL_REST[c] - _SMPL_REST[s]) for c in found]) if found else None
        bvh = np.stack([_unit(rest[bvh_of[c]] - rest[bvh_of[s]]) for c in found]) if found else None
        if smpl is None:
            offsets[s] = inherited
        elif len(found) == 1:
            offsets[s] = _arc(inherited @ smpl[0], bvh[0]) @ inherited
        else:
            offsets[s] = _kabsch(smpl, bvh)
    return offsets


def retarget_bvh(
    bvh: BVHMotion, *, mapping: Mapping[str, str] | None = None, where: str = "BVH file"
) -> RetargetedMotion:
    """A parsed BVH file -> SMPL parameters at the file's frame rate (module docstring).

    Raises ValueError (naming `where`) for a file without frames, non-finite values,
    an unsupported rotation channel order or joints that match no SMPL joint.
    """
    if bvh.num_frames == 0:
        raise ValueError(
            f"{where}: the file has no frames (Frames: 0); export the motion with its frames"
        )
    if not (np.isfinite(bvh.frames).all() and np.isfinite(bvh.offsets).all()):
        raise ValueError(
            f"{where}: channel values or offsets are NaN or infinite; re-export the file"
        )
    try:
        local = bvh.local_rotations()  # [T, J, 3, 3]; checks the rotation channel orders
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    match = match_joints(bvh.joint_names, mapping=mapping, where=where)
    leg = _leg_length(bvh.rest_joints(), match.bvh_of)
    if not leg > 0:
        raise ValueError(f"{where}: the legs have zero length in the rest pose (OFFSETs)")
    try:
        world = _world_axes(bvh.rest_joints(), match.bvh_of, leg)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    rest = bvh.rest_joints() @ world.T  # [J, 3], SMPL's axes (lengths, so `leg`, unchanged)
    local = world @ local @ world.T  # W R W^T
    positions, globals_ = nr.forward_kinematics(
        local, rest, bvh.parents, transl=bvh.root_positions() @ world.T
    )
    offsets = _rest_offsets(rest, match.bvh_of, leg)

    frames = bvh.num_frames
    orient = np.empty((frames, NUM_BODY_JOINTS, 3, 3))
    for s in range(NUM_BODY_JOINTS):
        if s in match.bvh_of:
            orient[:, s] = globals_[:, match.bvh_of[s]] @ offsets[s]  # Q_s = G_b C_s
        else:
            orient[:, s] = orient[:, BODY_PARENTS[s]]
    local_smpl = orient.copy()
    parents = list(BODY_PARENTS[1:])
    local_smpl[:, 1:] = np.swapaxes(orient[:, parents], -1, -2) @ orient[:, 1:]
    pose = nr.matrix_to_axis_angle(local_smpl)  # [T, 22, 3]

    scale = _leg_length(_SMPL_REST) / leg
    transl = scale * positions[:, match.bvh_of[0]] - _SMPL_REST[0]
    motion = SMPLMotion(
        global_orient=pose[:, 0].astype(np.float32),
        body_pose=pose[:, 1:].astype(np.float32),
        transl=transl.astype(np.float32),
        betas=np.zeros(10, np.float32),
        fps=bvh.fps,
    )
    return RetargetedMotion(motion=motion, match=match, scale=scale, world=world)
