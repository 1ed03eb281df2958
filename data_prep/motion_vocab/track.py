"""A procedural motion segment (:class:`Track`), sequencing, and the root solver that
turns it into physically placed SMPL parameters.

The solver derives the root translation from the feet instead of prescribing it:

- **vertical**: every frame, the body is lifted so that its lowest joint touches the
  ground (y = 0), plus ``lift`` (jump flights). No joint ever goes below the ground.
- **horizontal**: the stance foot (``stance`` per frame: left, right, both, or flight)
  stays where it was planted: while a foot is the stance foot, its anchor point (the
  midpoint of its ankle and toe joints) keeps its world x, z, and the root moves
  around it; when the stance changes, the new foot is anchored where it is at that
  frame, so the translation stays continuous. "both" keeps the current anchor foot
  (with symmetric legs both feet then stay put). In flight the midpoint of the two
  feet's anchor points moves with ``flight_velocity`` (metres/second, heading frame):
  an in-place jump lands where it took off.

So walking speed comes out of the leg motion (step length x cadence) with no sliding,
and turning in place pivots about the planted foot. Kinematics use the neutral SMPL
skeleton (``SMPL_NEUTRAL_REST_JOINTS``), as :func:`vhdiff.motion.joints_from_motion`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vhdiff.data_prep.motion_vocab.poses import euler_to_matrix

from vhdiff.body import rotations_np as nr
from vhdiff.body.skeleton import BODY_PARENTS, SMPL_NEUTRAL_REST_JOINTS
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["BOTH", "FLIGHT", "LEFT", "RIGHT", "Track", "concatenate", "solve_root"]

LEFT, RIGHT, BOTH, FLIGHT = 0, 1, 2, 3
_ANCHOR_JOINTS = {LEFT: (7, 10), RIGHT: (8, 11)}  # ankle, toe-base
_REST = np.asarray(SMPL_NEUTRAL_REST_JOINTS, dtype=np.float64)


@dataclass
class Track:
    """One motion segment, T frames.

    angles: [T, 21, 3] body joint angles (:mod:`vhdiff.data_prep.motion_vocab.poses`).
    pitch: [T] root lean forward (rad, rotation about the heading frame's x axis).
    roll: [T] root lean to the body's right (rad, about the heading frame's z axis).
    yaw_rate: [T] heading change from frame t to t+1 (rad/frame, positive = left turn).
    stance: [T] int: LEFT, RIGHT, BOTH or FLIGHT.
    lift: [T] metres above the ground placement (FLIGHT frames).
    flight_velocity: [T, 2] heading-frame (x = left, z = forward) m/s in FLIGHT frames.
    """

    angles: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    yaw_rate: np.ndarray
    stance: np.ndarray
    lift: np.ndarray
    flight_velocity: np.ndarray

    @classmethod
    def still(cls, frames: int) -> Track:
        """A track with everything zero and both feet planted (fill in its arrays)."""
        return cls(
            angles=np.zeros((frames, 21, 3)),
            pitch=np.zeros(frames),
            roll=np.zeros(frames),
            yaw_rate=np.zeros(frames),
            stance=np.full(frames, BOTH, dtype=np.int64),
            lift=np.zeros(frames),
            flight_velocity=np.zeros((frames, 2)),
        )

    @property
    def frames(self) -> int:
        return self.angles.shape[0]


def concatenate(tracks: list[Track], *, blend: int) -> Track:
    """Play tracks one after another, cross-fading ``blend`` frames at each joint.

    The last ``blend`` frames of one track and the first ``blend`` of the next overlap;
    angles, lean, yaw rate and lift are linearly blended there, and the stance switches
    at the middle of the overlap.
    """
    out = tracks[0]
    for nxt in tracks[1:]:
        k = min(blend, out.frames - 1, nxt.frames - 1)
        w = (np.arange(k) + 0.5) / k  # weights of the next track in the overlap
        fields = {}
        for name in ("angles", "pitch", "roll", "yaw_rate", "lift", "flight_velocity"):
            a, b = getattr(out, name), getattr(nxt, name)
            ww = w.reshape((k,) + (1,) * (a.ndim - 1))
            mixed = (1 - ww) * a[-k:] + ww * b[:k]
            fields[name] = np.concatenate((a[:-k], mixed, b[k:]))
        stance = np.where(w < 0.5, out.stance[-k:], nxt.stance[:k])
        fields["stance"] = np.concatenate((out.stance[:-k], stance, nxt.stance[k:]))
        out = Track(**fields)
    return out


def _root_matrix(track: Track, heading: np.ndarray) -> np.ndarray:
    """R_y(heading) R_x(pitch) R_z(roll): [T, 3, 3] (R_z(+a) tips +Y towards -X, the
    body's right)."""
    lean = euler_to_matrix(np.stack((track.pitch, np.zeros_like(track.pitch), track.roll), 1))
    return nr.yaw_matrix(heading) @ lean


def solve_root(
    track: Track,
    *,
    fps: float,
    betas: np.ndarray,
    start_heading: float = 0.0,
) -> SMPLMotion:
    """SMPL parameters of a track: rotations from its angles, transl from the feet
    (module docstring); the first frame's anchor foot starts at x = z = 0."""
    frames = track.frames
    heading = start_heading + np.concatenate(([0.0], np.cumsum(track.yaw_rate[:-1])))
    root = _root_matrix(track, heading)
    body = euler_to_matrix(track.angles)
    rotmats = np.concatenate((root[:, None], body), axis=1)
    joints = nr.forward_kinematics(rotmats, _REST, BODY_PARENTS)[0]  # transl = 0
    transl = np.zeros((frames, 3))
    transl[:, 1] = -joints[..., 1].min(axis=1) + track.lift

    anchor_foot = LEFT if track.stance[0] != RIGHT else RIGHT
    anchor = np.zeros(2)  # world xz of the current anchor point
    xz = np.zeros((frames, 2))
    yaw = nr.yaw_matrix(heading)[:, [0, 2]][:, :, [0, 2]]  # [T, 2, 2] on (x, z)
    points = {
        side: joints[:, list(j)][..., [0, 2]].mean(axis=1) for side, j in _ANCHOR_JOINTS.items()
    }
    # Runs of frames with the same stance label.
    change = np.flatnonzero(np.diff(track.stance)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [frames]))
    points[FLIGHT] = (points[LEFT] + points[RIGHT]) / 2  # both feet fly together
    for start, end in zip(starts, ends):
        label = int(track.stance[start])
        foot = anchor_foot if label == BOTH else label
        # Continuity: the root at `start` is where the previous rule puts it; anchor the
        # new point where it is then.
        root_at_start = np.zeros(2) if start == 0 else anchor - points[anchor_foot][start]
        anchor = root_at_start + points[foot][start]
        if label == FLIGHT:
            # In the air the feet's midpoint moves with the flight velocity (in place: it
            # lands where it took off).
            step = np.einsum("tij,tj->ti", yaw[start:end], track.flight_velocity[start:end]) / fps
            path = anchor + np.cumsum(step, axis=0) - step[0]
            xz[start:end] = path - points[FLIGHT][start:end]
            anchor = path[-1] + step[-1]  # where the midpoint would be one frame later
            anchor_foot = FLIGHT
            continue
        anchor_foot = foot
        xz[start:end] = anchor - points[foot][start:end]
    transl[:, [0, 2]] = xz - xz[0]
    pose = nr.matrix_to_axis_angle(rotmats)
    return SMPLMotion(
        global_orient=pose[:, 0].astype(np.float32),
        body_pose=pose[:, 1:].astype(np.float32),
        transl=transl.astype(np.float32),
        betas=np.asarray(betas, dtype=np.float32),
        fps=fps,
    )
