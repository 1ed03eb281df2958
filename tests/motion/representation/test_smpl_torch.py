"""joints_from_features_torch (differentiable FK for the losses) against the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vhdiff.motion.representation.smpl import BODY_ROTATIONS, joints_from_features
from vhdiff.motion.representation.smpl_torch import joints_from_features_torch


def _batch(features: list[np.ndarray], frames: int) -> torch.Tensor:
    return torch.as_tensor(np.stack([f[:frames] for f in features]), dtype=torch.float32)


def test_torch_joints_equal_numpy_reference_on_real_motions(real_features):
    frames = min(f.shape[0] for f in real_features)
    assert frames >= 40 and len(real_features) == 12
    x = _batch(real_features, frames)
    got = joints_from_features_torch(x, fps=20.0).numpy()
    assert got.shape == (12, frames, 22, 3)
    want = np.stack([joints_from_features(f[:frames], fps=20.0) for f in real_features])
    assert np.abs(got - want).max() < 1e-4
    # the clips move: a broken integration (e.g. no root travel) would not pass by accident
    assert np.abs(want[:, -1, 0] - want[:, 0, 0]).max() > 0.5


def test_136_dim_features_give_the_same_joints(real_features):
    x = _batch(real_features[:3], min(f.shape[0] for f in real_features[:3]))
    np.testing.assert_allclose(
        joints_from_features_torch(x[..., :136]).numpy(), joints_from_features_torch(x).numpy(), atol=1e-6
    )


def test_gradients_reach_body_rotations(real_features):
    x = _batch(real_features[:2], 30).requires_grad_(True)
    joints = joints_from_features_torch(x)
    joints[:, :, 20:22].sum().backward()  # the wrists depend on the arm chain's rotations
    grad = x.grad
    assert torch.isfinite(grad).all()
    body = grad[..., BODY_ROTATIONS]
    assert body.abs().sum() > 0
    # left shoulder (SMPL joint 16) moves the left wrist: its 6D block gets gradient
    shoulder = BODY_ROTATIONS.start + (16 - 1) * 6
    assert grad[..., shoulder:shoulder + 6].abs().sum() > 0
    assert grad[..., 136:].abs().sum() == 0  # contacts are labels, not geometry


@pytest.mark.parametrize("shape", [(10, 140), (1, 10, 99)])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=r"\[B, T, 140\]"):
        joints_from_features_torch(torch.zeros(shape))
