"""Input checks shared by the point-cloud metrics: one set of clouds [K, N, 3], finite."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_clouds"]


def check_clouds(clouds: Tensor, *, name: str) -> Tensor:
    """`clouds` as a floating tensor [K, N, 3] with K >= 1 and N >= 1, or a one-line ValueError."""
    if not isinstance(clouds, Tensor):
        clouds = torch.as_tensor(clouds)
    if clouds.ndim != 3 or clouds.shape[-1] != 3:
        raise ValueError(
            f"{name} must be a set of point clouds [K, N, 3] (K clouds of N xyz points); "
            f"got shape {tuple(clouds.shape)}"
        )
    if clouds.shape[0] == 0 or clouds.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(clouds.shape)}); "
            "give at least one cloud of at least one point"
        )
    if not clouds.is_floating_point():
        clouds = clouds.float()
    if not torch.isfinite(clouds).all():
        raise ValueError(
            f"{name} holds NaN or infinite coordinates; check the model outputs that produced it"
        )
    return clouds
