"""Frechet distance between two sets of embeddings (the FID of Heusel et al. 2017).

Each set is summarised by a Gaussian N(mu, Sigma) fitted to its rows; the Frechet
(2-Wasserstein) distance between two Gaussians is

    d^2 = ||mu_1 - mu_2||^2 + Tr(Sigma_1 + Sigma_2 - 2 (Sigma_1 Sigma_2)^{1/2}).

The usual code takes `scipy.linalg.sqrtm(Sigma_1 @ Sigma_2)`, which goes complex and
loses accuracy when the covariances are singular (fewer samples than dimensions, as in
motion evaluation: a few hundred clips, 512-dim embeddings). Here the trace term is
computed from a symmetric matrix instead: with S = Sigma_1^{1/2},

    Tr((Sigma_1 Sigma_2)^{1/2}) = Tr((S Sigma_2 S)^{1/2}) = sum_i sqrt(lambda_i(S Sigma_2 S)),

because Sigma_1 Sigma_2 = S (S Sigma_2 S) S^{-1} is similar to the symmetric PSD matrix
S Sigma_2 S (for singular S by continuity), so both have the same non-negative
eigenvalues. Both square roots use a symmetric eigen-decomposition in float64 with tiny
negative eigenvalues (round-off) clipped to 0, so the result is real and >= 0 up to
round-off. The linear algebra runs in torch (float64, CPU), so it obeys
`torch.set_num_threads` (numpy's OpenBLAS threads stall on a busy machine: 6 s instead
of 0.1 s for 512-dim embeddings on a loaded 2-core CPU).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .inputs import as_embeddings, as_float64

__all__ = ["GaussianStatistics", "embedding_statistics", "fid", "frechet_distance"]


@dataclass(frozen=True)
class GaussianStatistics:
    """Mean `mu` [D] and covariance `sigma` [D, D] (float64) of a set of embeddings."""

    mu: np.ndarray
    sigma: np.ndarray


def embedding_statistics(embeddings: object) -> GaussianStatistics:
    """Mean [D] and unbiased covariance [D, D] (as `numpy.cov(x, rowvar=False)`) of [N, D]
    embeddings, N >= 2, as float64 numpy arrays."""
    x = torch.from_numpy(as_embeddings(embeddings, name="embeddings", min_rows=2))
    mu = x.mean(dim=0)
    centred = x - mu
    sigma = centred.T @ centred / (x.shape[0] - 1)
    return GaussianStatistics(mu=mu.numpy(), sigma=sigma.numpy())


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric PSD matrix via its eigen-decomposition."""
    eigenvalues, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * eigenvalues.clamp(min=0.0).sqrt()) @ vectors.T


def frechet_distance(mu1: object, sigma1: object, mu2: object, sigma2: object) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (module docstring).

    mu1, mu2: [D]; sigma1, sigma2: [D, D] symmetric positive semi-definite.
    """
    m1, m2 = as_float64(mu1, name="mu1"), as_float64(mu2, name="mu2")
    s1, s2 = as_float64(sigma1, name="sigma1"), as_float64(sigma2, name="sigma2")
    dim = m1.shape[-1] if m1.ndim == 1 else -1
    if m1.ndim != 1 or m2.shape != m1.shape or s1.shape != (dim, dim) or s2.shape != (dim, dim):
        raise ValueError(
            "frechet_distance needs mu1, mu2 of shape [D] and sigma1, sigma2 of shape [D, D] "
            f"with one D; got {m1.shape}, {s1.shape}, {m2.shape}, {s2.shape}"
        )
    t1, t2 = torch.from_numpy(s1), torch.from_numpy(s2)
    root1 = _psd_sqrt(t1)
    middle = root1 @ t2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0.0).sqrt().sum()
    diff = m1 - m2
    value = diff @ diff + float(t1.trace() + t2.trace() - 2.0 * trace_sqrt)
    return float(max(value, 0.0))


def fid(embeddings_a: object, embeddings_b: object) -> float:
    """Frechet distance between the Gaussians fitted to two [N, D] embedding sets (N >= 2 each)."""
    a = embedding_statistics(embeddings_a)
    b = embedding_statistics(embeddings_b)
    if a.mu.shape != b.mu.shape:
        raise ValueError(
            f"fid: the two embedding sets have different widths ({a.mu.shape[0]} vs "
            f"{b.mu.shape[0]}); embed both with the same evaluator"
        )
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
