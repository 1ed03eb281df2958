"""Analytic two-bone leg IK on SMPL local rotations (numpy, float64): move an ankle, keep the foot.

For one leg (hip h, knee k, ankle a: SMPL joints 1/4/7 left, 2/5/8 right) and per frame a
wanted ankle displacement, :func:`reach` changes the hip's and the knee's local rotations so
that the ankle lands on ``a + delta`` and the ankle's GLOBAL rotation stays what it was: the
foot keeps its orientation, so the foot joint (10 / 11) moves by the same ``delta``. The
pelvis, the other leg and the upper body do not change. Two steps, the classic analytic
solution (e.g. Kulpa & Multon 2005; the law of cosines, then a swing):

1. Bend. With thigh length ``l1 = |k - h|`` and shin length ``l2 = |a - k|`` (fixed by the
   skeleton), the knee's interior angle ``theta`` between ``h - k`` and ``a - k`` sets
   ``|a - h|^2 = l1^2 + l2^2 - 2 l1 l2 cos(theta)``. The wanted distance
   ``d = |a + delta - h|`` (clamped to what the leg can reach, just short of straight) gives
   ``theta*``; the shin turns by ``theta* - theta`` about the knee's bend axis
   ``n = (h - k) x (a - k)``, or, for a straight or hyperextended knee (n missing or against
   the knee's flexion), the knee's own flexion axis -x (SMPL knees flex by a positive
   rotation about x, which swings the shin backwards) with theta measured round that axis,
   so the solution always bends the knee forwards.
2. Swing. The whole leg turns about the hip by the smallest rotation that takes the
   direction ``a' - h`` onto ``a + delta - h``.

Then, from the new global rotations G: local hip = G_pelvis^T G_hip, local knee =
G_hip^T G_knee, local ankle = G_knee^T G_ankle(old). A target out of reach is met as closely
as the straightened leg allows (the ankle lands on the line from the hip to the target).
"""

from __future__ import annotations

import numpy as np

from vhdiff.body import rotations_np as nr

__all__ = ["LEFT_LEG", "RIGHT_LEG", "reach"]

LEFT_LEG: tuple[int, int, int] = (1, 4, 7)  # SMPL left hip, knee, ankle
RIGHT_LEG: tuple[int, int, int] = (2, 5, 8)  # SMPL right hip, knee, ankle
_STRAIGHT = 1e-4  # the reach is kept this fraction short of a straight leg (a defined bend axis)


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors [..., 3] and norms [...] (zero vectors stay zero)."""
    norm = np.linalg.norm(v, axis=-1)
    return v / np.maximum(norm, 1e-12)[..., None], norm


def _rotation_between(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The smallest rotations [..., 3, 3] taking unit vectors p [..., 3] onto q [..., 3]."""
    axis, sine = _unit(np.cross(p, q))
    angle = np.arctan2(sine, (p * q).sum(-1))
    return nr.axis_angle_to_matrix(axis * angle[..., None])


def reach(
    positions: np.ndarray, rotations: np.ndarray, leg: tuple[int, int, int], delta: np.ndarray
) -> np.ndarray:
    """New local rotations [T, 3, 3] of the leg's (hip, knee, ankle) (module docstring).

    positions [T, J, 3] and rotations [T, J, 3, 3]: the joints' world positions and GLOBAL
    rotations from forward kinematics (J >= 9, SMPL order); leg: (hip, knee, ankle) indices,
    LEFT_LEG or RIGHT_LEG; delta [T, 3]: the wanted world displacement of the ankle. Returns
    [T, 3, 3, 3]: hip, knee, ankle (for a zero delta, the current ones up to round-off: write
    back only the frames you move).
    """
    hip, knee, ankle = leg
    h, k, a = positions[:, hip], positions[:, knee], positions[:, ankle]
    g_pelvis, g_hip, g_knee, g_ankle = (rotations[:, j] for j in (0, hip, knee, ankle))
    up, thigh = _unit(h - k)
    down, shin = _unit(a - k)
    target = a + delta
    reach_max = (thigh + shin) * (1.0 - _STRAIGHT)
    wanted = np.clip(np.linalg.norm(target - h, axis=-1), np.abs(thigh - shin) + 1e-9, reach_max)
    # 1. bend: knee angle from the law of cosines
    theta = np.arccos(np.clip((up * down).sum(-1), -1.0, 1.0))
    cos_goal = (thigh**2 + shin**2 - wanted**2) / (2.0 * thigh * shin)
    theta_goal = np.arccos(np.clip(cos_goal, -1.0, 1.0))
    axis, size = _unit(np.cross(up, down))
    flexion = -g_knee[:, :, 0]  # the knee's flexion axis, -x (docstring)
    backwards = (size < 1e-6) | ((axis * flexion).sum(-1) < 0.0)  # straight or hyperextended
    axis[backwards] = flexion[backwards]
    theta[backwards] = 2.0 * np.pi - theta[backwards]  # measured the other way round
    bend = nr.axis_angle_to_matrix(axis * (theta_goal - theta)[:, None])
    g_knee = bend @ g_knee
    a_bent = k + np.einsum("tij,tj->ti", bend, a - k)
    # 2. swing the whole leg about the hip onto the target's direction
    swing = _rotation_between(_unit(a_bent - h)[0], _unit(target - h)[0])
    g_hip, g_knee = swing @ g_hip, swing @ g_knee
    return np.stack(
        (
            np.swapaxes(g_pelvis, -1, -2) @ g_hip,
            np.swapaxes(g_hip, -1, -2) @ g_knee,
            np.swapaxes(g_knee, -1, -2) @ g_ankle,
        ),
        axis=1,
    )
