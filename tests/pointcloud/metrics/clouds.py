"""Small random point-cloud sets for the metric tests."""

from __future__ import annotations

import torch


def blob_clouds(
    count: int, points: int, *, seed: int, centre: float = 0.0, spread: float = 0.2
) -> torch.Tensor:
    """[count, points, 3] float32: each cloud a Gaussian blob with its own offset and axes."""
    g = torch.Generator().manual_seed(seed)
    offsets = 0.1 * torch.randn(count, 1, 3, generator=g) + centre
    axes = spread * (0.5 + torch.rand(count, 1, 3, generator=g))
    return offsets + axes * torch.randn(count, points, 3, generator=g)
