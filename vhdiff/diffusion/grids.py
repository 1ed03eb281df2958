"""Timestep grids: which training steps a sampler visits, in the order it visits them.

A grid is a strictly decreasing LongTensor [N] of TRAINING indices in [0, T) (DESIGN.md: the
model only ever sees training indices). `timestep_grid` builds one from a spacing; the
samplers, SDEdit, inpainting and DDIM inversion all take their grids from here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import Tensor

from vhdiff.diffusion.helpers import check_choice
from vhdiff.diffusion.schedule import NoiseSchedule

Spacing = Literal["leading", "trailing", "linspace", "logsnr", "karras"]
SPACINGS: tuple[str, ...] = get_args(Spacing)
KARRAS_RHO = 7.0  # Karras et al. 2022, eq. 5: the paper's choice


def timestep_grid(schedule: NoiseSchedule | int, steps: int, spacing: Spacing = "trailing") -> Tensor:
    """A descending grid of `steps` distinct training timesteps in [0, T).

    leading:  ..., 2k, k, 0 (k = T // steps): the DDIM paper's / improved-diffusion's choice;
    trailing: T-1, T-1-k, ...: starts at T-1 so x_T really is pure noise (Lin et al. 2024);
    linspace: round(linspace(T-1, 0, steps));
    logsnr:   T-1 first, 0 last, uniform in log-SNR log(alpha_bar / (1 - alpha_bar)) between
              (the step size DPM-Solver takes, Lu et al. 2022a sec. 3.3);
    karras:   T-1 first, 0 last, uniform in sigma^(1/rho) with sigma = sqrt((1 - ab) / ab) and
              rho = 7 (Karras et al. 2022, eq. 5).
    logsnr and karras need the schedule (an int T is enough for the others). Their targets
    are mapped to the nearest training index; where a target has no index of its own (the
    cosine schedule's clipped last beta jumps log-SNR by 7 between t = T-2 and T-1), the
    rest of the grid is re-planned uniformly over what remains, so the grid still has
    `steps` distinct points (one model call each).
    """
    T = schedule if isinstance(schedule, int) else schedule.num_timesteps
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an int in [1, {T}] (the training schedule has T={T}), got {steps!r}")
    check_choice("timestep_spacing", spacing, SPACINGS)
    if spacing in ("logsnr", "karras"):
        if isinstance(schedule, int):
            raise ValueError(f"timestep_spacing={spacing!r} needs the NoiseSchedule, not only T")
        ab = schedule.alphas_cumprod
        if spacing == "logsnr":
            warp = (torch.log(ab) - torch.log1p(-ab)).tolist()  # log-SNR, decreasing in t
        else:
            warp = (((1 - ab) / ab) ** (1 / (2 * KARRAS_RHO))).tolist()  # sigma^(1/rho), increasing
        return torch.tensor(_uniform_in(warp, steps), dtype=torch.long)
    if spacing == "leading":
        grid = torch.arange(steps, dtype=torch.float64) * (T // steps)
    elif spacing == "trailing":
        grid = torch.round(torch.arange(T, 0, -T / steps, dtype=torch.float64)) - 1
    else:
        grid = torch.linspace(0, T - 1, steps, dtype=torch.float64).round()
    return grid.long().clamp(0, T - 1).unique(sorted=True).flip(0)


def _uniform_in(warp: list[float], steps: int) -> list[int]:
    """`steps` distinct indices from T-1 down to 0, as evenly spaced in `warp` as the integer
    grid allows. warp[t] is monotone in t; an infinite warp[T-1] (zero terminal SNR) is
    planned from warp[T-2]. Each point after the first aims at an equal share of the warp
    range still to cover, so a collision near T-1 re-plans the rest instead of dropping it."""
    T = len(warp)
    sign = 1.0 if warp[-1] >= warp[0] else -1.0
    # ascending in t for bisect: u[t] = sign * warp[t]
    u = [sign * w for w in warp]
    ts = [T - 1]
    for i in range(1, steps):
        p = ts[-1]
        remaining = steps - i
        start = u[p] if math.isfinite(u[p]) else u[p - 1]
        target = start + (u[0] - start) / remaining
        lo, hi = remaining - 1, p - 1  # leave room for the points still to come
        j = min(max(bisect.bisect_left(u, target, 0, T - 1), lo), hi)
        if j > lo and abs(u[j - 1] - target) <= abs(u[j] - target):
            j -= 1
        ts.append(j)
    return ts


def check_grid(timesteps: Sequence[int] | Tensor, num_timesteps: int) -> Tensor:
    """An explicit grid as a long CPU tensor; ValueError unless strictly decreasing in [0, T)."""
    grid = torch.as_tensor(timesteps, dtype=torch.long).flatten().cpu()
    T = num_timesteps
    if grid.numel() < 1:
        raise ValueError("timesteps must hold at least one training index")
    if int(grid.min()) < 0 or int(grid.max()) >= T:
        raise ValueError(f"timesteps must lie in [0, {T}), got [{int(grid.min())}, {int(grid.max())}]")
    if grid.numel() > 1 and not bool((grid[1:] < grid[:-1]).all()):
        raise ValueError("timesteps must be strictly decreasing (the order the sampler walks them)")
    return grid
