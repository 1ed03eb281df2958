"""A coarse voxel branch for point denoisers: local context at the cost of a small 3-D CNN.

Point-voxel convolution (Liu et al. 2019, PVCNN; used for diffusion by Zhou et al. 2021,
PVD) in its simplest form: per-point features are averaged into an R^3 grid spanning each
cloud's own box, two 3x3x3 convolutions mix neighbouring cells, and every point reads the
grid back by trilinear interpolation. A PointNet's only other view of the shape is one
max-pooled vector; the grid tells each point what lies within a few cells of it.

Symmetric in the points (averages and interpolation only), so the denoiser stays exactly
permutation-equivariant, for any number of points.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["VoxelBranch"]


class VoxelBranch(nn.Module):
    """points x [B, N, D], features h [B, N, in_dim], context [B, ctx_dim], real [B, N] bool
    or None -> [B, N, channels].

    The grid: cell size = the cloud's largest extent (about its real points' centre) / R,
    so a cloud fills it whatever its scale; a time-dependent per-channel shift (from the
    context) between the convolutions lets one grid serve every noise level.
    """

    def __init__(self, *, in_dim: int, channels: int, ctx_dim: int, resolution: int) -> None:
        super().__init__()
        if resolution < 2:
            raise ValueError(f"voxel resolution must be at least 2, got {resolution}")
        self.resolution = resolution
        self.project = nn.Linear(in_dim, channels)
        self.conv1 = nn.Conv3d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv3d(channels, channels, 3, padding=1)
        self.shift = nn.Linear(ctx_dim, channels)

    def grid_coordinates(self, x: Tensor, real: Tensor | None) -> Tensor:
        """[B, N, 3] in [0, 1): where each point falls in its cloud's grid."""
        xyz = x[..., :3]
        weight = torch.ones_like(xyz[..., 0]) if real is None else real.to(xyz.dtype)
        count = weight.sum(1, keepdim=True).clamp(min=1)[..., None]
        centre = (xyz * weight[..., None]).sum(1, keepdim=True) / count
        radius = ((xyz - centre).abs().amax(-1) * weight).amax(1).clamp(min=1e-6)[:, None, None]
        return ((xyz - centre) / (2.0001 * radius) + 0.5).clamp(0.0, 1.0 - 1e-6)

    def forward(self, x: Tensor, h: Tensor, context: Tensor, real: Tensor | None) -> Tensor:
        b, n, _ = h.shape
        r = self.resolution
        u = self.grid_coordinates(x, real)
        cell = (u * r).long()  # [B, N, 3] as (x, y, z) indices
        flat = (cell[..., 2] * r + cell[..., 1]) * r + cell[..., 0]  # z-major, as grid_sample reads
        f = self.project(h)
        weight = torch.ones(b, n, 1, dtype=f.dtype, device=f.device) if real is None else real[..., None].to(f.dtype)
        sums = f.new_zeros(b, r**3, f.shape[-1]).scatter_add_(1, flat[..., None].expand_as(f), f * weight)
        counts = f.new_zeros(b, r**3, 1).scatter_add_(1, flat[..., None], weight)
        grid = (sums / counts.clamp(min=1)).transpose(1, 2).reshape(b, -1, r, r, r)  # [B, C, D, H, W]
        grid = F.leaky_relu(self.conv1(grid), 0.2) + self.shift(context)[:, :, None, None, None]
        grid = F.leaky_relu(self.conv2(grid), 0.2)
        # trilinear read-back; grid_sample's last coordinate axis is (x -> W, y -> H, z -> D)
        where = (2 * u - 1)[:, :, None, None, :].to(grid.dtype)  # [B, N, 1, 1, 3]
        out = F.grid_sample(grid, where, mode="bilinear", align_corners=False)  # [B, C, N, 1, 1]
        return out[:, :, :, 0, 0].transpose(1, 2)
