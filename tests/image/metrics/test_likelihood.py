"""Bits/dim through the variational bound: its parts, the null condition, and its checks."""

import numpy as np
import pytest
import torch

from tests.image_fixtures import TINY_DIFFUSION, GaussianOracle, tiny_unet
from vhdiff.diffusion import GaussianDiffusion
from vhdiff.image.metrics.likelihood import bits_per_dim


def images(n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)


def test_total_is_prior_plus_kl_terms_plus_decoder():
    torch.manual_seed(0)
    model = tiny_unet(text=False).eval()
    diffusion = GaussianDiffusion.from_dict(TINY_DIFFUSION)
    bpd = bits_per_dim(diffusion, model, images(), batch_size=2)
    assert bpd.num == 3 and bpd.total_se > 0
    assert bpd.total == pytest.approx(bpd.prior + bpd.diffusion + bpd.decoder, rel=1e-9)
    assert 0 < bpd.prior < 0.05 and bpd.decoder > 0 and bpd.diffusion > 0
    # the same seed, the same estimate; another seed, another draw of x_t
    assert bits_per_dim(diffusion, model, images(), batch_size=2).total == pytest.approx(bpd.total, rel=1e-9)
    assert bits_per_dim(diffusion, model, images(), seed=1).total != bpd.total


def test_the_bound_prefers_the_models_own_data_and_stays_above_its_entropy():
    """Under the exact denoiser of x_0 ~ N(0, 0.25^2 I), images drawn from that Gaussian cost
    far fewer bits than uniform noise; the bound lies above the data's entropy (it is an upper
    bound on the NLL) and comes closer with more steps (a finer chain)."""
    rng = np.random.default_rng(0)
    gaussian = np.clip(np.round((rng.normal(0, 0.25, (4, 32, 32, 3)) + 1) * 127.5), 0, 255).astype(np.uint8)
    bounds = {}
    for T in (100, 1000):
        diffusion = GaussianDiffusion.from_dict({"timesteps": T, "prediction": "eps", "decoder": "discretized"})
        oracle = GaussianOracle(diffusion.schedule.alphas_cumprod, s=0.25)
        bounds[T] = bits_per_dim(diffusion, oracle, gaussian).total
    assert bounds[100] < bits_per_dim(diffusion, oracle, images(4)).total - 1.0
    # entropy of N(0, (0.25 * 127.5)^2) on the integer grid: 0.5 log2(2 pi e sigma^2) ~ 7.04 bits
    entropy = 0.5 * np.log2(2 * np.pi * np.e * (0.25 * 127.5) ** 2)
    assert entropy < bounds[1000] < bounds[100] < entropy + 1.5, bounds


def test_a_conditional_model_is_scored_with_its_null_condition():
    torch.manual_seed(0)
    model = tiny_unet(text=True).eval()
    diffusion = GaussianDiffusion.from_dict(TINY_DIFFUSION)
    assert np.isfinite(bits_per_dim(diffusion, model, images(1)).total)  # no text needed


def test_refuses_continuous_decoders_and_bad_arrays():
    model = tiny_unet(text=False).eval()
    continuous = GaussianDiffusion.from_dict({**TINY_DIFFUSION, "decoder": "continuous"})
    with pytest.raises(ValueError, match="discretized decoder"):
        bits_per_dim(continuous, model, images(1))
    with pytest.raises(ValueError, match=r"uint8 \[N, H, W, 3\]"):
        bits_per_dim(GaussianDiffusion.from_dict(TINY_DIFFUSION), model, images(1).astype(np.float32))
