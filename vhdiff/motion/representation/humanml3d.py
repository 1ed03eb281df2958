"""HumanML3D's 263-dim motion vectors: layout, loading, and joint recovery.

HumanML3D (Guo et al., "Generating Diverse and Natural 3D Human Motions from Text",
CVPR 2022) stores each clip as ``new_joint_vecs/ID.npy`` [T, 263] (float32, 20 fps, Y up,
the first frame facing +Z with its root above the origin), where for the 22 SMPL body
joints:

===================  =========  ==========================================================
slice                width      meaning (frame t)
===================  =========  ==========================================================
ROOT_YAW_VELOCITY    1          half the heading change from t to t+1 (rad/frame) with
                                HumanML3D's sign: ``-(psi_{t+1} - psi_t) / 2`` where psi
                                is our heading (positive = left turn)
ROOT_LINEAR_VELOCITY 2          root displacement t -> t+1 in frame t+1's heading frame
                                (x, z), metres/frame
ROOT_HEIGHT          1          root (pelvis) height, metres
RIC                  63         joints 1..21 relative to the root, x/z centred on the root
                                and turned to face +Z ("rotation-invariant coordinates")
ROTATIONS            126        6D joint rotations from HumanML3D's own IK (joints 1..21);
                                not used here (they are not SMPL's rotations)
LOCAL_VELOCITY       66         joint velocities (t -> t+1) in frame t's heading frame
FOOT_CONTACT         4          contact labels: left ankle, left foot, right ankle, right foot
===================  =========  ==========================================================

:func:`recover_from_ric` rebuilds world joint positions [T, 22, 3] the way HumanML3D's
``recover_from_ric`` does (our own code): integrate the yaw, rotate and integrate the
root velocity, then place the rotation-invariant joints around the root. Render the
result with ``vhdiff.viz.render_skeleton``.

Heading quaternion convention (as HumanML3D's): after integrating, the per-frame
quaternion is ``(cos a_t, 0, sin a_t, 0)`` with ``a_t = sum_{k<t} ROOT_YAW_VELOCITY[k]``,
a rotation by ``2 a_t`` about +Y that turns the world into the body's frame; its inverse,
``R_y(-2 a_t)``, turns body-frame vectors into world ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.array_files import load_npy_file
from vhdiff.body import rotations_np as nr
from vhdiff.motion.representation.smpl import as_frame_array
from vhdiff.motion.representation.stats import FeatureStats

__all__ = [
    "FOOT_CONTACT",
    "HUMANML3D_DIM",
    "HUMANML3D_JOINTS",
    "LOCAL_VELOCITY",
    "RIC",
    "ROOT_HEIGHT",
    "ROOT_LINEAR_VELOCITY",
    "ROOT_YAW_VELOCITY",
    "ROTATIONS",
    "load_feature_stats",
    "load_joint_vecs",
    "recover_from_ric",
    "recover_root",
]

HUMANML3D_JOINTS = 22
HUMANML3D_DIM = 263
ROOT_YAW_VELOCITY = slice(0, 1)
ROOT_LINEAR_VELOCITY = slice(1, 3)
ROOT_HEIGHT = slice(3, 4)
RIC = slice(4, 67)
ROTATIONS = slice(67, 193)
LOCAL_VELOCITY = slice(193, 259)
FOOT_CONTACT = slice(259, 263)


def _as_vectors(data: Any) -> np.ndarray:
    return as_frame_array(
        data, (HUMANML3D_DIM,), name="HumanML3D vectors",
        hint="denormalise with Mean.npy / Std.npy first (x * std + mean)",
    )  # fmt: skip


def recover_root(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """Root heading and position from [T, 263] (denormalised) vectors.

    Returns (a [T], root [T, 3]): ``a`` is HumanML3D's integrated half-angle (our heading
    psi_t = psi_0 - 2 a_t), root the world pelvis position (x, z integrated from 0, y the
    stored height). Frame t's stored velocity moves the root from t to t+1.
    """
    x = _as_vectors(data)
    a = np.concatenate(([0.0], np.cumsum(x[:-1, 0])))
    step = np.zeros((x.shape[0], 3))
    step[1:, [0, 2]] = x[:-1, ROOT_LINEAR_VELOCITY]
    step = np.einsum("tij,tj->ti", nr.yaw_matrix(-2.0 * a), step)  # body -> world, R_y(-2a)
    root = np.cumsum(step, axis=0)
    root[:, 1] = x[:, 3]
    return a, root


def recover_from_ric(data: Any, *, joints_num: int = HUMANML3D_JOINTS) -> np.ndarray:
    """World joint positions [T, 22, 3] (float32) from [T, 263] (denormalised) vectors."""
    x = _as_vectors(data)
    if joints_num != HUMANML3D_JOINTS:
        raise ValueError(f"the 263-dim layout holds {HUMANML3D_JOINTS} joints, got {joints_num}")
    a, root = recover_root(x)
    local = x[:, RIC].reshape(-1, joints_num - 1, 3)
    world = np.einsum("tij,tkj->tki", nr.yaw_matrix(-2.0 * a), local)
    world[..., 0] += root[:, None, 0]
    world[..., 2] += root[:, None, 2]
    return np.concatenate((root[:, None], world), axis=1).astype(np.float32)


def load_feature_stats(root: str | os.PathLike) -> FeatureStats:
    """HumanML3D's normalisation, ``ROOT/Mean.npy`` and ``ROOT/Std.npy``, used as they are
    (``min_std`` 1e-8); errors name the missing file and what the folder should hold."""
    arrays = []
    for name in ("Mean.npy", "Std.npy"):
        path = Path(root) / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(path)!r} not found; point at HumanML3D's folder (it ships Mean.npy "
                "and Std.npy beside new_joint_vecs/)"
            )
        arrays.append(load_npy_file(path, kind="HumanML3D statistics file", fmt=".npy array"))
    stats = FeatureStats(mean=arrays[0], std=arrays[1], min_std=1e-8)
    if stats.dim != HUMANML3D_DIM:
        raise ValueError(f"Mean.npy / Std.npy have {stats.dim} dims, expected {HUMANML3D_DIM}")
    return stats


def load_joint_vecs(path: str | os.PathLike) -> np.ndarray:
    """One ``new_joint_vecs/ID.npy`` as float32 [T, 263]; errors name the file."""
    path = Path(path)
    array = load_npy_file(path, kind="HumanML3D vector file", fmt=".npy array")
    try:
        return _as_vectors(array).astype(np.float32)
    except ValueError as exc:
        raise ValueError(f"{str(path)!r}: {exc}") from exc
