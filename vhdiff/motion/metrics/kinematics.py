"""Distributions of simple kinematic quantities, to compare motion sets with real mocap.

Inputs as in :mod:`vhdiff.motion.metrics.physical`: joint positions in metres (Y up, the
ground at y = 0), the first 22 joints in SMPL order, one clip [T, J, 3] each, at `fps`.
Per frame (or frame transition) of every clip:

- joint speed: mean over the 22 joints of ||p_{t+1} - p_t|| * fps (m/s);
- jerk: mean over the joints of ||p_{t+3} - 3 p_{t+2} + 3 p_{t+1} - p_t|| * fps^3 (m/s^3;
  the per-frame values behind ``physical.jitter``, so both depend on fps alike);
- foot clearance: the height of the higher of the two foot joints (SMPL 10, 11) above the
  lower one's (m): about 0 with both feet down, the swing foot's lift in a step;
- root speed: the pelvis's horizontal (xz) speed ||p0_{t+1} - p0_t||_xz * fps (m/s).

:func:`kinematic_distributions` pools the values of all clips and reports percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PERCENTILES", "QUANTITIES", "KinematicDistributions", "kinematic_distributions"]

PERCENTILES: tuple[int, ...] = (10, 50, 90, 99)
QUANTITIES: dict[str, str] = {  # name -> unit
    "joint_speed": "m/s",
    "jerk": "m/s^3",
    "foot_clearance": "m",
    "root_speed": "m/s",
}
_FEET = (10, 11)


@dataclass(frozen=True)
class KinematicDistributions:
    """Pooled per-frame values of each quantity (QUANTITIES), and their percentiles.

    values: {name: [N] float64 values over all clips' frames}.
    clips, frames: how many clips and frames went in.
    """

    values: dict[str, np.ndarray]
    clips: int
    frames: int

    def percentiles(self) -> dict[str, dict[int, float]]:
        """{name: {p: value}} for p in PERCENTILES."""
        return {
            name: dict(zip(PERCENTILES, np.percentile(v, PERCENTILES).tolist(), strict=True))
            for name, v in self.values.items()
        }


def _clip_values(joints: np.ndarray, fps: float) -> dict[str, np.ndarray]:
    body = joints[:, :22]
    step = np.diff(body, axis=0)  # [T - 1, 22, 3]
    feet = body[:, list(_FEET), 1]  # [T, 2]
    return {
        "joint_speed": np.linalg.norm(step, axis=-1).mean(-1) * fps,
        "jerk": np.linalg.norm(np.diff(body, n=3, axis=0), axis=-1).mean(-1) * fps**3,
        "foot_clearance": feet.max(-1) - feet.min(-1),
        "root_speed": np.linalg.norm(step[:, 0, [0, 2]], axis=-1) * fps,
    }


def kinematic_distributions(clips: Sequence[np.ndarray], *, fps: float) -> KinematicDistributions:
    """Pool the per-frame quantities (module docstring) of clips [T_i, J >= 22, 3]
    (T_i >= 4, metres, at `fps`)."""
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    arrays = [np.asarray(c, dtype=np.float64) for c in clips]
    bad = [i for i, c in enumerate(arrays) if c.ndim != 3 or c.shape[1] < 22 or c.shape[2] != 3]
    if not arrays or bad:
        raise ValueError(
            f"need one or more clips of joints [T, J >= 22, 3]; clips {bad} have other shapes"
        )
    short = [i for i, c in enumerate(arrays) if c.shape[0] < 4]
    if short:
        raise ValueError(f"clips {short} have fewer than 4 frames (jerk needs 4)")
    per_clip = [_clip_values(c, fps) for c in arrays]
    values = {name: np.concatenate([v[name] for v in per_clip]) for name in QUANTITIES}
    return KinematicDistributions(
        values=values, clips=len(arrays), frames=int(sum(c.shape[0] for c in arrays))
    )
