"""Rotation conversions on batches: axis-angle, matrix, 6D and quaternion.

Every function takes a tensor with any leading dimensions ``[...]`` and keeps its
dtype (float32 or float64) and device. Pure torch; no other dependency.

Conventions (one for the whole project):

- **axis-angle** ``[..., 3]``: the rotation vector ``theta * axis`` (SMPL's pose format).
- **matrix** ``[..., 3, 3]``: acts on column vectors, ``x' = R @ x``.
- **6D** ``[..., 6]``: the first two COLUMNS of the matrix, concatenated:
  ``(R[:, 0], R[:, 1]) = (R00, R10, R20, R01, R11, R21)`` (Zhou et al., "On the
  Continuity of Rotation Representations in Neural Networks", CVPR 2019, Sec. 4;
  HumanML3D's ``cont6d`` uses the same layout). Note that PyTorch3D's
  ``matrix_to_rotation_6d`` (used by MDM) takes the first two ROWS instead, i.e. the
  6D of the transposed matrix.
- **quaternion** ``[..., 4]``: scalar first, ``(w, x, y, z)``, unit norm. Functions that
  return quaternions return the one with ``w >= 0`` (q and -q are the same rotation).
  roma uses ``(x, y, z, w)``; convert with ``roma.quat_wxyz_to_xyzw``.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "axis_angle_to_matrix",
    "axis_angle_to_quaternion",
    "axis_angle_to_rotation_6d",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rotation_6d",
    "quaternion_multiply",
    "quaternion_to_axis_angle",
    "quaternion_to_matrix",
    "rotation_6d_to_axis_angle",
    "rotation_6d_to_matrix",
    "standardize_quaternion",
]


def _check_last(x: Tensor, shape: tuple[int, ...], name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(
            f"{name} must be a floating-point tensor, got dtype {x.dtype}; use .float()"
        )
    if tuple(x.shape[x.dim() - len(shape) :]) != shape or x.dim() < len(shape):
        expected = "[..., " + ", ".join(map(str, shape)) + "]"
        raise ValueError(f"{name} must have shape {expected}, got {list(x.shape)}")


def _eps(x: Tensor) -> float:
    return 1e-12 if x.dtype == torch.float64 else 1e-6


def _skew(v: Tensor) -> Tensor:
    """Cross-product matrix [v]_x of v [..., 3] -> [..., 3, 3]."""
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack((zero, -z, y, z, zero, -x, -y, x, zero), dim=-1).reshape(*v.shape[:-1], 3, 3)


def axis_angle_to_matrix(axis_angle: Tensor) -> Tensor:
    """Rodrigues' formula: [..., 3] -> [..., 3, 3].

    R = I + a(theta) K + b(theta) K^2 with K = [r]_x, a = sin(theta)/theta,
    b = (1 - cos(theta))/theta^2; Taylor series below theta^2 < eps keep it smooth
    (and differentiable) at the identity.
    """
    _check_last(axis_angle, (3,), "axis_angle")
    theta2 = (axis_angle * axis_angle).sum(-1, keepdim=True)[..., None]  # [..., 1, 1]
    small = theta2 < 1e-8 if axis_angle.dtype == torch.float64 else theta2 < 1e-4
    safe2 = torch.where(small, torch.ones_like(theta2), theta2)
    theta = safe2.sqrt()
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / safe2)
    k = _skew(axis_angle)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + a * k + b * (k @ k)


def axis_angle_to_quaternion(axis_angle: Tensor) -> Tensor:
    """[..., 3] -> unit quaternion (w, x, y, z) [..., 4] with w >= 0."""
    _check_last(axis_angle, (3,), "axis_angle")
    theta2 = (axis_angle * axis_angle).sum(-1, keepdim=True)
    small = theta2 < 1e-8 if axis_angle.dtype == torch.float64 else theta2 < 1e-4
    theta = torch.where(small, torch.ones_like(theta2), theta2).sqrt()
    # sin(theta/2)/theta, with its Taylor series near 0
    half_sinc = torch.where(small, 0.5 - theta2 / 48.0, torch.sin(theta / 2) / theta)
    w = torch.where(small, 1.0 - theta2 / 8.0, torch.cos(theta / 2))
    return standardize_quaternion(torch.cat((w, axis_angle * half_sinc), dim=-1))


def standardize_quaternion(quaternion: Tensor) -> Tensor:
    """Return the representative with w >= 0 of each quaternion [..., 4]."""
    _check_last(quaternion, (4,), "quaternion")
    return torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)


def quaternion_to_axis_angle(quaternion: Tensor) -> Tensor:
    """Unit quaternion (w, x, y, z) [..., 4] -> axis-angle [..., 3], angle in [0, pi].

    theta = 2 atan2(|v|, w) on the w >= 0 representative; atan2 stays accurate near
    both 0 and pi, unlike acos(w).
    """
    _check_last(quaternion, (4,), "quaternion")
    q = standardize_quaternion(quaternion)
    w, v = q[..., :1], q[..., 1:]
    norm_v = v.norm(dim=-1, keepdim=True)
    small = norm_v < _eps(q) ** 0.5
    half = torch.atan2(norm_v, w)
    # theta / |v| = 2 half / sin(half) * (1/|q|) ~ 2 / w for tiny |v|
    scale = torch.where(
        small,
        2.0 / w.clamp_min(_eps(q)),
        2.0 * half / torch.where(small, torch.ones_like(norm_v), norm_v),
    )
    return v * scale


def quaternion_to_matrix(quaternion: Tensor) -> Tensor:
    """Quaternion (w, x, y, z) [..., 4] -> matrix [..., 3, 3]; the input is normalised first."""
    _check_last(quaternion, (4,), "quaternion")
    q = quaternion / quaternion.norm(dim=-1, keepdim=True).clamp_min(_eps(quaternion))
    w, x, y, z = q.unbind(-1)
    m = torch.stack(
        (
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ),
        dim=-1,
    )
    return m.reshape(*q.shape[:-1], 3, 3)


def matrix_to_quaternion(matrix: Tensor) -> Tensor:
    """Rotation matrix [..., 3, 3] -> unit quaternion (w, x, y, z) [..., 4], w >= 0.

    Shepperd's method: four candidate formulas, each dividing by one of
    4w^2, 4x^2, 4y^2, 4z^2; each element uses the one with the largest divisor, so the
    result is accurate for every rotation (including angles near pi).
    """
    _check_last(matrix, (3, 3), "matrix")
    m = matrix
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # 4 * (w^2, x^2, y^2, z^2)
    four_sq = torch.stack(
        (1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22),
        dim=-1,
    )
    root = four_sq.clamp_min(0.0).sqrt()  # 2|w|, 2|x|, 2|y|, 2|z|
    # Row k: the quaternion times 2*root_k, computed from the matrix entries.
    candidates = torch.stack(
        (
            torch.stack((four_sq[..., 0], m21 - m12, m02 - m20, m10 - m01), dim=-1),
            torch.stack((m21 - m12, four_sq[..., 1], m10 + m01, m02 + m20), dim=-1),
            torch.stack((m02 - m20, m10 + m01, four_sq[..., 2], m12 + m21), dim=-1),
            torch.stack((m10 - m01, m20 + m02, m21 + m12, four_sq[..., 3]), dim=-1),
        ),
        dim=-2,
    )
    candidates = candidates / (2.0 * root.clamp_min(0.1))[..., None]
    best = root.argmax(dim=-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return standardize_quaternion(q)


def matrix_to_axis_angle(matrix: Tensor) -> Tensor:
    """Rotation matrix [..., 3, 3] -> axis-angle [..., 3] (angle in [0, pi])."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def matrix_to_rotation_6d(matrix: Tensor) -> Tensor:
    """Matrix [..., 3, 3] -> 6D [..., 6]: first column then second column."""
    _check_last(matrix, (3, 3), "matrix")
    return torch.cat((matrix[..., :, 0], matrix[..., :, 1]), dim=-1)


def rotation_6d_to_matrix(rotation_6d: Tensor) -> Tensor:
    """6D [..., 6] -> rotation matrix [..., 3, 3] by Gram-Schmidt (Zhou et al., Eq. 15-16).

    b1 = a1/|a1|, b2 = (a2 - (b1.a2) b1)/|...|, b3 = b1 x b2; R = [b1 b2 b3] as columns.
    Any 6 numbers with independent halves give a valid rotation, so network outputs can
    be fed directly.
    """
    _check_last(rotation_6d, (6,), "rotation_6d")
    eps = _eps(rotation_6d)
    a1, a2 = rotation_6d[..., :3], rotation_6d[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True).clamp_min(eps)
    b2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = b2 / b2.norm(dim=-1, keepdim=True).clamp_min(eps)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack((b1, b2, b3), dim=-1)


def axis_angle_to_rotation_6d(axis_angle: Tensor) -> Tensor:
    """Axis-angle [..., 3] -> 6D [..., 6]."""
    return matrix_to_rotation_6d(axis_angle_to_matrix(axis_angle))


def rotation_6d_to_axis_angle(rotation_6d: Tensor) -> Tensor:
    """6D [..., 6] -> axis-angle [..., 3]."""
    return matrix_to_axis_angle(rotation_6d_to_matrix(rotation_6d))


def quaternion_multiply(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product a * b of (w, x, y, z) quaternions [..., 4] (rotation b, then a)."""
    _check_last(a, (4,), "a")
    _check_last(b, (4,), "b")
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        (
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ),
        dim=-1,
    )
