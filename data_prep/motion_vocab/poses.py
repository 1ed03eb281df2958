"""Joint-angle tracks on the SMPL skeleton: the building block of the procedural motions.

A pose track holds, for each of the 21 body joints (SMPL joints 1..21), three angles per
frame ``(x, y, z)`` [T, 21, 3] composed as ``R = R_y(y) @ R_x(x) @ R_z(z)`` in the joint's
parent frame (SMPL's local frames are aligned with the world at rest: Y up, the body faces
+Z, its left is +X). What the axes mean on this skeleton:

- legs (hip, knee, ankle): ``x`` is flexion in the sagittal plane; a NEGATIVE hip x swings
  the thigh forward, a POSITIVE knee x bends the knee (shank backwards); hip ``y`` turns
  the leg about the vertical.
- spine, neck, head: positive ``x`` bends forward; ``y`` twists (positive = to the left).
- arms (collar, shoulder, elbow, wrist): the rest arm points sideways (left arm +X).
  Shoulder ``z`` lifts/lowers it in the frontal plane (left: -1.25 hangs it down, 0 is
  horizontal, +1.35 is overhead), shoulder ``x`` swings a lowered arm forward (negative)
  or back, shoulder ``y`` swings a forward arm inwards (negative for the left arm).
  Elbow ``y`` bends the forearm forwards (negative for the left arm), elbow ``z`` bends
  it upwards in the frontal plane (positive for the left arm).

Actions are written for the LEFT side; :meth:`PoseTrack.side` mirrors them to the right:
a reflection x -> -x keeps ``x`` angles and negates ``y`` and ``z`` (S R_a S = R_a for the
X axis, R_{-a} for Y and Z, with S = diag(-1, 1, 1)), and swaps left/right joints.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from vhdiff.body.skeleton import SMPL_JOINT_NAMES

__all__ = ["PoseTrack", "Side", "euler_to_matrix", "joint"]

Side = Literal["left", "right"]

_BODY_INDEX = {name: index - 1 for index, name in enumerate(SMPL_JOINT_NAMES[1:22], start=1)}


def joint(name: str, side: Side | None = None) -> int:
    """Index into body_pose [.., 21, ..] of ``name`` ("spine1", or "hip" with a side)."""
    return _BODY_INDEX[f"{side}_{name}" if side else name]


def euler_to_matrix(angles: np.ndarray) -> np.ndarray:
    """[..., 3] angles (x, y, z) -> [..., 3, 3] rotations R_y(y) R_x(x) R_z(z)."""
    x, y, z = (np.asarray(angles, dtype=np.float64)[..., i] for i in range(3))
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    # R_y R_x R_z written out (one pass, no batched small matmuls).
    m = np.stack(
        (
            cy * cz + sy * sx * sz, -cy * sz + sy * sx * cz, sy * cx,
            cx * sz, cx * cz, -sx,
            -sy * cz + cy * sx * sz, sy * sz + cy * sx * cz, cy * cx,
        ),
        -1,
    )  # fmt: skip
    return m.reshape(*x.shape, 3, 3)


def _channel(value: float | np.ndarray, frames: int) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    return np.broadcast_to(array, (frames,)) if array.ndim == 0 else array


class PoseTrack:
    """Angles [T, 21, 3] (see the module docstring) built up by :meth:`add`."""

    def __init__(self, frames: int) -> None:
        self.angles = np.zeros((frames, 21, 3))

    @property
    def frames(self) -> int:
        return self.angles.shape[0]

    def add(
        self,
        name: str,
        side: Side | None = None,
        *,
        x: float | np.ndarray = 0.0,
        y: float | np.ndarray = 0.0,
        z: float | np.ndarray = 0.0,
    ) -> PoseTrack:
        """Add angles (scalars or [T] arrays) written for the LEFT side to ``name``; with
        ``side="right"`` the mirrored angles go to the right joint (y, z negated)."""
        sign = -1.0 if side == "right" else 1.0
        index = joint(name, side)
        self.angles[:, index, 0] += _channel(x, self.frames)
        self.angles[:, index, 1] += sign * _channel(y, self.frames)
        self.angles[:, index, 2] += sign * _channel(z, self.frames)
        return self

    def both(self, name: str, **angles: float | np.ndarray) -> PoseTrack:
        """:meth:`add` to the left joint and its mirror to the right joint."""
        return self.add(name, "left", **angles).add(name, "right", **angles)

    def rest_arms(self, weight: float | np.ndarray = 1.0) -> PoseTrack:
        """Arms hanging relaxed at the sides, elbows slightly bent (times ``weight``)."""
        w = _channel(weight, self.frames)
        self.both("shoulder", z=-1.25 * w)
        self.both("collar", z=-0.05 * w)
        return self.both("elbow", y=-0.15 * w)
