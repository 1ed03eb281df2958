"""Editing on any modality: SDEdit, RePaint-style inpainting and DDIM inversion.

Each takes its grid from `samplers.sampler_grid` (the sampler's default steps and spacing
unless given) and DDPM steps on fewer than T steps run on `DiffusionProcess.respace`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from vhdiff.diffusion.gaussian import DiffusionProcess, Model
from vhdiff.diffusion.grids import Spacing
from vhdiff.diffusion.helpers import broadcast_mask, progress_bar, randn_like
from vhdiff.diffusion.samplers import SampleOutput, SamplerName, run_sampler, sampler_grid


def sdedit(
    diffusion: DiffusionProcess,
    model: Model,
    x0: Tensor,
    *,
    strength: float = 0.5,
    sampler: SamplerName = "ddim",
    steps: int | None = None,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    timestep_spacing: Spacing | None = None,
    progress: bool = False,
    clip_denoised: float | None = None,
    **cond: Any,
) -> SampleOutput:
    """SDEdit (Meng et al. 2022): noise x0 to a level set by `strength`, then denoise.

    strength in (0, 1]: 1 starts from (almost) pure noise, small values keep x0's structure.
    The sampler walks the part of its usual grid (steps / timestep_spacing: None = the
    sampler's defaults) at or below t = strength * T - 1, starting from x_t ~ q(x_t | x0)
    at the first kept grid step. clip_denoised: clamp the x_0 estimates to [-c, c].
    """
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must lie in (0, 1], got {strength}")
    T = diffusion.num_timesteps
    full = sampler_grid(diffusion.schedule, sampler, steps=steps, timestep_spacing=timestep_spacing)
    t_start = max(round(float(strength) * T) - 1, 0)
    grid = full[full <= t_start]
    if grid.numel() == 0:
        grid = full[-1:]
    x_t = diffusion.schedule.q_sample(x0, int(grid[0]), generator=generator)
    return run_sampler(
        diffusion, model, x_t, grid, sampler=sampler, eta=eta, generator=generator,
        progress=progress, clip_denoised=clip_denoised, cond=cond,
    )


def repaint_schedule(num_steps: int, jump_length: int, jump_n_sample: int) -> list[int]:
    """The RePaint time walk (Lugmayr et al. 2022, sec. 4.2) over sub-step levels.

    Returns the sequence of levels, from num_steps - 1 down to -1 (clean): a move to a lower
    level is one reverse step, a move up is one forward (re-noising) step. Every
    `jump_length` levels the walk jumps back up `jump_length` levels, `jump_n_sample - 1` times.
    """
    if jump_length < 1 or jump_n_sample < 1:
        raise ValueError("jump_length and jump_n_sample must be >= 1")
    jumps = {j: jump_n_sample - 1 for j in range(0, num_steps - jump_length, jump_length)}
    level = num_steps
    walk = []
    while level >= 1:
        level -= 1
        walk.append(level)
        if jumps.get(level, 0) > 0:
            jumps[level] -= 1
            for _ in range(jump_length):
                level += 1
                walk.append(level)
    walk.append(-1)
    return walk


def inpaint(
    diffusion: DiffusionProcess,
    model: Model,
    x_known: Tensor,
    known_mask: Tensor,
    *,
    steps: int | None = None,
    jump_length: int = 10,
    jump_n_sample: int = 1,
    x_T: Tensor | None = None,
    generator: torch.Generator | None = None,
    timestep_spacing: Spacing | None = None,
    progress: bool = False,
    project_x0: Callable[[Tensor], Tensor] | None = None,
    clip_denoised: float | None = None,
    **cond: Any,
) -> SampleOutput:
    """Fill in x where known_mask == 0, keeping x_known where known_mask == 1 (RePaint).

    DDPM ancestral steps (respaced to `steps` when given, on `timestep_spacing`; None = the
    ddpm sampler's default); before each reverse step's result is kept, its known part is
    replaced by a fresh sample of q(x_{t-1} | x_known).
    jump_n_sample > 1 resamples: every `jump_length` steps the walk re-noises back up
    `jump_length` steps and denoises again, harmonising known and generated parts.
    known_mask: broadcastable to x over its leading dims (1 = keep).
    project_x0: optional projection onto a constraint set that the unknown part must meet
        (e.g. a sum over the generated elements fixed by the known ones): called on the
        model's x0 estimate [B, ...] at every reverse step, and the posterior mean
        mu~_t(x_t, x0) (DDPM eq. 7) is taken of its result; the last step's mean is that
        x0 itself, so the sample's unknown part lies in the constraint set. It must return
        a tensor of x's shape; its known part may be anything (it is replaced). None
        (default): plain RePaint, unchanged.
    clip_denoised: clamp the model's x0 estimates to [-c, c] (data of a known range).
    """
    m = broadcast_mask(known_mask, x_known).to(x_known.dtype)
    grid = sampler_grid(diffusion.schedule, "ddpm", steps=steps, timestep_spacing=timestep_spacing)
    respaced = diffusion.respace(grid)
    sub, step_model = respaced.diffusion, respaced.wrap(model)
    x = randn_like(x_known, generator) if x_T is None else x_T.clone()
    sub_alphas = sub.schedule.alphas.tolist()
    walk = repaint_schedule(grid.numel(), jump_length, jump_n_sample)
    pairs = list(itertools.pairwise(walk))
    out = SampleOutput(sample=x, timesteps=grid)
    with torch.no_grad():
        for level, nxt in progress_bar(pairs, total=len(pairs), desc="inpaint", enabled=progress):
            if nxt < level:  # reverse step level -> level - 1
                step = sub.reverse_step_params(step_model, x, level, cond, clip_denoised=clip_denoised)
                out.nfe += 1
                mean = step.mean
                if project_x0 is not None:
                    mean = _projected_mean(sub, project_x0, step.denoised.pred_x0, x, level)
                if level > 0:
                    unknown = mean + torch.exp(0.5 * step.log_variance) * randn_like(x, generator)
                    known = sub.schedule.q_sample(x_known, level - 1, generator=generator)
                else:
                    unknown, known = mean, x_known
                x = m * known + (1 - m) * unknown
            else:  # forward step level -> level + 1: q(x_{l+1} | x_l)
                a = sub_alphas[nxt]
                x = math.sqrt(a) * x + math.sqrt(1 - a) * randn_like(x, generator)
    out.sample = x
    return out


def _projected_mean(
    diffusion: DiffusionProcess, project_x0: Callable[[Tensor], Tensor], x0: Tensor,
    x_t: Tensor, t: int,
) -> Tensor:
    """mu~_t(x_t, project_x0(x0)): the reverse step's mean from the projected x0 estimate."""
    projected = project_x0(x0)
    if not isinstance(projected, Tensor) or projected.shape != x0.shape:
        got = tuple(projected.shape) if isinstance(projected, Tensor) else type(projected).__name__
        raise ValueError(
            f"project_x0 returned {got} for an x0 estimate of shape {tuple(x0.shape)}; "
            "it must return a tensor of the same shape"
        )
    return diffusion.schedule.posterior(projected, x_t, t).mean


def ddim_invert(
    diffusion: DiffusionProcess,
    model: Model,
    x0: Tensor,
    *,
    steps: int = 50,
    timestep_spacing: Spacing | None = None,
    fixed_point_iters: int = 0,
    progress: bool = False,
    **cond: Any,
) -> Tensor:
    """DDIM inversion x_0 -> x_T: the eta=0 DDIM sampler run backwards on the same grid.

    Each sampler step x_s = sqrt(ab_s) x0_hat(x_t) + sqrt(1 - ab_s) eps_hat(x_t) is solved
    for x_t using eps_hat evaluated at (x_s, t); `fixed_point_iters` re-evaluates it at the
    current x_t estimate (exact inversion in the limit). timestep_spacing: None = the ddim
    sampler's default. Feed the result as x_T to `sample(..., sampler="ddim", eta=0,
    steps=steps, timestep_spacing=...)` to reconstruct.
    """
    grid = sampler_grid(diffusion.schedule, "ddim", steps=steps, timestep_spacing=timestep_spacing)
    grid = grid.flip(0).tolist()
    ab = diffusion.schedule.alphas_cumprod
    x = x0
    with torch.no_grad():
        for i in progress_bar(range(len(grid)), total=len(grid), desc="invert", enabled=progress):
            t = grid[i]
            ab_t = float(ab[t])
            ab_s = float(ab[grid[i - 1]]) if i > 0 else 1.0
            x_s = x
            guess = x_s
            for _ in range(fixed_point_iters + 1):
                eps = diffusion.denoise(model, guess, t, cond).pred_eps
                x0_hat = (x_s - math.sqrt(1 - ab_s) * eps) / math.sqrt(ab_s)
                guess = math.sqrt(ab_t) * x0_hat + math.sqrt(1 - ab_t) * eps
            x = guess
    return x
