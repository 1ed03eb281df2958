"""MotionGeometryLoss (MDM eq. 5-7 as a trainer loss hook) on real features of the built-in set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vhdiff.body.rotations import matrix_to_rotation_6d, rotation_6d_to_matrix
from vhdiff.body.skeleton import FOOT_JOINTS
from vhdiff.motion.representation.smpl import BODY_ROTATIONS, CONTACTS, joints_from_features
from vhdiff.motion.representation.stats import FeatureStats
from vhdiff.motion.training.losses import MotionGeometryLoss, motion_geometry_hook
from vhdiff.training.trainer import LossContext

LEFT_KNEE = 4  # SMPL joint index


@pytest.fixture(scope="module")
def stats(tiny_set):
    return FeatureStats.load(tiny_set / "feature_stats.npz")


@pytest.fixture(scope="module")
def raw(real_features):
    """The two real clips [2, T, 140] (denormalised) that travel furthest (their feet move),
    cropped to the shorter one."""
    travel = [np.abs(f[:, 1:3]).sum() for f in real_features]
    clips = [real_features[i] for i in np.argsort(travel)[-2:]]
    frames = min(f.shape[0] for f in clips)
    return np.stack([f[:frames] for f in clips])


def ctx(stats, x0_raw, pred_raw, mask=None) -> LossContext:
    norm = lambda a: torch.as_tensor(stats.normalize(a), dtype=torch.float32)
    x0, pred = norm(x0_raw), norm(pred_raw)
    return LossContext(x0=x0, pred_x0=pred, t=torch.zeros(len(x0), dtype=torch.long), mask=mask, batch={})


def bend_knee(raw: np.ndarray, angle: float) -> np.ndarray:
    """raw with the left knee's local rotation turned by a further `angle` rad about X."""
    out = raw.copy()
    start = BODY_ROTATIONS.start + (LEFT_KNEE - 1) * 6
    knee = rotation_6d_to_matrix(torch.as_tensor(raw[..., start:start + 6]))
    c, s = np.cos(angle), np.sin(angle)
    turn = torch.tensor([[1.0, 0, 0], [0, c, -s], [0, s, c]], dtype=knee.dtype)
    out[..., start:start + 6] = matrix_to_rotation_6d(knee @ turn).numpy()
    return out


def test_zero_when_prediction_is_the_data(stats, raw):
    loss = MotionGeometryLoss(stats=stats, foot_contact=0.0)(ctx(stats, raw, raw))
    assert loss.shape == (2,)
    assert loss.abs().max() == 0.0
    # the foot term alone is the data's own foot sliding under its contact labels (small)
    foot = MotionGeometryLoss(stats=stats, position=0.0, velocity=0.0)(ctx(stats, raw, raw))
    torch.testing.assert_close(MotionGeometryLoss(stats=stats)(ctx(stats, raw, raw)), foot)
    assert foot.max() < 1e-5


def test_a_bent_leg_costs_more_the_more_it_is_bent(stats, raw):
    hook = MotionGeometryLoss(stats=stats)
    small = hook(ctx(stats, raw, bend_knee(raw, 0.3)))
    large = hook(ctx(stats, raw, bend_knee(raw, 1.2)))
    assert (small > 1e-5).all()
    assert (large > 2 * small).all()


def test_position_term_is_the_mean_squared_joint_error(stats, raw):
    """L_pos = mean over frames, joints, coordinates of (J(x0) - J(x0_hat))^2 (MDM eq. 5)."""
    pred = bend_knee(raw, 0.8)
    loss = MotionGeometryLoss(stats=stats, velocity=0.0, foot_contact=0.0)(ctx(stats, raw, pred))
    want = [np.mean((joints_from_features(a) - joints_from_features(b)) ** 2) for a, b in zip(raw, pred)]
    np.testing.assert_allclose(loss.numpy(), want, rtol=1e-3)


def test_foot_term_penalises_foot_motion_only_where_contact_is_predicted(stats, raw):
    hook = MotionGeometryLoss(stats=stats, position=0.0, velocity=0.0, foot_contact=1.0)
    no_contact = raw.copy()
    no_contact[..., CONTACTS] = 0.0
    assert hook(ctx(stats, raw, no_contact)).abs().max() < 1e-8  # feet move but nothing is planted

    rng = np.random.default_rng(0)
    pred = raw.copy()
    pred[..., CONTACTS] = rng.choice([-0.5, 0.0, 0.3, 1.0, 1.7], size=pred[..., CONTACTS].shape)
    loss = hook(ctx(stats, raw, pred)).numpy()
    for b in range(2):  # MDM eq. 6 with the predicted contacts clamped to [0, 1]
        joints = joints_from_features(pred[b])[:, list(FOOT_JOINTS)]
        vel = joints[1:] - joints[:-1]  # [T-1, 4, 3]
        weight = np.clip(pred[b, :-1, CONTACTS], 0.0, 1.0)[..., None]
        want = np.mean((vel * weight) ** 2)
        assert want > 1e-7
        assert loss[b] == pytest.approx(want, rel=1e-3)


def test_contact_channel_gets_no_gradient(stats, raw):
    c = ctx(stats, raw, bend_knee(raw, 0.5))
    c.pred_x0.requires_grad_(True)
    MotionGeometryLoss(stats=stats)(c).sum().backward()
    grad = c.pred_x0.grad
    assert torch.isfinite(grad).all()
    assert grad[..., CONTACTS].abs().sum() == 0
    knee = BODY_ROTATIONS.start + (LEFT_KNEE - 1) * 6
    assert grad[..., knee:knee + 6].abs().sum() > 0


def test_padded_frames_do_not_count(stats, raw):
    hook = MotionGeometryLoss(stats=stats)
    pred = bend_knee(raw, 0.6)
    T = raw.shape[1]
    base = hook(ctx(stats, raw[:, : T - 10], pred[:, : T - 10]))
    garbage_x0, garbage_pred = raw.copy(), pred.copy()
    rng = np.random.default_rng(1)
    garbage_x0[:, T - 10:] = rng.normal(scale=5.0, size=garbage_x0[:, T - 10:].shape)
    garbage_pred[:, T - 10:] = rng.normal(scale=5.0, size=garbage_pred[:, T - 10:].shape)
    mask = torch.arange(T)[None].expand(2, -1) < T - 10
    masked = hook(ctx(stats, garbage_x0, garbage_pred, mask=mask))
    torch.testing.assert_close(masked, base, rtol=1e-5, atol=1e-9)
    assert not torch.allclose(hook(ctx(stats, garbage_x0, garbage_pred)), base)  # without the mask it counts


def test_bf16_autocast_does_not_change_the_loss(stats, raw):
    hook = MotionGeometryLoss(stats=stats)
    c = ctx(stats, raw, bend_knee(raw, 0.4))
    fp32 = hook(c)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = hook(c)
        low = hook._loss(c)  # the same computation WITHOUT the hook's fp32 guard
    assert under.dtype == torch.float32
    torch.testing.assert_close(under, fp32, rtol=1e-6, atol=0.0)
    # the guard matters: bf16 matmuls in the forward kinematics shift the loss
    assert not torch.allclose(low.float(), fp32, rtol=1e-3, atol=0.0)


@pytest.mark.parametrize("name", ["position", "velocity", "foot_contact"])
def test_negative_weight_is_refused(stats, name):
    with pytest.raises(ValueError, match=f"weight {name} must be >= 0"):
        MotionGeometryLoss(stats=stats, **{name: -0.1})


def test_hook_factory_reads_the_stats_file_and_checks_dims(tiny_set, stats, raw):
    hook = motion_geometry_hook(stats=tiny_set / "feature_stats.npz", velocity=0.0)
    c = ctx(stats, raw, bend_knee(raw, 0.5))
    torch.testing.assert_close(hook(c), MotionGeometryLoss(stats=stats, velocity=0.0)(c))
    c.x0, c.pred_x0 = c.x0[..., :136], c.pred_x0[..., :136]
    with pytest.raises(ValueError, match="feature_stats.npz"):
        hook(c)
