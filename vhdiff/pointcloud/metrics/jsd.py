"""Jensen-Shannon divergence between two sets' occupancy grids (PointFlow's JSD).

PointFlow's `jsd_between_point_cloud_sets` (also used by PVD and LION): a grid of
`resolution`^3 points spaced 1 / (resolution - 1) over the cube [-0.5, 0.5]^3, by default
kept only where inside the ball of radius 0.5 (PointFlow's "unit sphere", diameter 1);
every point of every cloud of a set counts once for its nearest grid point; the two
count vectors are normalised to distributions P, Q and

    JSD(P, Q) = H((P + Q) / 2) - (H(P) + H(Q)) / 2,   entropies in bits (log base 2),

so 0 <= JSD <= 1.

Contract: the clouds must already be in that frame (centred, inside the ball of radius 0.5,
or the cube with `region="cube"`). Human bodies in metres are not: normalise both sets with
one transform first (`unit_ball_transform(references)` gives one, fitted to the references
and applied to both, so a sample that is too large stays too large). A point outside the
region is not dropped: like PointFlow's nearest-grid-point assignment, it counts for the
grid point nearest to it (on the region's boundary), and `JSDResult` reports how many such
points each set had (beyond PointFlow's tolerance of 1e-3), so a wrong normalisation shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from .inputs import check_clouds

__all__ = [
    "JSD_REGIONS",
    "JSDResult",
    "jsd_between_sets",
    "occupancy_counts",
    "unit_ball_transform",
]

JSD_REGIONS: tuple[str, ...] = ("sphere", "cube")
_TOLERANCE = 1e-3  # PointFlow's bound 0.5 + 1e-3 for its "not in unit sphere / cube" warning
_POINTS_PER_CHUNK = 1 << 14


@dataclass(frozen=True)
class JSDResult:
    """JSD in bits (0 .. 1) and how many points of each set lay outside the region."""

    jsd: float
    samples_outside: int
    references_outside: int
    resolution: int
    region: str

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def _grid(resolution: int, region: str, device: torch.device) -> tuple[Tensor, Tensor]:
    """(grid points [G, 3], index [R^3] of each cube grid point among them or -1)."""
    steps = torch.arange(resolution, device=device, dtype=torch.float64) / (resolution - 1) - 0.5
    cube = torch.cartesian_prod(steps, steps, steps)  # [R^3, 3], i-major like PointFlow's grid
    keep = (
        cube.norm(dim=1) <= 0.5
        if region == "sphere"
        else torch.ones(len(cube), dtype=torch.bool, device=device)
    )
    lookup = torch.full((len(cube),), -1, dtype=torch.long, device=device)
    lookup[keep] = torch.arange(int(keep.sum()), device=device)
    return cube[keep], lookup


def _outside(points: Tensor, region: str) -> int:
    if region == "sphere":
        return int((points.norm(dim=-1) > 0.5 + _TOLERANCE).sum())
    return int((points.abs() > 0.5 + _TOLERANCE).any(-1).sum())


def occupancy_counts(clouds: Tensor, *, resolution: int = 28, region: str = "sphere") -> Tensor:
    """Points per grid point [G] (float64) over all clouds [K, N, 3] of a set, nearest-grid-point.

    The grid is PointFlow's (module docstring); G = resolution^3 for the cube, fewer for the
    sphere (the grid points inside the ball of radius 0.5).
    """
    if region not in JSD_REGIONS:
        raise ValueError(f"region must be one of {', '.join(JSD_REGIONS)}; got {region!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2 grid points per axis, got {resolution}")
    clouds = check_clouds(clouds, name="clouds")
    points = clouds.reshape(-1, 3).double()
    grid, lookup = _grid(resolution, region, points.device)
    # nearest point of the full cube lattice: per-axis rounding, clamped into the cube
    cell = ((points + 0.5) * (resolution - 1)).round().clamp(0, resolution - 1).long()
    nearest = lookup[(cell[:, 0] * resolution + cell[:, 1]) * resolution + cell[:, 2]]
    # that lattice point is outside the ball: search the kept grid points directly
    missing = (nearest < 0).nonzero()[:, 0]
    for start in range(0, len(missing), _POINTS_PER_CHUNK):
        rows = missing[start : start + _POINTS_PER_CHUNK]
        nearest[rows] = torch.cdist(points[rows], grid).argmin(dim=1)
    return torch.bincount(nearest, minlength=len(grid)).double()


def _entropy_bits(p: Tensor) -> Tensor:
    p = p[p > 0]
    return -(p * torch.log2(p)).sum()


def jsd_between_sets(
    samples: Tensor, references: Tensor, *, resolution: int = 28, region: str = "sphere"
) -> JSDResult:
    """JSD (bits) between the occupancy distributions of samples [S, N, 3] and references [R, M, 3].

    Both sets must already be in PointFlow's frame (module docstring: the contract and what
    happens to points outside the region).
    """
    samples = check_clouds(samples, name="samples")
    references = check_clouds(references, name="references").to(samples.device)
    p = occupancy_counts(samples, resolution=resolution, region=region)
    q = occupancy_counts(references, resolution=resolution, region=region)
    p, q = p / p.sum(), q / q.sum()
    value = _entropy_bits((p + q) / 2) - (_entropy_bits(p) + _entropy_bits(q)) / 2
    return JSDResult(
        jsd=float(value.clamp_min(0.0)),
        samples_outside=_outside(samples.double(), region),
        references_outside=_outside(references.double(), region),
        resolution=resolution,
        region=region,
    )


def unit_ball_transform(references: Tensor) -> tuple[Tensor, float]:
    """(centre [3], scale): p -> (p - centre) * scale puts the references in the ball of radius 0.5.

    centre: the middle of the bounding box of all reference points; scale: 0.5 over the
    largest distance of a reference point from it. Apply it to samples and references alike.
    """
    references = check_clouds(references, name="references")
    points = references.reshape(-1, 3).double()
    centre = (points.amax(0) + points.amin(0)) / 2
    radius = float((points - centre).norm(dim=1).max())
    if radius == 0.0:
        raise ValueError(
            "the references are a single point repeated; they cannot be scaled into the unit ball"
        )
    return centre.to(references.dtype), 0.5 / radius
