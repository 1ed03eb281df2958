"""PointCloudAutoencoder (encoder + latent-conditioned PointNetDenoiser) and the latent
condition of PointNetDenoiser."""

from __future__ import annotations

import pytest
import torch

from vhdiff.backbones import PointCloudAutoencoder, PointNetDenoiser


def _model(**kw) -> PointCloudAutoencoder:
    cfg = {"latent_dim": 8, "encoder_dims": (16, 32), "head_dims": (16,), "denoiser_encoder_dims": (16, 32),
           "denoiser_decoder_dims": (32,), "context_dim": 16}
    model = PointCloudAutoencoder(**{**cfg, **kw}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_the_code_ignores_point_order_and_count_and_drives_the_decoder() -> None:
    model = _model()
    shape = torch.randn(2, 200, 3)
    with torch.no_grad():
        z = model.encode(shape)
        assert z.shape == (2, 8)
        torch.testing.assert_close(model.encode(shape[:, torch.randperm(200)]), z, atol=1e-6, rtol=1e-6)
        x, t = torch.randn(2, 50, 3), torch.tensor([3, 600])
        out = model(x, t, shape=shape)
        assert out.shape == x.shape
        torch.testing.assert_close(model(x, t, latent=z), out)  # shape= is encode + latent=
        assert (model(x, t, latent=z.flip(0)) - out).abs().max() > 1e-4  # another code, another answer
        perm = torch.randperm(50)
        torch.testing.assert_close(model(x[:, perm], t, latent=z), out[:, perm], atol=1e-6, rtol=1e-5)


def test_every_parameter_learns_and_the_pair_with_learned_variance() -> None:
    model = _model(learn_variance=True).train()
    x = torch.randn(3, 20, 3)
    pred, v = model(x, torch.tensor([1, 2, 3]), shape=x)
    assert pred.shape == v.shape == x.shape
    (pred.square().mean() + v.square().mean()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    # the decoder's latent null is used only for a dropped condition, which training never asks
    assert missing == ["decoder.latent_embed.null"]


def test_round_trip(tmp_path) -> None:
    model = _model()
    loaded = PointCloudAutoencoder.from_pretrained(model.save_pretrained(tmp_path / "ae"))
    x = torch.randn(1, 30, 3)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, torch.tensor([7]), shape=x), model(x, torch.tensor([7]), shape=x))


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({}, "exactly one of shape"),
    ({"shape": torch.randn(2, 9, 3), "latent": torch.randn(2, 8)}, "exactly one of shape"),
    ({"latent": torch.randn(2, 5)}, "latent_dim=8"),
    ({"shape": torch.randn(2, 9, 2)}, "3 coordinates"),
    ({"shape": torch.randn(2, 0, 3)}, "no points"),
])
def test_bad_input_is_named(kwargs, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        _model()(torch.randn(2, 10, 3), torch.tensor([1, 2]), **kwargs)


def test_pointnet_latent_condition() -> None:
    model = PointNetDenoiser(encoder_dims=(8,), decoder_dims=(8,), context_dim=8, latent_dim=4)
    x, t = torch.randn(2, 10, 3), torch.tensor([1, 2])
    with torch.no_grad():
        z = torch.randn(2, 4)
        dropped = model(x, t, latent=z, cond_drop=torch.tensor([True, False]))
        torch.testing.assert_close(dropped[0], model(x, t)[0])
    with pytest.raises(ValueError, match="without a shape latent"):
        PointNetDenoiser(encoder_dims=(8,), decoder_dims=(8,), context_dim=8)(x, t, latent=z)
