"""PointNetDenoiser specifics: permutation equivariance, any N, point_dim, bad input."""

from __future__ import annotations

import pytest
import torch

from vhdiff.backbones import PointNetDenoiser


def _model(**kw) -> PointNetDenoiser:
    cfg = {"encoder_dims": (32, 64), "decoder_dims": (64, 32), "context_dim": 32, "cond_dim": 8}
    model = PointNetDenoiser(**{**cfg, **kw}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


def test_permutation_equivariance() -> None:
    model = _model()
    x, t, emb = torch.randn(3, 257, 3), torch.tensor([0, 300, 999]), torch.randn(3, 8)
    perm = torch.randperm(257)
    out = model(x, t, text_emb=emb)
    out_perm = model(x[:, perm], t, text_emb=emb)
    torch.testing.assert_close(out_perm, out[:, perm], rtol=1e-5, atol=1e-6)


def test_points_see_the_shape() -> None:
    """The global feature: moving one point changes the prediction at the others."""
    model = _model()
    x, t = torch.randn(1, 50, 3), torch.tensor([100])
    moved = x.clone()
    moved[0, 0] += 5.0
    diff = (model(moved, t) - model(x, t))[0, 1:]
    assert diff.abs().max() > 1e-4


@pytest.mark.parametrize("n", [1, 2, 31, 1001])
def test_any_number_of_points(n) -> None:
    model = _model()
    x = torch.randn(2, n, 3)
    assert model(x, torch.tensor([1, 2])).shape == x.shape


def test_point_dim_is_honoured() -> None:
    model = _model(point_dim=6, learn_variance=True)
    pred, v = model(torch.randn(2, 40, 6), torch.tensor([1, 2]))
    assert pred.shape == v.shape == (2, 40, 6)


def test_mask_leaves_padding_out() -> None:
    model = _model()
    x, t = torch.randn(2, 30, 3), torch.tensor([10, 20])
    mask = torch.ones(2, 30, dtype=torch.bool)
    mask[1, 18:] = False
    out = model(x, t, mask=mask)
    garbage = torch.where(mask[..., None], x, 100 * torch.randn_like(x))
    torch.testing.assert_close(model(garbage, t, mask=mask), out)
    torch.testing.assert_close(model(x[1:, :18], t[1:])[0], out[1, :18], rtol=1e-5, atol=1e-6)
    assert (out[1, 18:] == 0).all()


def test_default_configuration() -> None:
    n = sum(p.numel() for p in PointNetDenoiser().parameters())
    assert f"{n:,}" in PointNetDenoiser.__doc__


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"x_t": torch.randn(2, 10, 2)},
            r"x_t must have shape \[B, N, 3\]; got \[2, 10, 2\].*point_dim=3",
        ),
        ({"x_t": torch.randn(10, 3)}, r"x_t must have shape \[B, N, 3\]; got \[10, 3\]"),
        ({"text_emb": torch.randn(2, 7)}, r"text_emb must have shape \[2, 8\]; got \[2, 7\]"),
        ({"mask": torch.ones(2, 11)}, r"mask must have shape \[2, 10\]; got \[2, 11\]"),
        ({"t": torch.zeros(5, dtype=torch.long)}, r"t must have shape \[2\]"),
    ],
)
def test_bad_input_messages(kwargs, pattern) -> None:
    args = {"x_t": torch.randn(2, 10, 3), "t": torch.tensor([1, 2]), **kwargs}
    with pytest.raises(ValueError, match=pattern):
        _model()(**args)


def test_not_a_tensor_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="x_t must be a torch.Tensor"):
        _model()([[0.0, 0.0, 0.0]], torch.tensor([1]))


def test_a_sample_without_real_points_keeps_the_batch_finite() -> None:
    """An all-padding sample must not poison the batch (max-pool over nothing = -inf)."""
    model = _model().train()
    x, t = torch.randn(2, 12, 3), torch.tensor([3, 4])
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1] = False
    out = model(x, t, mask=mask)
    assert torch.isfinite(out).all() and (out[1] == 0).all()
    torch.testing.assert_close(out[0], model(x[:1], t[:1])[0])
    out.square().sum().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    bad = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    assert not bad, f"non-finite gradients: {bad}"


def test_pose_condition() -> None:
    model = _model(cond_dim=None, pose_dim=12)
    x, t = torch.randn(2, 40, 3), torch.tensor([10, 500])
    pose = torch.randn(2, 12)
    with torch.no_grad():
        posed = model(x, t, pose=pose)
        assert not torch.allclose(posed, model(x, t, pose=pose * 2))
        # dropped: exactly the null condition, as with no pose at all
        dropped = model(x, t, pose=pose, cond_drop=torch.tensor([True, False]))
        torch.testing.assert_close(dropped[0], model(x, t)[0])
        torch.testing.assert_close(dropped[1], posed[1])
    with pytest.raises(ValueError, match="pose_dim=12"):
        model(x, t, pose=torch.randn(2, 5))
    with pytest.raises(ValueError, match="without a pose condition"):
        _model()(x, t, pose=pose)


def test_voxel_branch_keeps_equivariance_and_sees_neighbours() -> None:
    model = _model(voxel_resolution=6, voxel_channels=8)
    x, t, emb = torch.randn(2, 300, 3), torch.tensor([5, 700]), torch.randn(2, 8)
    perm = torch.randperm(300)
    with torch.no_grad():
        out = model(x, t, text_emb=emb)
        torch.testing.assert_close(model(x[:, perm], t, text_emb=emb), out[:, perm], atol=1e-5, rtol=1e-5)
        assert model(x[:, :17], t, text_emb=emb).shape == (2, 17, 3)
        base = model.voxels(x, torch.randn(2, 300, 64), torch.randn(2, 32), None)
    assert base.shape == (2, 300, 8)


def test_voxel_grid_spans_each_clouds_real_points() -> None:
    from vhdiff.backbones.voxel_branch import VoxelBranch

    branch = VoxelBranch(in_dim=1, channels=1, ctx_dim=1, resolution=4)
    x = torch.tensor([[[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]])
    u = branch.grid_coordinates(x, None)
    assert u.min() >= 0 and u.max() < 1
    cells = (u * 4).long()
    assert torch.equal(cells[0, 0], torch.tensor([0, 0, 0])) and torch.equal(cells[0, 1], torch.tensor([3, 3, 3]))
    # a masked point is left out of the grid's centre and extent
    real = torch.tensor([[True, True, False, False]])
    far = x.clone()
    far[0, 2:] = 100.0
    torch.testing.assert_close(branch.grid_coordinates(far, real)[0, :2], u[0, :2])
