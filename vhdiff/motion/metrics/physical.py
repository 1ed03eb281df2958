"""Physical plausibility of joint trajectories: foot skating, ground penetration, jitter.

Inputs are joint positions in metres in the SMPL canonical frame (Y up, the ground the
plane y = `ground`), the first 22 joints in SMPL order (`vhdiff.body.skeleton`), at
`fps` frames per second: one clip [T, J, 3] or a padded batch [B, T, J, 3] with
`lengths` [B]. Batch values are the mean of the per-clip values (each clip counts once).

Definitions (ours, stated so numbers can be compared):

- Foot skating ratio, after the definition used by GMD (Karunratanakul et al. 2023,
  `calculate_skating_ratio`) on HumanML3D joints: for each foot joint (SMPL 10 left
  foot, 11 right foot) and each pair of consecutive frames (t, t+1), the foot is in
  contact when its height is below `contact_height` = 0.05 m at both frames, and it
  skates when in contact while its horizontal speed ||p_{t+1} - p_t||_xz * fps exceeds
  `speed` = 0.5 m/s, both at t and on average over a centred window of `window` = 5
  transitions (truncated at the clip ends; GMD pads with zeros instead). The ratio is
  the fraction of the T - 1 transitions in which either foot skates.
- Ground penetration: per frame, how far the lowest joint is below the ground,
  max(0, ground - min_j y_j) in metres, averaged over the frames (0 for a clip that
  never goes under the ground).
- Jitter: the mean over joints and frames of the jerk magnitude, the third derivative of
  position by finite differences: ||p_{t+3} - 3 p_{t+2} + 3 p_{t+1} - p_t|| * fps^3,
  in m/s^3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from vhdiff.metrics.inputs import as_float64

__all__ = [
    "FOOT_CONTACT_JOINTS",
    "PhysicalMetrics",
    "foot_skating_ratio",
    "ground_penetration",
    "jitter",
    "physical_metrics",
]

FOOT_CONTACT_JOINTS: tuple[int, int] = (10, 11)  # SMPL left_foot, right_foot (GMD's [10, 11])
_UP = 1  # Y up


@dataclass(frozen=True)
class PhysicalMetrics:
    """Batch means: skating ratio in [0, 1], penetration in m, jitter in m/s^3."""

    skating_ratio: float
    penetration: float
    jitter: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _clips(joints: object, lengths: Sequence[int] | None, min_frames: int) -> list[np.ndarray]:
    """Split [T, J, 3] or [B, T, J, 3] (+ lengths) into a list of [T_i, J, 3] float64 clips."""
    x = as_float64(joints, name="joints")
    if x.ndim == 3:
        x = x[None]
        if lengths is not None and len(lengths) != 1:
            raise ValueError(f"one clip [T, J, 3] was given but {len(lengths)} lengths")
    if x.ndim != 4 or x.shape[-1] != 3 or x.shape[2] < 22:
        raise ValueError(
            "joints must be [T, J, 3] or [B, T, J, 3] positions in metres with J >= 22 SMPL "
            f"body joints; got shape {tuple(x.shape)}"
        )
    if lengths is None:
        lengths = [x.shape[1]] * x.shape[0]
    lengths = [int(n) for n in lengths]
    if len(lengths) != x.shape[0] or any(n > x.shape[1] for n in lengths):
        raise ValueError(
            f"lengths {lengths[:8]} do not fit joints of shape {tuple(x.shape)}: "
            "give one length per clip, each <= T"
        )
    if any(n < min_frames for n in lengths):
        raise ValueError(
            f"this metric needs clips of at least {min_frames} frames; got lengths "
            f"down to {min(lengths)}. Drop shorter clips before evaluating"
        )
    return [x[i, :n] for i, n in enumerate(lengths)]


def _check_fps(fps: float) -> float:
    if not fps > 0:
        raise ValueError(f"fps must be > 0 (frames per second of the joints), got {fps}")
    return float(fps)


def _clip_skating(
    clip: np.ndarray,
    fps: float,
    foot_joints: Sequence[int],
    contact_height: float,
    speed: float,
    window: int,
    ground: float,
) -> float:
    feet = clip[:, list(foot_joints)]  # [T, F, 3]
    height = feet[..., _UP] - ground
    horizontal = np.delete(feet, _UP, axis=-1)
    velocity = np.linalg.norm(np.diff(horizontal, axis=0), axis=-1) * fps  # [T-1, F]
    contact = (height[:-1] < contact_height) & (height[1:] < contact_height)
    # centred moving average, truncated at the clip ends
    kernel = np.ones(window)
    pad = window // 2
    sums = np.stack(
        [np.convolve(v, kernel, mode="full")[pad : pad + len(v)] for v in velocity.T], axis=1
    )
    counts = np.convolve(np.ones(len(velocity)), kernel, mode="full")[pad : pad + len(velocity)]
    average = sums / counts[:, None]
    skating = contact & (velocity > speed) & (average > speed)
    return float(skating.any(axis=1).mean())


def foot_skating_ratio(
    joints: object,
    *,
    fps: float,
    lengths: Sequence[int] | None = None,
    foot_joints: Sequence[int] = FOOT_CONTACT_JOINTS,
    contact_height: float = 0.05,
    speed: float = 0.5,
    window: int = 5,
    ground: float = 0.0,
) -> float:
    """Fraction of frame transitions in which a foot near the ground slides (module docstring)."""
    fps = _check_fps(fps)
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd number of transitions >= 1, got {window}")
    clips = _clips(joints, lengths, min_frames=2)
    return float(
        np.mean(
            [
                _clip_skating(c, fps, foot_joints, contact_height, speed, window, ground)
                for c in clips
            ]
        )
    )


def ground_penetration(
    joints: object, *, lengths: Sequence[int] | None = None, ground: float = 0.0
) -> float:
    """Mean depth (m) of the lowest joint below the ground, over frames (module docstring)."""
    clips = _clips(joints, lengths, min_frames=1)
    return float(
        np.mean([np.clip(ground - c[..., _UP].min(axis=1), 0.0, None).mean() for c in clips])
    )


def jitter(joints: object, *, fps: float, lengths: Sequence[int] | None = None) -> float:
    """Mean joint jerk magnitude in m/s^3 (third finite difference * fps^3)."""
    fps = _check_fps(fps)
    clips = _clips(joints, lengths, min_frames=4)
    return float(
        np.mean([np.linalg.norm(np.diff(c, n=3, axis=0), axis=-1).mean() * fps**3 for c in clips])
    )


def physical_metrics(
    joints: object, *, fps: float, lengths: Sequence[int] | None = None, ground: float = 0.0
) -> PhysicalMetrics:
    """All three physical metrics of a clip or a padded batch (clips of >= 4 frames)."""
    return PhysicalMetrics(
        skating_ratio=foot_skating_ratio(joints, fps=fps, lengths=lengths, ground=ground),
        penetration=ground_penetration(joints, lengths=lengths, ground=ground),
        jitter=jitter(joints, fps=fps, lengths=lengths),
    )
