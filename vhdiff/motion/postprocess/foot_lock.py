"""Foot locking: remove foot sliding from generated motion features.

A generated motion often slides a planted foot over the ground (foot skating). Two steps,
both exact within what they can reach:

**1. The root.** With the SMPL-parameter features (vhdiff.motion.representation.smpl) most of
the fix needs no inverse kinematics: the root's planar step between two frames is a feature
of its own, and the whole body moves with the root. So where a foot is planted in frames t
and t+1, adding the opposite of that foot's horizontal displacement to the root's step
t -> t+1 holds the foot still and leaves every joint rotation, the root height and the
heading untouched.

Which foot is planted comes from the motion's own contact channels (the model predicts
them with the motion; `CONTACTS`, > 0.5 = contact) or, for 136-dim features without
contacts, from the labelling rule the data used (`foot_contacts`: slow and low). Per
transition t -> t+1, for each side (left: ankle 7 / foot 10, right: ankle 8 / foot 11):

    planted_s(t)  = the side's foot (or, failing that, ankle) label is on at t and t+1
    d_s(t)        = p_s(t+1) - p_s(t), horizontal (x, z), of that joint
    c(t)          = - mean over planted sides of d_s(t)       (0 if no side is planted)

Both feet planted with different slides get their mean removed. Switching the correction
on and off within one frame would give the root a velocity step (a jerk spike on every
joint), so c may be smoothed with a centred triangular window of `smooth` frames (odd;
1 = none) before it is added: a slide is then removed in full inside a contact and partly
at its edges. The features are translation-invariant, so one pass is exact: every later
frame moves rigidly with the corrected root, and d_s(t) after the correction is
d_s(t) + c(t).

**2. The legs** (`legs=True`). A rigid shift cannot hold two feet that slide differently
(a turn on the spot, a shuffle), nor a stance whose foot creeps while the root moves on.
So each run of >= 2 frames with a foot label on is then pinned by leg IK
(vhdiff.body.leg_ik): the foot joint is held at its mean (x, z) over the run, its
height and orientation kept, by turning that leg's hip, knee and ankle only. Around each
run the displacement fades out linearly over `blend` frames, so the leg does not snap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vhdiff.body import rotations_np as nr
from vhdiff.body.leg_ik import LEFT_LEG, RIGHT_LEG, reach
from vhdiff.body.skeleton import LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS
from vhdiff.motion.representation.smpl import (
    BODY_ROTATIONS,
    CONTACTS,
    FEATURE_DIM,
    ROOT_VELOCITY,
    check_features,
    fk_with_rotations,
    foot_contacts,
    forward_kinematics,
    integrate_root,
    rotations_from_features,
)

__all__ = ["lock_feet"]

CONTACT_THRESHOLD = 0.5  # a contact channel above this is "planted"


def _smoothing_kernel(width: int) -> np.ndarray:
    """Triangular weights of odd `width`, summing to 1: width 5 -> (1, 2, 3, 2, 1) / 9."""
    ramp = np.arange(1, (width + 1) // 2 + 1, dtype=np.float64)
    kernel = np.concatenate((ramp, ramp[-2::-1]))
    return kernel / kernel.sum()


def _smooth(correction: np.ndarray, width: int) -> np.ndarray:
    """Centred triangular smoothing of [T-1, 2] along time, zero outside the clip."""
    if width <= 1 or len(correction) < 2:
        return correction
    kernel = _smoothing_kernel(width)
    pad = width // 2
    return np.stack(
        [np.convolve(c, kernel, mode="full")[pad : pad + len(c)] for c in correction.T], axis=1
    )


def _stance_runs(planted: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of >= 2 consecutive True frames of a [T] bool array."""
    edges = np.diff(np.concatenate(([0], planted.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a >= 2]


def _pin_offsets(foot: np.ndarray, planted: np.ndarray, blend: int) -> np.ndarray:
    """World displacements [T, 3] that hold `foot` [T, 3] at its mean (x, z) over each stance
    run of `planted` [T], faded linearly to zero over `blend` frames either side."""
    delta = np.zeros_like(foot)
    frames = len(foot)
    for start, stop in _stance_runs(planted):
        pin = foot[start:stop, [0, 2]].mean(axis=0)
        delta[start:stop, [0, 2]] = pin - foot[start:stop, [0, 2]]
        for d in range(1, blend + 1):
            weight = 1.0 - d / (blend + 1)
            if start - d >= 0 and not planted[start - d]:
                delta[start - d, [0, 2]] += weight * (pin - foot[start, [0, 2]])
            if stop - 1 + d < frames and not planted[stop - 1 + d]:
                delta[stop - 1 + d, [0, 2]] += weight * (pin - foot[stop - 1, [0, 2]])
    return delta


def _pin_feet(
    data: np.ndarray, rotations: np.ndarray, labels: np.ndarray, fps: float, blend: int
) -> np.ndarray:
    """Features [T, D] with each foot held at one spot per stance run by leg IK (lock_feet);
    rotations [T, 22, 3, 3]: the features' local rotations (step 1 leaves them as they were)."""
    transl = integrate_root(data, fps, 0.0, (0.0, 0.0))[1]
    positions, global_rotations = fk_with_rotations(rotations, transl)
    out = data.copy()
    sides = ((LEFT_LEG, LEFT_FOOT_JOINTS[1]), (RIGHT_LEG, RIGHT_FOOT_JOINTS[1]))
    for side, (leg, foot) in enumerate(sides):
        delta = _pin_offsets(positions[:, foot], labels[:, 2 * side + 1], blend)
        moved = np.abs(delta).max(axis=-1) > 1e-9  # metres: round-off is not a move
        if not moved.any():
            continue
        local = reach(positions[moved], global_rotations[moved], leg, delta[moved])  # [M,3,3,3]
        for i, joint in enumerate(leg):  # body joint j's 6D block: BODY_ROTATIONS + 6 (j - 1)
            start = BODY_ROTATIONS.start + 6 * (joint - 1)
            out[moved, start : start + 6] = nr.matrix_to_rotation_6d(local[:, i])
    return out


def lock_feet(
    features: Any, *, fps: float = 20.0, smooth: int = 1, legs: bool = True, blend: int = 2
) -> np.ndarray:
    """Features [T, 140 or 136] (denormalised) with planted feet held still (module docstring).

    Step 1 (always) changes only the root velocity channels. smooth: width in frames (odd) of
    the triangular window over the root correction; 1 (the default, what the pipeline uses)
    = no smoothing, an exact lock. Wider windows soften the root's velocity steps at contact
    edges but undo much of the lock (on generated motion, skating 0.08 -> 0.03 exact, 0.07
    with 3 frames).
    Step 2 (`legs`, on by default) then holds each planted foot joint at one spot for its
    whole stance by leg IK (`vhdiff.body.leg_ik`): what the root cannot hold, a foot
    planted while the other one slides differently, or a stance that creeps. Only the hip,
    knee and ankle rotations of that leg change, faded in and out over `blend` frames
    before and after the stance (0 = switch at once).
    Returns float32 [T, D]; a clip of fewer than 2 frames comes back unchanged.
    """
    data = check_features(features)
    if not isinstance(smooth, int) or smooth < 1 or smooth % 2 == 0:
        raise ValueError(f"smooth must be an odd number of frames >= 1 (1 = off), got {smooth!r}")
    if not isinstance(blend, int) or isinstance(blend, bool) or blend < 0:
        raise ValueError(f"blend must be a whole number of frames >= 0, got {blend!r}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    frames = data.shape[0]
    if frames < 2:
        return data.astype(np.float32)
    psi, transl = integrate_root(data, fps, 0.0, (0.0, 0.0))
    rotations = rotations_from_features(data, psi)  # [T, 22, 3, 3] local
    joints = forward_kinematics(rotations, transl)  # [T, 22, 3]
    if data.shape[1] == FEATURE_DIM:
        labels = data[:, CONTACTS] > CONTACT_THRESHOLD  # [T, 4]: l ankle, l foot, r ankle, r foot
    else:
        labels = foot_contacts(joints, fps) > 0.5
    slide = np.zeros((frames - 1, 2))
    count = np.zeros((frames - 1, 1))
    for side, (ankle, foot) in enumerate((LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS)):
        on_foot = labels[:-1, 2 * side + 1] & labels[1:, 2 * side + 1]
        on_ankle = labels[:-1, 2 * side] & labels[1:, 2 * side] & ~on_foot
        for joint, on in ((foot, on_foot), (ankle, on_ankle)):
            step = np.diff(joints[:, joint][:, [0, 2]], axis=0)  # [T-1, 2] (x, z)
            slide += step * on[:, None]
            count[:, 0] += on
    correction = _smooth(-slide / np.maximum(count, 1.0), smooth)  # world (x, z) per step
    # add the correction to the world step, back into frame t's heading frame (x = left, z = fwd)
    world = np.zeros((frames - 1, 3))
    world[:, [0, 2]] = correction
    local = np.einsum("tij,tj->ti", nr.yaw_matrix(-psi[:-1]), world)[:, [0, 2]] * fps
    out = data.copy()
    out[:-1, ROOT_VELOCITY] += local
    out[-1, ROOT_VELOCITY] = out[-2, ROOT_VELOCITY]  # the last frame repeats the one before
    if legs:
        out = _pin_feet(out, rotations, labels, fps, blend)
    return out.astype(np.float32)
