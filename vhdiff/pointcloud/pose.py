"""The pose condition of pose-conditional point-cloud models: "bodies of varied shape in this pose".

A pose is the SMPL body pose of one frame: the pelvis orientation with its heading (yaw about
+Y) removed, so every body faces +Z as in the data, and the 21 body joints' rotations; the
model sees it as the 22 rotations in the continuous 6D form (Zhou et al. 2019), 132 numbers.

    pose = canonical_pose(global_orient, body_pose)     # [22, 3] axis-angle, heading removed
    vector = pose_vector(pose)                          # [132] float32
    pose = load_pose("walk.npz:40")                     # a frame of an SMPL motion file
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vhdiff.body.rotations_np import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_rotation_6d,
    yaw_matrix,
)

__all__ = ["POSE_DIM", "POSE_JOINTS", "canonical_pose", "heading", "load_pose", "pose_vector"]

POSE_JOINTS = 22  # the pelvis + SMPL's 21 body joints
POSE_DIM = POSE_JOINTS * 6


def heading(orient_matrix: np.ndarray) -> np.ndarray:
    """Yaw [...] (radians about +Y, 0 = facing +Z) of pelvis rotations [..., 3, 3]."""
    forward = orient_matrix[..., :, 2]  # the body's +Z axis in the world
    return np.arctan2(forward[..., 0], forward[..., 2])


def canonical_pose(global_orient: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
    """[22, 3] axis-angle: the pelvis orientation [3] with its heading removed, then the
    body pose [21, 3] (or [63])."""
    orient = axis_angle_to_matrix(np.asarray(global_orient, dtype=np.float64).reshape(3))
    upright = yaw_matrix(-heading(orient)) @ orient
    body = np.asarray(body_pose, dtype=np.float64).reshape(POSE_JOINTS - 1, 3)
    return np.concatenate([matrix_to_axis_angle(upright)[None], body]).astype(np.float32)


def pose_vector(pose: np.ndarray) -> np.ndarray:
    """[..., 22, 3] axis-angle -> [..., 132] the model's condition (6D rotations)."""
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape[-2:] != (POSE_JOINTS, 3):
        raise ValueError(
            f"a pose must be [{POSE_JOINTS}, 3] axis-angle (pelvis + 21 body joints), got {list(pose.shape)}"
        )
    six = matrix_to_rotation_6d(axis_angle_to_matrix(pose))
    return six.reshape(*pose.shape[:-2], POSE_DIM).astype(np.float32)


def load_pose(spec: str | os.PathLike) -> np.ndarray:
    """The canonical pose [22, 3] of "MOTION.npz[:FRAME]" (an SMPL motion file, vhdiff.body.
    SMPLMotion; frame 0 when not given), or of a .npy holding [22, 3] / [132]-free axis-angle.

    One-line ValueError / FileNotFoundError for a missing file, a frame out of range or an
    array of the wrong shape.
    """
    from vhdiff.body.smpl_motion import SMPLMotion

    text = str(spec)
    path_text, frame = text, 0
    head, sep, tail = text.rpartition(":")
    if sep and tail.strip().lstrip("-").isdigit():
        path_text, frame = head, int(tail)
    path = Path(path_text)
    if not path.is_file():
        raise FileNotFoundError(f"no pose file at {path_text!r}; pass MOTION.npz[:FRAME] (an SMPL motion)")
    if path.suffix.lower() == ".npy":
        array = np.load(path, allow_pickle=False)
        if array.shape == (POSE_JOINTS, 3):
            return canonical_pose(array[0], array[1:])
        raise ValueError(
            f"{path_text!r} holds an array of shape {list(array.shape)}; a pose file holds "
            f"[{POSE_JOINTS}, 3] axis-angle (pelvis + 21 body joints) or is an SMPL motion .npz"
        )
    try:
        motion = SMPLMotion.load(path)
    except (ValueError, KeyError, OSError) as exc:
        raise ValueError(f"{path_text!r} is not an SMPL motion file ({exc}); pass MOTION.npz[:FRAME]") from None
    if not -motion.num_frames <= frame < motion.num_frames:
        raise ValueError(
            f"frame {frame} is outside {path_text!r}'s {motion.num_frames} frames; give 0-{motion.num_frames - 1}"
        )
    return canonical_pose(motion.global_orient[frame], motion.body_pose[frame])
