"""Input checks shared by the point-cloud metrics: one set of clouds [K, N, 3], finite."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_clouds", "check_pairs"]


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


def check_pairs(x: Tensor, y: Tensor, *, name: str) -> None:
    """ValueError unless x [P, N, 3] and y [P, M, 3] are P pairs of clouds for `name`."""
    if (
        x.ndim != 3
        or y.ndim != 3
        or x.shape[0] != y.shape[0]
        or (x.shape[-1], y.shape[-1]) != (3, 3)
    ):
        raise ValueError(
            f"{name} takes paired clouds x [P, N, 3] and y [P, M, 3]; "
            f"got {tuple(x.shape)} and {tuple(y.shape)}"
        )
