"""Numpy (float64) twins of the rotation helpers the motion data path needs, and SMPL FK.

Same conventions as :mod:`vhdiff.body.rotations` (matrices act on column vectors; 6D =
first two columns; quaternions (w, x, y, z), w >= 0). They exist because the data path
works on whole clips of small 3x3 matrices, where numpy is several times faster than
torch's batched small-matrix kernels (a 22-joint FK of a 200-frame clip: ~1 ms vs ~20 ms
here). The tests check them against the torch versions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "axis_angle_to_matrix",
    "forward_kinematics",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rotation_6d",
    "quaternion_to_matrix",
    "rotation_6d_to_matrix",
    "slerp",
    "yaw_matrix",
]


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues: [..., 3] -> [..., 3, 3] (Taylor series near the identity)."""
    r = np.asarray(axis_angle, dtype=np.float64)
    theta2 = (r * r).sum(-1)[..., None, None]
    small = theta2 < 1e-8
    safe = np.where(small, 1.0, theta2)
    theta = np.sqrt(safe)
    a = np.where(small, 1.0 - theta2 / 6.0, np.sin(theta) / theta)
    b = np.where(small, 0.5 - theta2 / 24.0, (1.0 - np.cos(theta)) / safe)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    zero = np.zeros_like(x)
    k = np.stack((zero, -z, y, z, zero, -x, -y, x, zero), -1).reshape(*r.shape[:-1], 3, 3)
    return np.eye(3) + a * k + b * (k @ k)


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """[..., 3, 3] -> (w, x, y, z) [..., 4], w >= 0 (Shepperd: largest of 4w^2, 4x^2, ...)."""
    m = np.asarray(matrix, dtype=np.float64)
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    four_sq = np.stack(
        (1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22), -1
    )
    candidates = np.stack(
        (
            np.stack((four_sq[..., 0], m21 - m12, m02 - m20, m10 - m01), -1),
            np.stack((m21 - m12, four_sq[..., 1], m10 + m01, m02 + m20), -1),
            np.stack((m02 - m20, m10 + m01, four_sq[..., 2], m12 + m21), -1),
            np.stack((m10 - m01, m20 + m02, m21 + m12, four_sq[..., 3]), -1),
        ),
        -2,
    )
    best = four_sq.argmax(-1)
    q = np.take_along_axis(candidates, best[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def quaternion_to_matrix(quaternion: np.ndarray) -> np.ndarray:
    """(w, x, y, z) [..., 4] (normalised first) -> [..., 3, 3]."""
    q = np.asarray(quaternion, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.stack(
        (
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ),
        -1,
    )  # fmt: skip
    return m.reshape(*q.shape[:-1], 3, 3)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """[..., 3, 3] -> axis-angle [..., 3], angle in [0, pi] (theta = 2 atan2(|v|, w))."""
    q = matrix_to_quaternion(matrix)
    w, v = q[..., :1], q[..., 1:]
    norm_v = np.linalg.norm(v, axis=-1, keepdims=True)
    small = norm_v < 1e-6
    scale = np.where(
        small,
        2.0 / np.maximum(w, 1e-12),
        2.0 * np.arctan2(norm_v, w) / np.where(small, 1.0, norm_v),
    )
    return v * scale


def matrix_to_rotation_6d(matrix: np.ndarray) -> np.ndarray:
    """[..., 3, 3] -> [..., 6]: first column, then second column."""
    m = np.asarray(matrix)
    return np.concatenate((m[..., :, 0], m[..., :, 1]), -1)


def rotation_6d_to_matrix(rotation_6d: np.ndarray) -> np.ndarray:
    """[..., 6] -> [..., 3, 3] by Gram-Schmidt (Zhou et al. 2019, Eq. 15-16)."""
    d = np.asarray(rotation_6d, dtype=np.float64)
    a1, a2 = d[..., :3], d[..., 3:]
    b1 = a1 / np.maximum(np.linalg.norm(a1, axis=-1, keepdims=True), 1e-12)
    b2 = a2 - (b1 * a2).sum(-1, keepdims=True) * b1
    b2 = b2 / np.maximum(np.linalg.norm(b2, axis=-1, keepdims=True), 1e-12)
    return np.stack((b1, b2, np.cross(b1, b2)), -1)


def yaw_matrix(psi: np.ndarray) -> np.ndarray:
    """R_y(psi) [..., 3, 3] for angles [...]: rotation about +Y, +Z turns towards +X."""
    psi = np.asarray(psi, dtype=np.float64)
    c, s = np.cos(psi), np.sin(psi)
    zero, one = np.zeros_like(psi), np.ones_like(psi)
    return np.stack((c, zero, s, zero, one, zero, -s, zero, c), -1).reshape(*psi.shape, 3, 3)


def slerp(q0: np.ndarray, q1: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Spherical interpolation of quaternions [..., 4] with weights [...] in [0, 1]
    (along the shorter arc; falls back to normalised lerp for nearly equal inputs)."""
    q0 = np.asarray(q0, dtype=np.float64)
    q1 = np.asarray(q1, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)[..., None]
    dot = (q0 * q1).sum(-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot).clip(max=1.0)
    omega = np.arccos(dot)
    sin_omega = np.sin(omega)
    near = sin_omega < 1e-6
    safe = np.where(near, 1.0, sin_omega)
    a = np.where(near, 1.0 - w, np.sin((1.0 - w) * omega) / safe)
    b = np.where(near, w, np.sin(w * omega) / safe)
    q = a * q0 + b * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def forward_kinematics(
    rotmats: np.ndarray,
    rest_joints: np.ndarray,
    parents: Sequence[int],
    transl: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """SMPL's rigid chain: local rotations [..., J, 3, 3], rest joints [J, 3] ->
    (positions [..., J, 3], global rotations [..., J, 3, 3]); see
    :func:`vhdiff.body.skeleton.forward_kinematics` (same maths, same result)."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    glob = [rotmats[..., 0, :, :]]
    pos = [np.broadcast_to(rest[0], rotmats.shape[:-3] + (3,))]
    for joint in range(1, len(parents)):
        parent = parents[joint]
        offset = rest[joint] - rest[parent]
        pos.append(pos[parent] + glob[parent] @ offset)
        glob.append(glob[parent] @ rotmats[..., joint, :, :])
    positions = np.stack(pos, -2)
    if transl is not None:
        positions = positions + np.asarray(transl)[..., None, :]
    return positions, np.stack(glob, -3)
