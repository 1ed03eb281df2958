"""Exact denoisers for Gaussian data, where E[x_0 | x_t] has a closed form.

For x_0 ~ N(mu, Sigma) and x_t = a x_0 + b eps (a = sqrt(alpha_bar_t), b = sqrt(1 - alpha_bar_t)):
    E[x_0 | x_t] = mu + a Sigma (a^2 Sigma + b^2 I)^{-1} (x_t - a mu).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vhdiff.diffusion import NoiseSchedule


class GaussianOracle:
    """model(x_t [B, d], t [B]) -> the ideal eps / x0 / v prediction for N(mu, Sigma) data."""

    def __init__(self, schedule: NoiseSchedule, mu: Tensor, sigma: Tensor, prediction: str = "eps"):
        self.schedule = schedule
        self.mu = mu.double()
        self.sigma = sigma.double()
        self.prediction = prediction
        self.calls = 0

    def x0_mean(self, x_t: Tensor, t: Tensor) -> Tensor:
        a = self.schedule.sqrt_alphas_cumprod[t.cpu()].to(x_t.device)[:, None]
        centred = x_t.double() - a * self.mu
        if bool((t == t[0]).all()):  # one step of a sampler: one matrix for the whole batch
            return self.mu + centred @ self._gains[int(t[0])].T
        gain = self._gains[t.cpu()].to(x_t.device)  # [B, d, d]
        return self.mu + torch.einsum("bij,bj->bi", gain, centred)

    @property
    def _gains(self) -> Tensor:
        """a Sigma (a^2 Sigma + b^2 I)^{-1} for every t: [T, d, d], computed once."""
        if self._gain_table is None:
            ab = self.schedule.alphas_cumprod
            eye = torch.eye(self.mu.numel(), dtype=torch.float64)
            cov = ab[:, None, None] * self.sigma + (1 - ab)[:, None, None] * eye
            self._gain_table = ab.sqrt()[:, None, None] * self.sigma @ torch.linalg.inv(cov)
        return self._gain_table

    _gain_table: Tensor | None = None
    _interp_table: Tensor | None = None

    def __call__(self, x_t: Tensor, t: Tensor, **cond) -> Tensor:
        self.calls += 1
        x0 = self.x0_mean(x_t, t)
        a = self.schedule.sqrt_alphas_cumprod[t.cpu()].to(x_t.device)[:, None]
        b = self.schedule.sqrt_one_minus_alphas_cumprod[t.cpu()].to(x_t.device)[:, None]
        eps = (x_t.double() - a * x0) / b
        out = {"eps": eps, "x0": x0, "v": a * eps - b * x0}[self.prediction].to(x_t.dtype)
        if self.learn_variance:
            return out, self.variance_interp(t, x_t)
        return out

    learn_variance = False

    def variance_interp(self, t: Tensor, x_t: Tensor) -> Tensor:
        """learned_range's v for the ideal diagonal reverse variance:
        Var[x_{t-1} | x_t] = beta~_t + coef1_t^2 diag Cov[x_0 | x_t]."""
        if self._interp_table is None:
            s, d = self.schedule, self.mu.numel()
            ab = s.alphas_cumprod[:, None, None]
            eye = torch.eye(d, dtype=torch.float64)
            cov = ab * self.sigma + (1 - ab) * eye
            post = self.sigma - ab * self.sigma @ torch.linalg.inv(cov) @ self.sigma  # Cov[x0 | x_t]
            var = s.posterior_variance[:, None] + s.posterior_mean_coef1[:, None] ** 2 * post.diagonal(dim1=1, dim2=2)
            lo, hi = s.posterior_log_variance_clipped[:, None], s.log_betas[:, None]
            self._interp_table = 2 * (var.log() - lo) / (hi - lo) - 1  # [T, d]
        out = self._interp_table[t.cpu()]
        return out.to(x_t.dtype)

    def nll_bits_per_dim(self, x0: Tensor) -> Tensor:
        """-log2 N(x0; mu, Sigma) / d per sample."""
        dist = torch.distributions.MultivariateNormal(self.mu, covariance_matrix=self.sigma)
        return -dist.log_prob(x0.double()) / (math.log(2) * self.mu.numel())


MU = torch.tensor([0.5, -0.3, 0.1])
SIGMA = torch.tensor([[0.5, 0.2, 0.0], [0.2, 0.3, -0.05], [0.0, -0.05, 0.2]])


def sample_data(n: int, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    L = torch.linalg.cholesky(SIGMA.double())
    return MU.double() + torch.randn(n, 3, generator=g, dtype=torch.float64) @ L.T
