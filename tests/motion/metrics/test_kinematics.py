"""Kinematic distributions: exact values on motions whose speed, jerk, foot lift and root
speed are known; bad inputs are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from vhdiff.motion.metrics.kinematics import PERCENTILES, QUANTITIES, kinematic_distributions


def body(frames: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.broadcast_to(rng.normal(size=(1, 22, 3)), (frames, 22, 3)).copy()


def test_constant_velocity_has_its_speed_and_no_jerk():
    fps, frames = 20.0, 30
    clip = body(frames)
    clip += np.arange(frames)[:, None, None] * np.array([0.03, 0.0, 0.04])  # 1 m/s in xz
    clip[:, 10, 1], clip[:, 11, 1] = 0.0, 0.12  # right foot held 12 cm above the left one
    dist = kinematic_distributions([clip], fps=fps)
    assert dist.clips == 1 and dist.frames == frames
    np.testing.assert_allclose(dist.values["joint_speed"], 1.0)
    np.testing.assert_allclose(dist.values["root_speed"], 1.0)
    np.testing.assert_allclose(dist.values["jerk"], 0.0, atol=1e-9)
    np.testing.assert_allclose(dist.values["foot_clearance"], 0.12)
    assert set(dist.percentiles()) == set(QUANTITIES)
    assert list(dist.percentiles()["jerk"]) == list(PERCENTILES)


def test_cubic_path_has_its_jerk_and_clips_pool():
    fps = 10.0
    t = np.arange(12) / fps
    cubic = body(12) + (t**3)[:, None, None] * np.array([0.0, 1.0, 0.0])  # y = t^3: jerk 6
    still = body(5)
    dist = kinematic_distributions([cubic, still], fps=fps)
    assert dist.values["jerk"].shape == (9 + 2,)
    np.testing.assert_allclose(dist.values["jerk"][:9], 6.0, rtol=1e-9)
    np.testing.assert_allclose(dist.values["root_speed"], 0.0, atol=1e-12)  # vertical only


def test_bad_inputs():
    with pytest.raises(ValueError, match="fewer than 4 frames"):
        kinematic_distributions([body(3)], fps=20.0)
    with pytest.raises(ValueError, match=r"clips \[0\] have other shapes"):
        kinematic_distributions([np.zeros((10, 5, 3))], fps=20.0)
    with pytest.raises(ValueError, match="fps must be a positive"):
        kinematic_distributions([body(10)], fps=0.0)
