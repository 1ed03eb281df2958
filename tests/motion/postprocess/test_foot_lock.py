"""Foot locking (vhdiff.motion.postprocess.foot_lock): planted feet stop sliding, nothing else changes."""

from __future__ import annotations

import numpy as np
import pytest

from vhdiff.body import SMPLMotion
from vhdiff.motion.metrics.physical import foot_skating_ratio
from vhdiff.motion.postprocess.foot_lock import lock_feet
from vhdiff.motion.representation.smpl import (
    CONTACTS,
    FEATURE_DIM_NO_CONTACTS,
    ROOT_VELOCITY,
    YAW_VELOCITY,
    joints_from_features,
    to_features,
)

FPS = 20.0
LEFT_FOOT, RIGHT_FOOT = 10, 11


def _standing(frames: int = 60) -> np.ndarray:
    """Features [T, 140] of the rest pose standing still, feet on the ground (contacts on)."""
    transl = np.zeros((frames, 3), np.float32)
    motion = SMPLMotion(
        global_orient=np.zeros((frames, 3), np.float32),
        body_pose=np.zeros((frames, 21, 3), np.float32),
        transl=transl, betas=np.zeros(10, np.float32), fps=FPS,
    )  # fmt: skip
    features = to_features(motion).astype(np.float64)
    assert (features[:, CONTACTS] == 1).all()
    return features


def _knees_bent(frames: int) -> np.ndarray:
    """Like _standing, knees bent by 0.4 rad (hips and ankles -0.2: feet flat), so the legs
    can reach a little further: a straight leg cannot lengthen."""
    pose = np.zeros((frames, 21, 3), np.float32)
    pose[:, [0, 1], 0] = -0.2  # hips (SMPL joints 1, 2)
    pose[:, [3, 4], 0] = 0.4  # knees (4, 5)
    pose[:, [6, 7], 0] = -0.2  # ankles (7, 8)
    motion = SMPLMotion(
        global_orient=np.zeros((frames, 3), np.float32), body_pose=pose,
        transl=np.zeros((frames, 3), np.float32), betas=np.zeros(10, np.float32), fps=FPS,
    )  # fmt: skip
    features = to_features(motion).astype(np.float64)
    assert (features[:, CONTACTS] == 1).all()
    return features


def _foot_speed(features: np.ndarray, joint: int) -> np.ndarray:
    """Horizontal speed [T-1] (m/s) of one joint."""
    joints = joints_from_features(features, fps=FPS).astype(np.float64)
    return np.linalg.norm(np.diff(joints[:, joint][:, [0, 2]], axis=0), axis=-1) * FPS


def test_a_sliding_planted_body_is_held_still():
    features = _standing()
    features[:, ROOT_VELOCITY] = (0.3, 0.8)  # the whole body glides left-forward at 0.85 m/s
    before = joints_from_features(features, fps=FPS)
    assert foot_skating_ratio(before[None], fps=FPS) > 0.9
    locked = lock_feet(features, fps=FPS, smooth=1)
    assert _foot_speed(locked, LEFT_FOOT).max() < 1e-4
    assert _foot_speed(locked, RIGHT_FOOT).max() < 1e-4
    assert foot_skating_ratio(joints_from_features(locked, fps=FPS)[None], fps=FPS) == 0.0
    # only the root velocity channels changed
    changed = np.abs(locked - features.astype(np.float32)).max(axis=0) > 1e-6
    assert set(np.flatnonzero(changed)) <= {1, 2}


def test_turning_on_one_planted_foot_pivots_about_that_foot():
    features = _standing()
    features[:, YAW_VELOCITY] = 1.5  # turn left at 1.5 rad/s about the pelvis
    features[:, CONTACTS] = (1.0, 1.0, 0.0, 0.0)  # only the left foot is planted
    assert _foot_speed(features, LEFT_FOOT).mean() > 0.1  # the foot orbits the pelvis
    locked = lock_feet(features, fps=FPS, smooth=1)
    assert _foot_speed(locked, LEFT_FOOT).max() < 1e-4
    assert _foot_speed(locked, RIGHT_FOOT).mean() > 0.1  # the free foot swings round
    np.testing.assert_allclose(locked[:, YAW_VELOCITY], features[:, YAW_VELOCITY], atol=1e-6)


def test_no_contact_means_no_change():
    features = _standing()
    features[:, ROOT_VELOCITY] = (0.0, 1.2)
    features[:, CONTACTS] = 0.0
    np.testing.assert_allclose(lock_feet(features, fps=FPS), features, atol=1e-6)


def test_both_feet_planted_with_different_slides_remove_the_mean_at_the_root():
    features = _standing()
    features[:, YAW_VELOCITY] = 1.0  # the feet move in opposite directions about the pelvis
    locked = lock_feet(features, fps=FPS, smooth=1, legs=False)
    joints = joints_from_features(locked, fps=FPS).astype(np.float64)
    steps = np.diff(joints[:, [LEFT_FOOT, RIGHT_FOOT]][..., [0, 2]], axis=0)  # [T-1, 2, 2]
    np.testing.assert_allclose(steps.mean(axis=1), 0.0, atol=1e-6)
    assert np.linalg.norm(steps, axis=-1).max() > 1e-3  # a rotation cannot hold both


def test_leg_ik_holds_both_feet_of_a_turn_on_the_spot():
    features = _knees_bent(24)
    features[:, YAW_VELOCITY] = 1.0  # 1.15 rad over the clip: the feet orbit the pelvis
    before = joints_from_features(lock_feet(features, fps=FPS, legs=False), fps=FPS)
    locked = lock_feet(features, fps=FPS)
    after = joints_from_features(locked, fps=FPS).astype(np.float64)
    for foot in (LEFT_FOOT, RIGHT_FOOT):
        assert _foot_speed(features, foot).max() > 0.05  # each foot slid 5+ cm/s before
        assert _foot_speed(locked, foot).max() < 1e-4  # and stands still now
        # held at its mean spot, at its own height
        np.testing.assert_allclose(
            after[:, foot][:, [0, 2]], before[:, foot][:, [0, 2]].mean(0)[None].repeat(24, 0),
            atol=1e-6,
        )
        np.testing.assert_allclose(after[:, foot, 1], before[:, foot, 1], atol=1e-6)
    # only the root velocity and the hip, knee and ankle rotations changed; the pelvis,
    # heading and upper body are where they were
    changed = set(np.flatnonzero(np.abs(locked - features).max(axis=0) > 1e-6))
    legs = {10 + 6 * (j - 1) + k for j in (1, 2, 4, 5, 7, 8) for k in range(6)}
    assert changed <= {1, 2} | legs and changed & legs
    upper = [0, 3, 6, 9, *range(12, 22)]
    np.testing.assert_allclose(after[:, upper], before[:, upper], atol=1e-6)


def test_leg_ik_fades_in_and_out_around_a_stance():
    features = _knees_bent(40)
    features[:, YAW_VELOCITY] = 1.0
    features[:, CONTACTS] = 0.0
    features[10:30, CONTACTS] = (0.0, 1.0, 0.0, 1.0)  # both feet planted in frames 10..29
    leg_blocks = [10 + 6 * (j - 1) + k for j in (1, 4, 7) for k in range(6)]
    root_only = lock_feet(features, fps=FPS, legs=False)
    for blend in (0, 3):
        locked = lock_feet(features, fps=FPS, blend=blend)
        moved = np.abs(locked[:, leg_blocks] - root_only[:, leg_blocks]).max(axis=1) > 1e-6
        assert moved[11:29].all()  # pinned inside the stance
        # and faded over `blend` frames either side, untouched beyond
        assert not moved[: 10 - blend].any() and not moved[30 + blend :].any()
        assert moved[10 - blend : 30 + blend].all() or blend == 0
        assert _foot_speed(locked, LEFT_FOOT)[10:29].max() < 1e-4


def test_smoothing_keeps_a_long_contact_locked_and_eases_its_edges():
    features = _standing(80)
    features[:, ROOT_VELOCITY] = (0.0, 0.8)
    features[:, CONTACTS] = 0.0
    features[20:60, CONTACTS] = 1.0  # planted for frames 20..59
    locked = lock_feet(features, fps=FPS, smooth=5)
    speed = _foot_speed(locked, LEFT_FOOT)
    assert speed[24:56].max() < 1e-4  # locked in full away from the edges
    assert speed[:17].min() > 0.79 and speed[63:].min() > 0.79  # free before and after
    # the root velocity changes in steps of at most a third of the slide (triangle 1,2,3,2,1)
    jumps = np.abs(np.diff(locked[:, ROOT_VELOCITY][:-1, 1]))
    assert jumps.max() < 0.8 / 3 + 1e-4
    hard = lock_feet(features, fps=FPS, smooth=1)
    assert np.abs(np.diff(hard[:, ROOT_VELOCITY][:-1, 1])).max() > 0.79


def test_features_without_contacts_use_the_labelling_rule():
    features = _standing()[:, :FEATURE_DIM_NO_CONTACTS].copy()
    features[:, ROOT_VELOCITY] = (0.0, 0.3)  # a slow slide: the rule (< 0.5 m/s) calls it contact
    locked = lock_feet(features, fps=FPS, smooth=1)
    assert locked.shape == features.shape
    assert _foot_speed(locked, LEFT_FOOT).max() < 1e-4
    features[:, ROOT_VELOCITY] = (0.0, 1.0)  # fast: not a contact by the rule, left alone
    np.testing.assert_allclose(lock_feet(features, fps=FPS), features, atol=1e-6)


def test_real_clips_keep_their_ground_truth_motion(real_features):
    # ground truth plants its feet already: locking moves a foot by at most a few mm
    for features in real_features[:4]:
        locked = lock_feet(features, fps=FPS, smooth=1)
        a = joints_from_features(features, fps=FPS)
        b = joints_from_features(locked, fps=FPS)
        assert np.abs(a - b).max() < 0.05


@pytest.mark.parametrize("blend", [-1, 1.5, True])
def test_bad_blend_width_is_refused(blend):
    with pytest.raises(ValueError, match="blend must be a whole number"):
        lock_feet(_standing(10), blend=blend)


@pytest.mark.parametrize("smooth", [0, 2, -1, 3.0])
def test_bad_smoothing_width_is_refused(smooth):
    with pytest.raises(ValueError, match="smooth must be an odd number"):
        lock_feet(_standing(10), smooth=smooth)


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match=r"features must have shape \[T, 140\] or \[T, 136\]"):
        lock_feet(np.zeros((10, 12)))
    one = _standing(1)
    np.testing.assert_array_equal(lock_feet(one), one.astype(np.float32))


# ---------------------------------------------------------------- in the pipeline
LOCK_CHANNELS = [1, 2, *(10 + 6 * (j - 1) + k for j in (1, 2, 4, 5, 7, 8) for k in range(6))]


def test_the_pipeline_locks_only_the_root_velocity_and_legs_when_asked(planted_pipeline_dir):
    import torch

    from vhdiff.motion.pipeline import MotionPipeline, load_generate_fn

    pipe = MotionPipeline.from_pretrained(planted_pipeline_dir)
    prompts = ["a person walks forward", "a person jumps"]
    on = pipe(prompts, seconds=2.0, steps=3, seed=3, smoothing=0, foot_lock=True)
    off = pipe(prompts, seconds=2.0, steps=3, seed=3, smoothing=0)  # off by default
    moved = 0
    for a, b in zip(on, off, strict=True):
        np.testing.assert_array_equal(
            np.delete(a.features, LOCK_CHANNELS, axis=1),
            np.delete(b.features, LOCK_CHANNELS, axis=1),
        )
        np.testing.assert_allclose(a.features, lock_feet(b.features, fps=FPS), atol=1e-5)
        moved += int(np.abs(a.features[:, 1:3] - b.features[:, 1:3]).max() > 1e-4)
        np.testing.assert_allclose(a.joints, joints_from_features(a.features, fps=FPS), atol=1e-4)
    assert moved == 2  # the feet marked as planted were held
    # the evaluator's generator: off unless asked for
    raw = load_generate_fn(planted_pipeline_dir, stats=pipe.stats, steps=3, seed=7)
    locked = load_generate_fn(
        planted_pipeline_dir, stats=pipe.stats, steps=3, seed=7, foot_lock=True
    )
    x, y = raw(prompts, [30, 20]), locked(prompts, [30, 20])
    assert (y[1, 20:] == 0).all()
    keep = [c for c in range(x.shape[-1]) if c not in LOCK_CHANNELS]  # all but root and legs
    torch.testing.assert_close(x[..., keep], y[..., keep], atol=1e-6, rtol=0)
    assert not torch.allclose(x[..., 1:3], y[..., 1:3], atol=1e-4)
