"""Per-frame motion features for diffusion, computed from SMPL parameters, and back.

Coordinates: Y up, metres, the SMPL canonical frame (rest body faces +Z, its left is +X).

**Heading.** The root rotation is split as ``R_root = R_y(psi) @ R_tilt``: ``R_y(psi)`` is
the twist of the root about the world Y axis (swing-twist decomposition of the root
quaternion ``q = (w, x, y, z)``: ``psi = 2 atan2(y, w)``) and ``R_tilt`` is what is left,
a rotation about a horizontal axis (lean, bow, lying down). ``psi = 0`` faces +Z; a
positive ``psi`` rotates the facing direction towards +X, the body's left, i.e. a
positive yaw velocity is a LEFT turn, counter-clockwise seen from above (+Y looking down).

**Feature vector** (``FEATURE_DIM = 140`` with contacts, ``FEATURE_DIM_NO_CONTACTS = 136``
without), per frame t of a T-frame motion at ``fps``:

=============  =======  ==============================================================
slice          width    meaning
=============  =======  ==============================================================
ROOT_HEIGHT    1        ``transl[t, 1]``: SMPL translation height (metres). The pelvis
                        is at ``rest_joints[0] + transl``; with the neutral skeleton the
                        pelvis height is ``transl_y - 0.223``.
ROOT_VELOCITY  2        planar root velocity (m/s) in frame t's heading frame,
                        ``R_y(-psi_t) (transl[t+1] - transl[t]) * fps`` as (x, z):
                        local x = the body's left, local z = forward.
YAW_VELOCITY   1        ``wrap(psi_{t+1} - psi_t) * fps`` (rad/s), positive = left turn.
ROOT_TILT      6        6D (first two matrix columns) of ``R_tilt``.
BODY_ROTATIONS 126      6D of the 21 body joints' local rotations (SMPL joints 1..21).
CONTACTS       4        foot contact labels in {0, 1} for left ankle, left foot,
                        right ankle, right foot (joints 7, 10, 8, 11); see
                        :func:`foot_contacts`. Optional.
=============  =======  ==============================================================

**Velocity convention (first/last frame).** Velocities are FORWARD differences: frame t's
velocity says where the root goes between frames t and t+1. The last frame has no next
frame; it repeats frame T-2's velocities (a 1-frame motion has zero velocities).
:func:`from_features` integrates ``transl_xz[t+1] = transl_xz[t] + R_y(psi_t) v_t / fps``
and ``psi_{t+1} = psi_t + omega_t / fps`` from ``start_xz`` and ``start_heading``, so the
last frame's velocities are never used and the round trip is exact up to float32
rounding: measured <= 1e-5 m on translations and <= 1e-5 rad on rotations for 200-frame
clips (tested at 1e-4). The absolute heading and planar position of frame 0 are not in
the features (heading invariance); pass them back through ``start_heading`` /
``start_xz`` (:func:`root_heading` gives a motion's heading).

Contacts are derived labels: :func:`from_features` ignores them (a model may use them
for a foot-contact loss; the evaluator for foot skating).

Betas are not in the features: :func:`from_features` takes them as an argument.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.array_files import load_npz_file
from vhdiff.atomic_io import write_npz_atomic
from vhdiff.body import rotations_np as nr
from vhdiff.body.skeleton import (
    BODY_PARENTS,
    FOOT_JOINTS,
    NUM_BODY_JOINTS,
    SMPL_NEUTRAL_REST_JOINTS,
)
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = [
    "BODY_ROTATIONS",
    "CONTACTS",
    "CONTACT_HEIGHT",
    "CONTACT_SPEED",
    "FEATURE_DIM",
    "FEATURE_DIM_NO_CONTACTS",
    "ROOT_HEIGHT",
    "ROOT_TILT",
    "ROOT_VELOCITY",
    "YAW_VELOCITY",
    "FeatureStats",
    "as_frame_array",
    "feature_dim",
    "foot_contacts",
    "from_features",
    "joints_from_features",
    "joints_from_motion",
    "root_heading",
    "split_heading",
    "to_features",
]

ROOT_HEIGHT = slice(0, 1)
ROOT_VELOCITY = slice(1, 3)
YAW_VELOCITY = slice(3, 4)
ROOT_TILT = slice(4, 10)
BODY_ROTATIONS = slice(10, 136)
CONTACTS = slice(136, 140)
FEATURE_DIM_NO_CONTACTS = 136
FEATURE_DIM = 140

# Contact labels: a foot joint touches the ground when it is slower than CONTACT_SPEED (m/s)
# AND within CONTACT_HEIGHT (m) of the lowest height that joint reaches in the clip.
CONTACT_SPEED = 0.5
CONTACT_HEIGHT = 0.05

_REST_JOINTS = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)


def feature_dim(*, contacts: bool = True) -> int:
    """140 with foot contacts, 136 without."""
    return FEATURE_DIM if contacts else FEATURE_DIM_NO_CONTACTS


def split_heading(root_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split root rotations [..., 3, 3] into heading psi [...] and tilt [..., 3, 3].

    R = R_y(psi) @ R_tilt, psi = 2 atan2(q_y, q_w) of the rotation's quaternion (its twist
    about Y; the swing-twist split gives the same twist on either side). Undefined only
    for 180-degree rotations about a horizontal axis (upside down), where psi falls to 0.
    """
    m = np.asarray(root_matrix, dtype=np.float64)
    # With q = (w, x, y, z): m02 - m20 = 4wy and m00 + m22 = 2(w^2 - y^2), so
    # atan2(m02 - m20, m00 + m22) = atan2(2wy, w^2 - y^2) = 2 atan2(y, w).
    psi = np.arctan2(m[..., 0, 2] - m[..., 2, 0], m[..., 0, 0] + m[..., 2, 2])
    return psi, nr.yaw_matrix(-psi) @ m


def root_heading(motion: SMPLMotion) -> np.ndarray:
    """Heading psi [T] (radians, 0 = facing +Z, positive = turned left) of each frame."""
    return split_heading(nr.axis_angle_to_matrix(motion.global_orient))[0]


def _wrap(angle: np.ndarray) -> np.ndarray:
    return np.remainder(angle + np.pi, 2 * np.pi) - np.pi


def _forward_difference(x: np.ndarray) -> np.ndarray:
    """[T, ...] -> [T, ...]: x[t+1] - x[t], the last row repeating the one before (0 if T=1)."""
    if x.shape[0] == 1:
        return np.zeros_like(x)
    diff = x[1:] - x[:-1]
    return np.concatenate((diff, diff[-1:]), axis=0)


def _fk_with_rotations(
    rotmats: np.ndarray, transl: np.ndarray, rest_joints: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """rotmats [T, 22, 3, 3], transl [T, 3] -> joints [T, 22, 3] and their global rotations
    [T, 22, 3, 3] (float64)."""
    rest = _REST_JOINTS if rest_joints is None else np.asarray(rest_joints, dtype=np.float64)
    if rest.shape != (NUM_BODY_JOINTS, 3):
        raise ValueError(f"rest_joints must have shape [22, 3], got {list(rest.shape)}")
    return nr.forward_kinematics(rotmats, rest, BODY_PARENTS, transl)


def _fk(rotmats: np.ndarray, transl: np.ndarray, rest_joints: Any = None) -> np.ndarray:
    """rotmats [T, 22, 3, 3], transl [T, 3] -> joints [T, 22, 3] (float64)."""
    return _fk_with_rotations(rotmats, transl, rest_joints)[0]


def joints_from_motion(motion: SMPLMotion, *, rest_joints: Any = None) -> np.ndarray:
    """World positions [T, 22, 3] (float64) of the SMPL body joints: FK, no mesh.

    Uses ``SMPL_NEUTRAL_REST_JOINTS`` (betas are ignored) unless ``rest_joints`` [22, 3]
    is given; adds ``transl``. Equals the neutral SMPL body's joints for betas = 0.
    """
    rot = nr.axis_angle_to_matrix(motion.poses.reshape(-1, 22, 3))
    return _fk(rot, np.asarray(motion.transl, dtype=np.float64), rest_joints)


def foot_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """Contact labels [T, 4] (float 0/1) for joints [T, 22, 3]: left ankle, left foot,
    right ankle, right foot.

    A joint is in contact at frame t when its speed (forward difference, as the root
    velocity) is below ``CONTACT_SPEED`` m/s and its height is within ``CONTACT_HEIGHT`` m
    of the lowest height that joint reaches in the clip (so the ground level need not be 0).
    """
    feet = np.asarray(joints, dtype=np.float64)[:, list(FOOT_JOINTS)]
    speed = np.linalg.norm(_forward_difference(feet), axis=-1) * fps
    low = feet[..., 1] - feet[..., 1].min(axis=0)
    return ((speed < CONTACT_SPEED) & (low < CONTACT_HEIGHT)).astype(np.float64)


def to_features(motion: SMPLMotion, *, contacts: bool = True) -> np.ndarray:
    """Features [T, 140] (or [T, 136] with ``contacts=False``), float32; layout above."""
    frames, fps = motion.num_frames, motion.fps
    rot = nr.axis_angle_to_matrix(motion.poses.reshape(frames, 22, 3))
    transl = np.asarray(motion.transl, dtype=np.float64)
    psi, tilt = split_heading(rot[:, 0])
    step = _forward_difference(transl)  # [T, 3] world displacement to the next frame
    local = np.einsum("tij,tj->ti", nr.yaw_matrix(-psi), step)
    if frames > 1:
        local[-1] = local[-2]  # the last frame repeats the previous row of features
    parts = [
        transl[:, 1:2],
        local[:, [0, 2]] * fps,
        _wrap(_forward_difference(psi))[:, None] * fps,
        nr.matrix_to_rotation_6d(tilt),
        nr.matrix_to_rotation_6d(rot[:, 1:]).reshape(frames, 126),
    ]
    if contacts:
        parts.append(foot_contacts(_fk(rot, transl), fps))
    return np.concatenate(parts, axis=1).astype(np.float32)


def as_frame_array(data: Any, widths: tuple[int, ...], *, name: str, hint: str) -> np.ndarray:
    """Per-frame vectors [T, D] (numpy or torch) as float64 numpy, D one of `widths`.

    ValueError for another shape (with `hint`, the fix), no frames, or NaN / infinity.
    """
    if hasattr(data, "detach"):  # a torch tensor
        data = data.detach().cpu().numpy()
    array = np.asarray(data, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] not in widths:
        shapes = " or ".join(f"[T, {w}]" for w in widths)
        raise ValueError(f"{name} must have shape {shapes}, got {list(array.shape)}; {hint}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} have no frames (T = 0)")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    return array


def _check_features(features: Any) -> np.ndarray:
    return as_frame_array(
        features, (FEATURE_DIM, FEATURE_DIM_NO_CONTACTS), name="features",
        hint="denormalise model outputs with FeatureStats.denormalize first",
    )  # fmt: skip


def _integrate_root(
    features: np.ndarray, fps: float, start_heading: float, start_xz: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Heading psi [T] and transl [T, 3] from the root features (see the module docstring)."""
    omega = features[:, YAW_VELOCITY][:, 0]
    psi = start_heading + np.concatenate(([0.0], np.cumsum(omega[:-1]) / fps))
    local = np.zeros((features.shape[0], 3))
    local[:, [0, 2]] = features[:, ROOT_VELOCITY] / fps
    world = np.einsum("tij,tj->ti", nr.yaw_matrix(psi), local)
    xz = np.concatenate((np.zeros((1, 3)), np.cumsum(world[:-1], 0)))[:, [0, 2]]
    xz = xz + np.asarray(start_xz, dtype=np.float64)
    return psi, np.stack((xz[:, 0], features[:, 0], xz[:, 1]), axis=1)


def _rotations_from_features(features: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Local rotation matrices [T, 22, 3, 3] (root first)."""
    frames = features.shape[0]
    root = nr.yaw_matrix(psi) @ nr.rotation_6d_to_matrix(features[:, ROOT_TILT])
    body = nr.rotation_6d_to_matrix(features[:, BODY_ROTATIONS].reshape(frames, 21, 6))
    return np.concatenate((root[:, None], body), axis=1)


def from_features(
    features: Any,
    *,
    fps: float = 20.0,
    betas: Any = None,
    start_heading: float = 0.0,
    start_xz: tuple[float, float] = (0.0, 0.0),
) -> SMPLMotion:
    """SMPL parameters from (denormalised) features [T, 140 or 136] (numpy or torch).

    Integrates the root (module docstring), maps every 6D block back by Gram-Schmidt (so
    raw network outputs are valid), ignores contact labels. betas default to zeros.
    Returns float32 arrays.
    """
    data = _check_features(features)
    psi, transl = _integrate_root(data, fps, float(start_heading), start_xz)
    pose = nr.matrix_to_axis_angle(_rotations_from_features(data, psi)).astype(np.float32)
    return SMPLMotion(
        global_orient=pose[:, 0],
        body_pose=pose[:, 1:],
        transl=transl.astype(np.float32),
        betas=np.zeros(10, np.float32) if betas is None else betas,
        fps=fps,
    )


def joints_from_features(
    features: Any,
    *,
    fps: float = 20.0,
    start_heading: float = 0.0,
    start_xz: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Joint positions [T, 22, 3] (float32) from (denormalised) features, neutral skeleton."""
    data = _check_features(features)
    psi, transl = _integrate_root(data, fps, float(start_heading), start_xz)
    return _fk(_rotations_from_features(data, psi), transl).astype(np.float32)


def _as_like(array: np.ndarray, x: Any) -> Any:
    if hasattr(x, "detach"):  # a torch tensor: match its dtype and device
        import torch

        return torch.as_tensor(array, dtype=x.dtype, device=x.device)
    return array.astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float32)


@dataclass
class FeatureStats:
    """Per-dimension mean [D] and std [D] of a dataset's features (std already floored).

    ``normalize(x) = (x - mean) / std`` and ``denormalize`` work on numpy arrays and torch
    tensors of shape [..., D]. Saved as an ``.npz`` with ``mean``, ``std``, ``min_std``.
    """

    mean: np.ndarray
    std: np.ndarray
    min_std: float = 1e-2

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float32)
        self.std = np.asarray(self.std, dtype=np.float32)
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(
                f"mean and std must both have shape [D], got {list(self.mean.shape)} and "
                f"{list(self.std.shape)}"
            )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("feature stats contain NaN or infinite values; recompute them")
        self.std = np.maximum(self.std, np.float32(self.min_std))

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def from_features(
        cls, features: list[np.ndarray] | np.ndarray, *, min_std: float = 1e-2
    ) -> FeatureStats:
        """Stats over all frames of a list of [T_i, D] arrays (or one [N, D] array)."""
        if isinstance(features, np.ndarray):
            features = [features]
        if not features:
            raise ValueError("no features to compute statistics from (empty dataset)")
        stacked = np.concatenate([np.asarray(f, dtype=np.float64) for f in features], axis=0)
        return cls(mean=stacked.mean(0), std=stacked.std(0), min_std=min_std)

    def _check(self, x: Any) -> None:
        if x.shape[-1] != self.dim:
            raise ValueError(
                f"features have {x.shape[-1]} dims but the stats have {self.dim}; use the stats "
                "computed for this representation (contacts on/off)"
            )

    def normalize(self, x: Any) -> Any:
        """(x - mean) / std for x [..., D] (numpy or torch, dtype kept)."""
        self._check(x)
        return (x - _as_like(self.mean, x)) / _as_like(self.std, x)

    def denormalize(self, x: Any) -> Any:
        """x * std + mean for x [..., D] (numpy or torch, dtype kept)."""
        self._check(x)
        return x * _as_like(self.std, x) + _as_like(self.mean, x)

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``mean``, ``std``, ``min_std`` to an .npz atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"mean": self.mean, "std": self.std, "min_std": np.float64(self.min_std)}
        write_npz_atomic(path, arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureStats:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"feature stats not found: {str(path)!r}; the prep commands write it "
                "(vhdiff prep synthetic-motion / amass / humanml3d), or compute it with "
                "FeatureStats.from_features(...).save(path)"
            )
        archive = load_npz_file(path, kind="feature stats", fmt="feature-stats .npz with mean/std")
        try:
            with archive as data:
                min_std = float(data["min_std"]) if "min_std" in data.files else 1e-2
                return cls(mean=data["mean"], std=data["std"], min_std=min_std)
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(
                f"{str(path)!r} is not a feature-stats .npz with mean/std ({exc})"
            ) from exc
