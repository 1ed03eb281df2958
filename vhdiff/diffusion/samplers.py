"""Samplers: DDPM ancestral, DDIM and DPM-Solver++(2M), behind one entry point.

Every sampler walks a descending grid of TRAINING timesteps t_0 > t_1 > ... > t_{N-1} and
ends at clean data; the model only ever sees training indices (DESIGN.md). Per-step
coefficients are computed once, as Python floats, before the loop, so a step costs the
model call plus a handful of fused tensor ops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import torch
from torch import Tensor

from vhdiff.diffusion.gaussian import GaussianDiffusion, Model, _progress, check_choice

SamplerName = Literal["ddpm", "ddim", "dpm++"]
Spacing = Literal["leading", "trailing", "linspace"]
SAMPLER_ALIASES = {"dpm++2m": "dpm++", "dpmpp": "dpm++", "dpmpp_2m": "dpm++", "dpm-solver++": "dpm++"}


@dataclass
class SampleOutput:
    """Result of a sampling run.

    sample: [B, ...] the generated x_0.
    intermediates: requested training timestep -> x_t [B, ...] as the sampler reached it
        (the state at the first grid step whose timestep is <= the requested one).
    pred_x0: the same keys -> the model's x_0 estimate at that step.
    timesteps: the grid walked (long [N]); nfe: number of model evaluations.
    """

    sample: Tensor
    intermediates: dict[int, Tensor] = field(default_factory=dict)
    pred_x0: dict[int, Tensor] = field(default_factory=dict)
    timesteps: Tensor | None = None
    nfe: int = 0


def timestep_grid(num_timesteps: int, steps: int, spacing: Spacing = "trailing") -> Tensor:
    """A descending grid of `steps` training timesteps in [0, T).

    leading:  0, k, 2k, ... (+offset 0), the DDIM paper's / improved-diffusion's choice;
    trailing: T-1, T-1-k, ...; starts at T-1 so x_T really is pure noise (Lin et al. 2024);
    linspace: round(linspace(T-1, 0, steps)).
    """
    T = num_timesteps
    if not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an int in [1, {T}] (the training schedule has T={T}), got {steps!r}")
    check_choice("timestep_spacing", spacing, get_args(Spacing))
    if spacing == "leading":
        grid = torch.arange(steps, dtype=torch.float64) * (T // steps)
    elif spacing == "trailing":
        grid = torch.round(torch.arange(T, 0, -T / steps, dtype=torch.float64)) - 1
        grid = grid.flip(0)
    else:
        grid = torch.linspace(0, T - 1, steps, dtype=torch.float64).round()
    grid = grid.long().clamp(0, T - 1).unique(sorted=True)
    return grid.flip(0)


class _Recorder:
    """Progress bar, intermediate capture and lazy NaN detection for a sampling loop."""

    def __init__(self, timesteps: Tensor, requested: Iterable[int], progress: bool, desc: str):
        self.timesteps = timesteps.tolist()
        self.requested = sorted({int(r) for r in requested}, reverse=True)
        self.progress = progress
        self.desc = desc
        self.out = SampleOutput(sample=torch.empty(0), timesteps=timesteps)
        self._nan_flags: list[Tensor] = []
        self._flag_steps: list[int] = []

    def steps(self) -> Iterable[int]:
        it: Iterable[int] = range(len(self.timesteps))
        return _progress(it, total=len(self.timesteps), desc=self.desc) if self.progress else it

    def record(self, t: int, x: Tensor, pred_x0: Tensor) -> None:
        self.out.nfe += 1
        self._nan_flags.append(torch.isnan(pred_x0).any())  # no host sync inside the loop
        self._flag_steps.append(t)
        while self.requested and t <= self.requested[0]:
            r = self.requested.pop(0)
            self.out.intermediates[r] = x.clone()
            self.out.pred_x0[r] = pred_x0.clone()

    def finish(self, x: Tensor) -> SampleOutput:
        if self._nan_flags:
            flags = torch.stack(self._nan_flags)
            if bool(flags.any()):
                first = int(flags.nonzero()[0, 0])
                raise FloatingPointError(
                    f"the model output contains NaN at sampling step {first} "
                    f"(training timestep t={self._flag_steps[first]}); check the model's weights "
                    "and inputs (dtype, normalisation) - mixed precision overflow is a common cause"
                )
        self.out.sample = x
        return self.out


def _noise(x: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


# ---------------------------------------------------------------------- the samplers
# Shared signature: (diffusion, model, x, timesteps, *, rec, generator, cond, eta, denoise_kw) -> x0


def ddpm_loop(
    diffusion: GaussianDiffusion, model: Model, x: Tensor, timesteps: Tensor, *, rec: _Recorder,
    generator: torch.Generator | None, cond: dict[str, Any], eta: float, denoise_kw: dict[str, Any],
) -> Tensor:
    """Ancestral sampling x_{t_i} -> x_{t_{i+1}} ~ p (DDPM Alg. 2).

    On a sub-grid the betas are recomputed for the kept steps (improved DDPM sec. 4): the
    respaced diffusion runs over sub-indices and a wrapper hands the model training indices.
    """
    del eta
    ts = timesteps.flip(0)  # ascending
    full = ts.numel() == diffusion.num_timesteps
    if full:
        sub, step_model = diffusion, model
    else:
        schedule, ts_map = diffusion.schedule.respace(ts)
        sub = diffusion.with_schedule(schedule)
        step_model = _MapTimesteps(model, ts_map)
    for i in rec.steps():
        idx = ts.numel() - 1 - i
        t_train = int(ts[idx])
        step = sub.reverse_step_params(step_model, x, idx, cond, **denoise_kw)
        rec.record(t_train, x, step.denoised.pred_x0)
        if idx > 0:
            x = step.mean + torch.exp(0.5 * step.log_variance) * _noise(x, generator)
        else:
            x = step.mean
    return x


class _MapTimesteps:
    """Hands the model training indices while a respaced diffusion counts sub-steps."""

    def __init__(self, model: Model, ts_map: Tensor) -> None:
        self.model = model
        self.ts_map = ts_map
        self._cache: dict[str, Tensor] = {}

    def __call__(self, x: Tensor, t: Tensor, **cond: Any):
        key = str(t.device)
        if key not in self._cache:
            self._cache[key] = self.ts_map.to(t.device)
        return self.model(x, self._cache[key][t], **cond)


def ddim_loop(
    diffusion: GaussianDiffusion, model: Model, x: Tensor, timesteps: Tensor, *, rec: _Recorder,
    generator: torch.Generator | None, cond: dict[str, Any], eta: float, denoise_kw: dict[str, Any],
) -> Tensor:
    """DDIM (Song et al. 2021, eq. 12): deterministic at eta=0, DDPM's posterior variance at eta=1.

    x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - sigma^2) eps_hat + sigma z,
    sigma = eta sqrt((1 - ab_s) / (1 - ab_t)) sqrt(1 - ab_t / ab_s)   (eq. 16).
    """
    ab = diffusion.schedule.alphas_cumprod
    ts = timesteps.tolist()
    coefs = []
    for i, t in enumerate(ts):
        ab_t = float(ab[t])
        ab_s = float(ab[ts[i + 1]]) if i + 1 < len(ts) else 1.0
        sigma = eta * math.sqrt(max((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s), 0.0)) if ab_t < 1 else 0.0
        coefs.append((math.sqrt(ab_s), math.sqrt(max(1 - ab_s - sigma**2, 0.0)), sigma))
    for i in rec.steps():
        d = diffusion.denoise(model, x, ts[i], cond, **denoise_kw)
        rec.record(ts[i], x, d.pred_x0)
        c_x0, c_eps, sigma = coefs[i]
        x = torch.add(d.pred_x0 * c_x0, d.pred_eps, alpha=c_eps)
        if sigma > 0:
            x = x.add_(_noise(x, generator), alpha=sigma)
    return x


def dpmpp_2m_loop(
    diffusion: GaussianDiffusion, model: Model, x: Tensor, timesteps: Tensor, *, rec: _Recorder,
    generator: torch.Generator | None, cond: dict[str, Any], eta: float, denoise_kw: dict[str, Any],
) -> Tensor:
    """DPM-Solver++(2M), multistep second order in data prediction (Lu et al. 2022, Alg. 2).

    With alpha_t = sqrt(ab_t), sigma_t = sqrt(1 - ab_t), lambda_t = log(alpha_t / sigma_t) and
    h = lambda_s - lambda_t:  x_s = (sigma_s / sigma_t) x_t - alpha_s (e^{-h} - 1) D, where
    D = (1 + 1/(2r)) x0_i - 1/(2r) x0_{i-1}, r = h_{i-1} / h_i (first order at the first step).
    The last step goes to sigma = 0 and returns the final x_0 estimate (first order).
    """
    del eta, generator
    ab = diffusion.schedule.alphas_cumprod
    ts = timesteps.tolist()
    alpha = [math.sqrt(float(ab[t])) for t in ts]
    sigma = [math.sqrt(1.0 - float(ab[t])) for t in ts]
    lam = [math.log(a) - math.log(s) if a > 0 else -math.inf for a, s in zip(alpha, sigma)]
    prev_x0: Tensor | None = None
    h_prev = math.nan
    for i in rec.steps():
        d = diffusion.denoise(model, x, ts[i], cond, **denoise_kw)
        rec.record(ts[i], x, d.pred_x0)
        if i + 1 == len(ts):
            return d.pred_x0
        h = lam[i + 1] - lam[i]
        if prev_x0 is None or not math.isfinite(h_prev):
            D = d.pred_x0
        else:
            r = h_prev / h
            D = torch.add(d.pred_x0 * (1 + 1 / (2 * r)), prev_x0, alpha=-1 / (2 * r))
        x = torch.add(x * (sigma[i + 1] / sigma[i]), D, alpha=-alpha[i + 1] * math.expm1(-h))
        prev_x0, h_prev = d.pred_x0, h
    return x


SAMPLERS: dict[str, Callable[..., Tensor]] = {"ddpm": ddpm_loop, "ddim": ddim_loop, "dpm++": dpmpp_2m_loop}
DEFAULT_STEPS = {"ddim": 50, "dpm++": 20}


def resolve_sampler(name: str) -> str:
    name = SAMPLER_ALIASES.get(name, name)
    check_choice("sampler", name, tuple(SAMPLERS))
    return name


def sample(
    diffusion: GaussianDiffusion,
    model: Model,
    shape: Sequence[int],
    *,
    sampler: str = "ddpm",
    steps: int | None = None,
    eta: float = 0.0,
    timestep_spacing: Spacing = "trailing",
    timesteps: Sequence[int] | Tensor | None = None,
    x_T: Tensor | None = None,
    generator: torch.Generator | None = None,
    return_intermediates: Iterable[int] = (),
    progress: bool = False,
    clip_denoised: float | None = None,
    dynamic_threshold: float | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    **cond: Any,
) -> SampleOutput:
    """Generate x_0 [shape] from noise.

    sampler: "ddpm" (ancestral; steps=None means all T steps, fewer respaces the betas),
        "ddim" (eta: 0 deterministic, 1 = DDPM's variance; default 50 steps) or "dpm++"
        (DPM-Solver++(2M); default 20 steps).
    timesteps: an explicit descending grid of training indices (overrides steps/spacing).
    x_T: the starting noise (else drawn from `generator`); return_intermediates: training
        timesteps at which to keep x_t and the x_0 estimate (e.g. (999, 750, 500, 250)).
    cond: keyword conditions for the model (text_emb=..., mask=..., ...).
    """
    sampler = resolve_sampler(sampler)
    T = diffusion.num_timesteps
    if timesteps is None:
        n = steps if steps is not None else DEFAULT_STEPS.get(sampler, T)
        if sampler == "ddpm" and n == T:
            grid = torch.arange(T - 1, -1, -1)
        else:
            grid = timestep_grid(T, n, timestep_spacing)
    else:
        grid = _check_grid(timesteps, T)
    if x_T is None:
        if generator is not None and device is None:
            device = generator.device
        x_T = torch.randn(tuple(shape), generator=generator, device=device, dtype=dtype)
    elif tuple(x_T.shape) != tuple(shape):
        raise ValueError(f"x_T has shape {tuple(x_T.shape)} but shape={tuple(shape)} was asked for")
    return run_sampler(
        diffusion, model, x_T, grid, sampler=sampler, eta=eta, generator=generator,
        return_intermediates=return_intermediates, progress=progress,
        clip_denoised=clip_denoised, dynamic_threshold=dynamic_threshold, cond=cond,
    )


def run_sampler(
    diffusion: GaussianDiffusion,
    model: Model,
    x_t: Tensor,
    grid: Tensor,
    *,
    sampler: str,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    return_intermediates: Iterable[int] = (),
    progress: bool = False,
    clip_denoised: float | None = None,
    dynamic_threshold: float | None = None,
    cond: dict[str, Any] | None = None,
) -> SampleOutput:
    """Run a sampler from x_t (at grid[0]) down the descending training-timestep `grid`."""
    sampler = resolve_sampler(sampler)
    if not 0.0 <= eta <= 1.0 and sampler == "ddim":
        raise ValueError(f"eta must lie in [0, 1], got {eta}")
    rec = _Recorder(grid, return_intermediates, progress, desc=sampler)
    denoise_kw = {"clip_denoised": clip_denoised, "dynamic_threshold": dynamic_threshold}
    with torch.no_grad():
        x0 = SAMPLERS[sampler](
            diffusion, model, x_t, grid, rec=rec, generator=generator, cond=dict(cond or {}),
            eta=eta, denoise_kw=denoise_kw,
        )
    return rec.finish(x0)


def _check_grid(timesteps: Sequence[int] | Tensor, T: int) -> Tensor:
    grid = torch.as_tensor(timesteps, dtype=torch.long).flatten().cpu()
    if grid.numel() < 1:
        raise ValueError("timesteps must hold at least one training index")
    if int(grid.min()) < 0 or int(grid.max()) >= T:
        raise ValueError(f"timesteps must lie in [0, {T}), got [{int(grid.min())}, {int(grid.max())}]")
    if grid.numel() > 1 and not bool((grid[1:] < grid[:-1]).all()):
        raise ValueError("timesteps must be strictly decreasing (the order the sampler walks them)")
    return grid
