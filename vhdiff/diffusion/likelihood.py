"""Gaussian KL divergences and decoder log-likelihoods used by the variational bound."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def normal_kl(mean1: Tensor, logvar1: Tensor, mean2: Tensor, logvar2: Tensor) -> Tensor:
    """KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) elementwise, in nats."""
    return 0.5 * (
        -1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2)
        + (mean1 - mean2) ** 2 * torch.exp(-logvar2)
    )


def _approx_standard_normal_cdf(x: Tensor) -> Tensor:
    """Fast tanh approximation of the standard normal CDF (as in DDPM's reference code)."""
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def discretized_gaussian_log_likelihood(
    x: Tensor, *, mean: Tensor, log_scale: Tensor, bins: int = 256
) -> Tensor:
    """log p(x) of data quantised to `bins` levels in [-1, 1] under N(mean, exp(log_scale)^2).

    The DDPM decoder L_0 (Ho et al. 2020, eq. 13): the Gaussian mass of each bin of width
    2 / (bins - 1), with the edge bins extended to -inf / +inf. Elementwise, in nats.
    """
    half_bin = 1.0 / (bins - 1)
    centered = x - mean
    inv_std = torch.exp(-log_scale)
    cdf_plus = _approx_standard_normal_cdf(inv_std * (centered + half_bin))
    cdf_min = _approx_standard_normal_cdf(inv_std * (centered - half_bin))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    log_cdf_delta = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    return torch.where(
        x < -1.0 + half_bin,
        log_cdf_plus,
        torch.where(x > 1.0 - half_bin, log_one_minus_cdf_min, log_cdf_delta),
    )


def continuous_gaussian_log_likelihood(x: Tensor, *, mean: Tensor, log_variance: Tensor) -> Tensor:
    """log N(x; mean, exp(log_variance)) elementwise, in nats (decoder for continuous data)."""
    return -0.5 * (
        math.log(2 * math.pi) + log_variance + (x - mean) ** 2 * torch.exp(-log_variance)
    )
