"""Stepping gaits (walk, run, turn on the spot) from a footstep plan and leg IK.

A gait is planned in the world and then turned into joint angles:

1. the pelvis follows a path: heading psi(t) (integrated yaw rate) and planar position
   (integrated speed along the heading; negative speed walks backwards);
2. footsteps: each foot alternates stance (planted, never moving) and swing. Foot f
   touches down at ``offset_f + k P`` (stride period P = 2 / cadence, the right foot half
   a stride after the left) and lifts off ``duty * P`` later. A footstep is placed where
   the pelvis will be half-way through that stance, beside the path (the rest ankle's
   lateral offset), turned to the path heading then. In swing the ankle moves from the
   old footstep to the new one (smoothstep in the plane, ``clearance * sin(pi u)`` up);
3. pelvis height: as high as both legs allow (hip-to-ankle distance at most ``reach``
   times the leg length), which gives the natural up-and-down of walking;
4. leg angles by analytic two-bone IK in each leg's sagittal plane (hip flexion, knee
   flexion, small hip abduction for the lateral offset), hip yaw turning each leg to its
   foot's heading, ankles keeping the soles level.

The stance labels (LEFT / RIGHT / BOTH) go to :func:`~vhdiff.data_prep.motion_vocab.track.solve_root`,
which re-derives the translation from the planted foot: since the planted feet do not
move in the plan, the root follows the planned path (up to the IK's residual, a few mm).
"""

from __future__ import annotations

import numpy as np
from vhdiff.data_prep.motion_vocab.poses import PoseTrack, joint
from vhdiff.data_prep.motion_vocab.shapes import smoothstep
from vhdiff.data_prep.motion_vocab.track import BOTH, LEFT, RIGHT, Track

from vhdiff.body import rotations_np as nr
from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS

__all__ = ["plan_gait"]

_REST = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)
_LEGS = {"left": (1, 4, 7, 10), "right": (2, 5, 8, 11)}  # hip, knee, ankle, toe


def _sagittal_angle(v: np.ndarray) -> np.ndarray:
    """Angle of [..., 3] vectors in the y-z plane from straight down, positive backwards
    (the sense in which R_x(+a) turns a downward vector)."""
    return np.arctan2(-v[..., 2], -v[..., 1])


def _leg_ik(d: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hip flexion a, knee flexion b, hip abduction z for hip-to-ankle vectors d [T, 3]
    given in the leg's own frame: R_x(a) thigh + R_x(a) R_x(b) shank ~ d."""
    hip, knee, ankle, _ = _LEGS[side]
    thigh, shank = _REST[knee] - _REST[hip], _REST[ankle] - _REST[knee]
    l1, l2 = np.hypot(thigh[1], thigh[2]), np.hypot(shank[1], shank[2])
    dist = np.clip(np.hypot(d[:, 1], d[:, 2]), abs(l1 - l2) + 1e-3, (l1 + l2) * 0.9995)
    bend = np.pi - np.arccos(np.clip((l1**2 + l2**2 - dist**2) / (2 * l1 * l2), -1, 1))
    at_hip = np.arccos(np.clip((l1**2 + dist**2 - l2**2) / (2 * l1 * dist), -1, 1))
    thigh_angle = _sagittal_angle(d) - at_hip  # knee in front of the hip-ankle line
    a = thigh_angle - _sagittal_angle(thigh)
    b = _sagittal_angle(thigh) + bend - _sagittal_angle(shank)
    lateral = d[:, 0] - (thigh[0] + shank[0])
    z = np.arctan2(lateral, dist)  # R_z(+z) swings a downward leg towards +x
    return a, b, z


def _foot_schedule(
    times: np.ndarray, offset: float, period: float, duty: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: stance flag, index k of the current (or next) footstep, swing progress u."""
    cycle = (times - offset) / period
    k = np.floor(cycle)
    frac = cycle - k
    stance = (frac < duty) | (times < offset)  # planted before its first lift-off
    # In swing (frac >= duty) the foot heads for footstep k + 1.
    step = np.where(stance, k, k + 1).astype(np.int64)
    step = np.where(times < offset, 0, np.maximum(step, 0))
    u = np.where(stance, 0.0, (frac - duty) / (1 - duty))
    return stance, step, u


def plan_gait(
    frames: int,
    fps: float,
    *,
    speed: np.ndarray,
    yaw_rate: np.ndarray,
    cadence: float,
    duty: float,
    clearance: float,
    reach: float,
    lean: np.ndarray,
    arm_swing: float,
    elbow: float,
) -> Track:
    """A gait track (module docstring). speed [T] m/s along the heading (negative =
    backwards), yaw_rate [T] rad/frame, lean [T] rad; cadence in steps per second;
    duty = stance fraction of a stride (> 0.5 gives double support); clearance = swing
    height (m); reach = the largest hip-to-ankle distance as a fraction of leg length.
    The left foot lifts first, 0.2 s in; both feet stand side by side at the start."""
    times = np.arange(frames) / fps
    heading = np.concatenate(([0.0], np.cumsum(yaw_rate[:-1])))
    forward = np.stack((np.sin(heading), np.cos(heading)), axis=1)  # world (x, z)
    left_dir = np.stack((np.cos(heading), -np.sin(heading)), axis=1)  # the body's +x
    path = np.concatenate(([[0.0, 0.0]], np.cumsum(speed[:-1, None] * forward[:-1], 0) / fps))
    period = 2.0 / cadence
    pose = PoseTrack(frames)
    pose.rest_arms()
    track = Track.still(frames)
    track.pitch = lean
    track.yaw_rate = yaw_rate
    root = nr.yaw_matrix(heading) @ nr.axis_angle_to_matrix(np.stack((lean, 0 * lean, 0 * lean), 1))

    ankles, foot_yaw, planted, u_of = {}, {}, {}, {}
    first_lift = 0.2
    for side, offset in (
        ("left", first_lift - duty * period),
        ("right", first_lift + (0.5 - duty) * period),
    ):
        hip, _, ankle, _ = _LEGS[side]
        lateral = _REST[ankle, 0] - _REST[0, 0]
        stance, step, u = _foot_schedule(times, offset, period, duty)
        # Footstep k: beside the path where the pelvis is half-way through stance k.
        count = int(step.max()) + 1
        mid = np.clip(
            np.round((offset + np.arange(count) * period + duty * period / 2) * fps), 0, frames - 1
        )
        mid = mid.astype(np.int64)
        mid[0] = 0  # the first footstep is where the foot stands at the start
        spots = path[mid] + lateral * left_dir[mid]
        spot_yaw = heading[mid]
        prev = np.maximum(step - 1, 0)
        # A foot whose next footstep is where it stands (within 1 cm, 1 degree) stays put.
        still = (np.linalg.norm(spots[step] - spots[prev], axis=1) < 0.01) & (
            np.abs(spot_yaw[step] - spot_yaw[prev]) < 0.0175
        )
        stance = stance | still
        u = np.where(stance, 0.0, u)
        s = smoothstep((u - 0.15) / 0.7)  # lift first, land last: no low, fast toes
        xz = np.where(
            stance[:, None], spots[step], spots[prev] + (spots[step] - spots[prev]) * s[:, None]
        )
        yaw = np.where(
            stance, spot_yaw[step], spot_yaw[prev] + (spot_yaw[step] - spot_yaw[prev]) * s
        )
        flat_height = _REST[ankle, 1] - _REST[_LEGS[side][3], 1]  # ankle above a flat toe
        height = flat_height + np.where(stance, 0.0, clearance * np.sin(np.pi * u) ** 0.6)
        ankles[side] = np.stack((xz[:, 0], height, xz[:, 1]), axis=1)
        foot_yaw[side], planted[side], u_of[side] = yaw, stance, u

    # Pelvis height: as high as the more stretched leg allows (hip = pelvis + R rest offset),
    # measured with the IK's sagittal bone lengths.
    leg_length = sum(np.hypot(*(_REST[j] - _REST[i])[1:]) for i, j in ((1, 4), (4, 7)))
    pelvis_xz = np.stack((path[:, 0], path[:, 1]), axis=1)
    allowed = []
    for side in ("left", "right"):
        hip = _LEGS[side][0]
        hip_offset = np.einsum("tij,j->ti", root, _REST[hip] - _REST[0])
        to_ankle = ankles[side][:, [0, 2]] - (pelvis_xz + hip_offset[:, [0, 2]])
        horizontal = np.abs(np.einsum("ti,ti->t", to_ankle, forward))  # along the leg's plane
        vertical = np.sqrt(np.maximum((reach * leg_length) ** 2 - horizontal**2, 0.05))
        allowed.append(ankles[side][:, 1] + vertical - hip_offset[:, 1])
    pelvis_y = np.minimum(*allowed)
    smooth = np.convolve(np.pad(pelvis_y, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    pelvis = np.stack((pelvis_xz[:, 0], np.minimum(pelvis_y, smooth), pelvis_xz[:, 1]), axis=1)

    for side in ("left", "right"):
        hip = _LEGS[side][0]
        hip_world = pelvis + np.einsum("tij,j->ti", root, _REST[hip] - _REST[0])
        hip_yaw = foot_yaw[side] - heading
        leg_frame = root @ nr.yaw_matrix(hip_yaw)
        d = np.einsum("tji,tj->ti", leg_frame, ankles[side] - hip_world)  # R^T (ankle - hip)
        a, b, z = _leg_ik(d, side)
        # Written straight into the angles (not mirrored): these are this leg's own angles.
        pose.angles[:, joint("hip", side)] += np.stack((a, hip_yaw, z), axis=1)
        pose.angles[:, joint("knee", side), 0] += b
        toe_up = 0.25 * np.where(planted[side], 0.0, np.sin(np.pi * u_of[side]))
        pose.angles[:, joint("ankle", side), 0] += -(lean + a + b) - toe_up
        # Arms swing against the legs: the opposite arm goes forward as this foot does.
        ahead = np.einsum("ti,ti->t", ankles[side][:, [0, 2]] - pelvis_xz, forward)
        other = "right" if side == "left" else "left"
        pose.add("shoulder", other, x=-arm_swing * np.clip(ahead / 0.35, -1.5, 1.5))
    pose.both("elbow", y=-elbow)
    track.angles = pose.angles
    both = planted["left"] & planted["right"]
    track.stance = np.where(both, BOTH, np.where(planted["left"], LEFT, RIGHT)).astype(np.int64)
    return track
