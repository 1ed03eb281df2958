"""Foot skating, ground penetration and jitter on hand-built joint trajectories."""

import numpy as np
import pytest

from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS
from vhdiff.motion.metrics import (
    foot_skating_ratio,
    ground_penetration,
    jitter,
    physical_metrics,
)

FPS = 20.0


def standing(frames: int, foot_height: float = 0.02) -> np.ndarray:
    """The rest skeleton [T, 22, 3], its lowest joint (a foot) `foot_height` above y = 0."""
    rest = np.array(SMPL_NEUTRAL_REST_JOINTS)
    rest[:, 1] += foot_height - rest[:, 1].min()
    return np.repeat(rest[None], frames, axis=0)


def test_planted_feet_do_not_skate():
    assert foot_skating_ratio(standing(40), fps=FPS) == 0.0


def test_a_foot_sliding_on_the_ground_skates_every_frame():
    clip = standing(40)
    clip[:, 10, 0] += np.arange(40) * (1.0 / FPS)  # left foot slides at 1 m/s along x
    assert foot_skating_ratio(clip, fps=FPS) == 1.0
    # the same slide in the air, or too slow, is not skating
    lifted = clip.copy()
    lifted[:, 10, 1] += 0.2
    assert foot_skating_ratio(lifted, fps=FPS) == 0.0
    slow = standing(40)
    slow[:, 11, 2] += np.arange(40) * (0.2 / FPS)
    assert foot_skating_ratio(slow, fps=FPS) == 0.0


def test_skating_ratio_counts_the_sliding_part_of_the_clip():
    clip = standing(41)
    clip[20:, 11, 2] += np.arange(21) * (1.0 / FPS)  # right foot slides for the last 20 moves
    ratio = foot_skating_ratio(clip, fps=FPS)
    # 20 of 40 transitions slide; the window average may miss at most one at the onset
    assert ratio == pytest.approx(0.5, abs=1 / 40)


def test_whole_body_translation_with_feet_on_the_ground_skates():
    clip = standing(30)
    clip[..., 2] += np.arange(30)[:, None] * (0.8 / FPS)  # the whole body glides forward
    assert foot_skating_ratio(clip, fps=FPS) == 1.0


def test_ground_penetration_is_the_mean_depth_of_the_lowest_joint():
    assert ground_penetration(standing(10)) == 0.0
    clip = standing(10, foot_height=0.0)
    clip[:5, :, 1] -= 0.1  # the first half of the frames sink 10 cm
    assert ground_penetration(clip) == pytest.approx(0.05)


def test_jitter_is_zero_for_constant_velocity_and_six_for_a_unit_cubic():
    clip = standing(30)
    clip[..., 0] += np.arange(30)[:, None] * 0.05
    assert jitter(clip, fps=FPS) == pytest.approx(0.0, abs=1e-6)
    t = np.arange(30) / FPS
    cubic = standing(30)
    cubic[..., 1] += (t**3)[:, None]  # every joint moves as t^3: jerk = 6 m/s^3
    assert jitter(cubic, fps=FPS) == pytest.approx(6.0, rel=1e-6)


def test_batches_use_lengths_and_average_clips():
    still, sliding = standing(40), standing(40)
    sliding[:, 10, 0] += np.arange(40) * (1.0 / FPS)
    batch = np.stack([still, sliding])
    batch[0, 20:] = 1e3  # padding garbage beyond the first clip's length is ignored
    assert foot_skating_ratio(batch, fps=FPS, lengths=[20, 40]) == 0.5
    metrics = physical_metrics(batch, fps=FPS, lengths=[20, 40])
    assert metrics.skating_ratio == 0.5 and metrics.penetration == 0.0
    assert metrics.jitter == pytest.approx(0.0, abs=1e-6)
    assert set(metrics.as_dict()) == {"skating_ratio", "penetration", "jitter"}


def test_physical_metrics_bad_input():
    with pytest.raises(ValueError, match="J >= 22"):
        jitter(np.zeros((10, 5, 3)), fps=FPS)
    with pytest.raises(ValueError, match="at least 4 frames"):
        jitter(standing(3), fps=FPS)
    with pytest.raises(ValueError, match="fps must be > 0"):
        foot_skating_ratio(standing(5), fps=0)
    with pytest.raises(ValueError, match="one length per clip"):
        ground_penetration(np.stack([standing(5)] * 2), lengths=[5])
    with pytest.raises(ValueError, match="one length per clip"):
        ground_penetration(np.stack([standing(5)] * 2), lengths=[5, 6])
    with pytest.raises(ValueError, match="odd number"):
        foot_skating_ratio(standing(5), fps=FPS, window=4)
