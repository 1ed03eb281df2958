"""MMD, COV and 1-NNA from distance matrices, as PointFlow defines them (`lgan_mmd_cov`, `knn`).

Inputs are distance matrices of any one distance (Chamfer or EMD): `sample_to_reference`
[S, R], and for 1-NNA also `sample_to_sample` [S, S] and `reference_to_reference` [R, R].

- MMD (minimum matching distance): the mean over references of the distance to the nearest
  sample. Lower is better.
- COV (coverage): for each sample, its nearest reference; the number of distinct references
  so chosen over R. In [0, 1], higher is better.
- 1-NNA: leave-one-out 1-nearest-neighbour accuracy on samples and references together,
  labelled by set: each cloud is classified by the label of its nearest other cloud, and
  the accuracy is the fraction classified right. 0.5 is ideal (the sets cannot be told
  apart); 1.0 means every cloud's nearest neighbour is in its own set. Tie handling as
  PointFlow's `knn(M_rr, M_rs, M_ss, k=1)`: the clouds are ordered references first, then
  samples; a cloud's own distance is set to +inf (an identical copy elsewhere still counts);
  among equally near clouds the first in that order wins (torch.argmin's rule).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["coverage", "minimum_matching_distance", "one_nn_accuracy"]


def _matrix(value: Tensor, *, name: str, shape: tuple[int, int] | None = None) -> Tensor:
    if value.ndim != 2 or value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty distance matrix [A, B]; got shape {tuple(value.shape)}"
        )
    if shape is not None and tuple(value.shape) != shape:
        raise ValueError(
            f"{name} must have shape {shape} to match the other matrices; got {tuple(value.shape)}"
        )
    if torch.isnan(value).any():
        raise ValueError(f"{name} holds NaN distances; check the clouds that produced it")
    return value.double()


def minimum_matching_distance(sample_to_reference: Tensor) -> float:
    """MMD: mean over references of min over samples of the distance; input [S, R]."""
    d = _matrix(sample_to_reference, name="sample_to_reference")
    return float(d.amin(dim=0).mean())


def coverage(sample_to_reference: Tensor) -> float:
    """COV: distinct nearest references of the samples, over R; input [S, R]."""
    d = _matrix(sample_to_reference, name="sample_to_reference")
    return float(d.argmin(dim=1).unique().numel() / d.shape[1])


def one_nn_accuracy(
    sample_to_reference: Tensor, sample_to_sample: Tensor, reference_to_reference: Tensor
) -> float:
    """1-NNA in [0, 1] (0.5 ideal) from the [S, R], [S, S] and [R, R] distance matrices."""
    sr = _matrix(sample_to_reference, name="sample_to_reference")
    s, r = sr.shape
    ss = _matrix(sample_to_sample, name="sample_to_sample", shape=(s, s))
    rr = _matrix(reference_to_reference, name="reference_to_reference", shape=(r, r))
    full = torch.cat([torch.cat([rr, sr.T], dim=1), torch.cat([sr, ss], dim=1)], dim=0)
    full.fill_diagonal_(float("inf"))
    labels = torch.cat([torch.ones(r, device=full.device), torch.zeros(s, device=full.device)])
    predicted = labels[full.argmin(dim=1)]
    return float((predicted == labels).double().mean())
