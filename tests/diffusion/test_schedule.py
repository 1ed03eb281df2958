"""Schedules, the forward process, the posterior and the parametrizations."""

import math

import pytest
import torch

from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule

SCHEDULES = {
    "linear": NoiseSchedule.linear,
    "cosine": NoiseSchedule.cosine,
    "sigmoid": NoiseSchedule.sigmoid,
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_are_valid_and_float64(name):
    s = SCHEDULES[name](T=500)
    assert s.betas.dtype == torch.float64 and s.num_timesteps == 500
    assert (s.betas > 0).all() and (s.betas < 1).all()
    assert (s.alphas_cumprod[1:] < s.alphas_cumprod[:-1]).all()
    assert s.alphas_cumprod[-1] < 0.01  # the chain really ends near pure noise


def test_linear_matches_ddpm_paper_values():
    s = NoiseSchedule.linear(T=1000, beta_start=1e-4, beta_end=0.02)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    assert s.betas[500] == pytest.approx(1e-4 + 500 / 999 * (0.02 - 1e-4))


def test_cosine_follows_the_closed_form_and_clips():
    s = NoiseSchedule.cosine(T=1000, s=0.008, max_beta=0.999)
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
    for t in (0, 10, 500, 900):
        assert float(s.alphas_cumprod[t]) == pytest.approx(f((t + 1) / 1000) / f(0), rel=1e-9)
    assert float(s.betas.max()) == pytest.approx(0.999)  # the last betas are clipped


def test_zero_terminal_snr_rescaling():
    s = NoiseSchedule.linear().rescale_zero_terminal_snr()
    base = NoiseSchedule.linear()
    assert float(s.alphas_cumprod[-1]) == pytest.approx(0.0, abs=1e-12)
    assert float(s.alphas_cumprod[0]) == pytest.approx(float(base.alphas_cumprod[0]), rel=1e-9)
    assert s.has_zero_terminal_snr
    with pytest.raises(ValueError, match="prediction='v'"):
        GaussianDiffusion(s, prediction="eps")
    GaussianDiffusion(s, prediction="v")


def test_q_sample_moments():
    s = NoiseSchedule.cosine(T=1000)
    x0 = torch.tensor([[1.5, -0.7, 0.2]], dtype=torch.float64).expand(200_000, 3)
    g = torch.Generator().manual_seed(0)
    for ti in (0, 250, 999):
        t = torch.full((x0.shape[0],), ti, dtype=torch.long)
        xt = s.q_sample(x0, t, generator=g)
        ab = float(s.alphas_cumprod[ti])
        assert torch.allclose(xt.mean(0), math.sqrt(ab) * x0[0], atol=0.01)
        assert torch.allclose(xt.var(0), torch.full((3,), 1 - ab, dtype=torch.float64), rtol=0.02)


@pytest.mark.parametrize("ti", [1, 10, 300, 998])
def test_posterior_equals_bayes_rule_numerically(ti):
    """q(x_{t-1} | x_t, x_0) proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0), on a 1-D grid."""
    s = NoiseSchedule.linear(T=1000)
    x0, xt = 0.8, -0.4
    beta, ab_prev = float(s.betas[ti]), float(s.alphas_cumprod[ti - 1])
    grid = torch.linspace(-6, 6, 400_001, dtype=torch.float64)
    log_lik = -((xt - math.sqrt(1 - beta) * grid) ** 2) / (2 * beta)
    log_prior = -((grid - math.sqrt(ab_prev) * x0) ** 2) / (2 * (1 - ab_prev))
    w = torch.softmax(log_lik + log_prior, dim=0)
    mean = (w * grid).sum()
    var = (w * (grid - mean) ** 2).sum()
    t = torch.tensor([ti])
    post = s.posterior(torch.tensor([[x0]], dtype=torch.float64), torch.tensor([[xt]], dtype=torch.float64), t)
    assert float(post.mean) == pytest.approx(float(mean), abs=1e-6)
    assert float(post.variance) == pytest.approx(float(var), rel=1e-4)
    assert float(post.log_variance) == pytest.approx(math.log(float(var)), abs=1e-4)


def test_posterior_log_variance_is_clipped_at_t0():
    s = NoiseSchedule.linear()
    assert float(s.posterior_variance[0]) == 0.0
    assert float(s.posterior_log_variance_clipped[0]) == pytest.approx(math.log(float(s.posterior_variance[1])))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_eps_x0_v_round_trips(dtype):
    s = NoiseSchedule.cosine()
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 5, 7, generator=g, dtype=dtype)
    eps = torch.randn(64, 5, 7, generator=g, dtype=dtype)
    t = torch.randint(0, 980, (64,), generator=g)
    xt = s.q_sample(x0, t, eps)
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    assert torch.allclose(s.predict_x0(xt, t, eps), x0, atol=tol * 50)
    assert torch.allclose(s.predict_eps(xt, t, x0), eps, atol=tol * 50)
    v = s.velocity(x0, eps, t)
    assert torch.allclose(s.x0_from_v(xt, t, v), x0, atol=tol)
    assert torch.allclose(s.eps_from_v(xt, t, v), eps, atol=tol)
    assert s.predict_x0(xt, t, eps).dtype == dtype


def test_snr():
    s = NoiseSchedule.linear()
    t = torch.tensor([0, 999])
    ab = s.alphas_cumprod[t]
    assert torch.allclose(s.snr(t), ab / (1 - ab))


def test_respace_keeps_alpha_bar_at_kept_steps():
    s = NoiseSchedule.cosine()
    sub, ts_map = s.respace([999, 0, 500, 250, 750])
    assert ts_map.tolist() == [0, 250, 500, 750, 999]
    assert torch.allclose(sub.alphas_cumprod, s.alphas_cumprod[ts_map])


def test_from_betas_and_bad_values():
    s = NoiseSchedule.from_betas([0.1, 0.2, 0.3])
    assert s.num_timesteps == 3
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        NoiseSchedule.from_betas([0.1, -0.2])
    with pytest.raises(ValueError, match="only the last beta"):
        NoiseSchedule.from_betas([1.0, 0.2])
    with pytest.raises(ValueError, match="positive int"):
        NoiseSchedule.linear(T=0)
    with pytest.raises(ValueError, match="beta_start"):
        NoiseSchedule.linear(beta_start=0.1, beta_end=0.01)
