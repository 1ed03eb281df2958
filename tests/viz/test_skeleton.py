"""Stick figures: real pictures, chain colours on the correct sides, motion visible."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from vhdiff.viz.skeleton import CHAIN_COLORS, render_skeleton

from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS

REST = np.asarray(SMPL_NEUTRAL_REST_JOINTS)  # [22, 3], Y up, facing +Z


def colour_mask(frame: np.ndarray, hex_colour: str, tolerance: int = 40) -> np.ndarray:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.abs(frame.astype(int) - rgb).sum(-1) < tolerance


def test_frames_shape_and_content():
    joints = np.repeat(REST[None], 3, axis=0)
    frames = render_skeleton(joints, size=128, height=96)
    assert frames.shape == (3, 96, 128, 3) and frames.dtype == np.uint8
    assert frames[0].std() > 10
    for colour in CHAIN_COLORS:
        assert colour_mask(frames[0], colour).sum() > 5  # every chain is drawn


def test_left_arm_is_on_the_image_right_in_a_front_view():
    frame = render_skeleton(REST, size=160, azimuth=0.0, elevation=0.0, trajectory=False)[0]
    left_arm = np.nonzero(colour_mask(frame, CHAIN_COLORS[4]))[1]
    right_arm = np.nonzero(colour_mask(frame, CHAIN_COLORS[3]))[1]
    assert left_arm.mean() > 80 > right_arm.mean()  # not mirrored


def test_motion_changes_frames_and_draws_trajectory():
    walk = np.repeat(REST[None], 4, axis=0).copy()
    walk[:, :, 2] += np.linspace(0.0, 1.5, 4)[:, None]  # walks forward
    frames = render_skeleton(torch.as_tensor(walk), size=96)
    assert np.abs(frames[0].astype(int) - frames[3]).sum() > 0
    still = render_skeleton(np.repeat(REST[None], 2, axis=0), size=96, trajectory=False)
    assert np.array_equal(still[0], still[1])


def test_bad_joints():
    with pytest.raises(ValueError, match="22 SMPL body joints"):
        render_skeleton(np.zeros((2, 17, 3)))
    with pytest.raises(ValueError, match=r"\[T, J, 3\]"):
        render_skeleton(np.zeros((2, 22, 2)))
    with pytest.raises(ValueError, match="NaN"):
        render_skeleton(np.full((1, 22, 3), np.nan))
