"""Samplers: DDPM ancestral, DDIM, DPM-Solver++(2M) and a hybrid DPM-Solver, one entry point.

Every sampler is a short function with one signature (k-diffusion's shape)::

    fn(denoise: Denoiser, x: Tensor, grid: Grid, *, eta: float, noise: NoiseFn) -> x_0

x [B, ...] is the state at t_0 (e.g. x_T), x_0 [B, ...] the result; `noise(like)` draws
standard normal noise of like's shape from the run's generator. It walks the descending grid of TRAINING timesteps t_0 > t_1 > ... > t_{N-1}, calls
``denoise(x, i)`` once per grid step (the model at t_i: one function evaluation) and ends at
clean data. The model only ever sees training indices (DESIGN.md). The grid's coefficients
are Python floats, so a step costs the model call plus a handful of fused tensor ops.

Names and defaults live in ONE table, `SAMPLERS` (`SAMPLER_NAMES` lists its keys): each
sampler's default number of steps and default timestep spacing (`vhdiff.diffusion.grids`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import torch
from torch import Tensor

from vhdiff.diffusion.gaussian import Denoised, DiffusionProcess, Model, Respaced, ReverseStep
from vhdiff.diffusion.grids import Spacing, check_grid, timestep_grid
from vhdiff.diffusion.helpers import check_choice, progress_bar, randn_like
from vhdiff.diffusion.schedule import NoiseSchedule

SamplerName = Literal["ddpm", "ddim", "dpm++", "dpm-hybrid"]
SAMPLER_NAMES: tuple[str, ...] = get_args(SamplerName)
SAMPLER_ALIASES = {"dpm++2m": "dpm++", "dpmpp": "dpm++", "dpmpp_2m": "dpm++", "dpm-solver++": "dpm++"}
# dpm-hybrid: noise prediction while the step ends at log(alpha / sigma) <= this, data
# prediction after (measured on the Gaussian oracle, BENCHMARKS.md: 1 beat 0, 0.5, 1.5, 2)
HYBRID_SWITCH_LAMBDA = 1.0

NoiseFn = Callable[[Tensor], Tensor]


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


@dataclass(frozen=True)
class Grid:
    """A sampler's walk: training indices t_i (descending) and the schedule there, as floats.

    alpha_bar[i] = alpha_bar_{t_i}; alpha = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar) and
    lam = log(alpha / sigma) (half the log-SNR; -inf where alpha_bar = 0), DPM-Solver's notation.
    """

    timesteps: list[int]
    alpha_bar: list[float]

    @classmethod
    def on(cls, schedule: NoiseSchedule, timesteps: Tensor) -> Grid:
        ts = timesteps.tolist()
        return cls(timesteps=ts, alpha_bar=schedule.alphas_cumprod[timesteps].tolist())

    def __len__(self) -> int:
        return len(self.timesteps)

    @property
    def alpha(self) -> list[float]:
        return [math.sqrt(a) for a in self.alpha_bar]

    @property
    def sigma(self) -> list[float]:
        return [math.sqrt(1.0 - a) for a in self.alpha_bar]

    @property
    def lam(self) -> list[float]:
        return [0.5 * (math.log(a) - math.log1p(-a)) if a > 0 else -math.inf for a in self.alpha_bar]


class Denoiser:
    """The model as a sampler sees it: ``denoise(x, i)`` is one model call at grid step i.

    It counts calls (nfe), keeps the requested intermediates, flags NaN outputs (checked
    once at the end: no host sync per step) and draws the progress bar (`steps()`).
    """

    def __init__(
        self, diffusion: DiffusionProcess, model: Model, grid: Grid, *, cond: dict[str, Any],
        requested: Iterable[int] = (), progress: bool = False, desc: str = "sample",
        clip_denoised: float | None = None, dynamic_threshold: float | None = None,
    ) -> None:
        self.diffusion = diffusion
        self.model = model
        self.grid = grid
        self.cond = cond
        self.denoise_kw = {"clip_denoised": clip_denoised, "dynamic_threshold": dynamic_threshold}
        self.progress = progress
        self.desc = desc
        self.out = SampleOutput(sample=torch.empty(0), timesteps=torch.tensor(grid.timesteps, dtype=torch.long))
        self._requested = sorted({int(r) for r in requested}, reverse=True)
        self._nan_flags: list[Tensor] = []
        self._respaced: Respaced | None = None

    def steps(self) -> Iterator[int]:
        """Grid positions 0..N-1, behind a progress bar when asked for."""
        n = len(self.grid)
        return iter(progress_bar(range(n), total=n, desc=self.desc, enabled=self.progress))

    def __call__(self, x: Tensor, i: int) -> Denoised:
        """The model's x_0 / eps estimates at (x, t_i)."""
        d = self.diffusion.denoise(self.model, x, self.grid.timesteps[i], self.cond, **self.denoise_kw)
        self._record(i, x, d.pred_x0)
        return d

    def reverse_step(self, x: Tensor, i: int) -> ReverseStep:
        """p(x_{t_{i+1}} | x_{t_i}) of the chain respaced to the grid (betas recomputed,
        improved DDPM sec. 4); one model call. Used by DDPM ancestral sampling."""
        if self._respaced is None:
            self._respaced = self.diffusion.respace(torch.tensor(self.grid.timesteps))
        r = self._respaced
        level = len(self.grid) - 1 - i  # sub-step index of t_i in the ascending respaced chain
        step = r.diffusion.reverse_step_params(r.wrap(self.model), x, level, self.cond, **self.denoise_kw)
        self._record(i, x, step.denoised.pred_x0)
        return step

    def _record(self, i: int, x: Tensor, pred_x0: Tensor) -> None:
        t = self.grid.timesteps[i]
        self.out.nfe += 1
        self._nan_flags.append(torch.isnan(pred_x0).any())
        while self._requested and t <= self._requested[0]:
            r = self._requested.pop(0)
            self.out.intermediates[r] = x.clone()
            self.out.pred_x0[r] = pred_x0.clone()

    def finish(self, x0: Tensor) -> SampleOutput:
        """The run's SampleOutput; FloatingPointError naming the first step with NaN output."""
        if self._nan_flags:
            flags = torch.stack(self._nan_flags)
            if bool(flags.any()):
                first = int(flags.nonzero()[0, 0])
                raise FloatingPointError(
                    f"the model output contains NaN at sampling step {first} "
                    f"(training timestep t={self.grid.timesteps[first]}); check the model's weights "
                    "and inputs (dtype, normalisation) - mixed precision overflow is a common cause"
                )
        self.out.sample = x0
        return self.out


# ---------------------------------------------------------------------- the samplers
def sample_ddpm(denoise: Denoiser, x: Tensor, grid: Grid, *, eta: float, noise: NoiseFn) -> Tensor:
    """Ancestral sampling x_{t_i} -> x_{t_{i+1}} ~ p(x_{t_{i+1}} | x_{t_i}) (DDPM Alg. 2).

    On a sub-grid the chain is respaced (betas recomputed for the kept steps, improved DDPM
    sec. 4): `Denoiser.reverse_step`. The last step returns the mean (no noise at t = 0).
    """
    del eta
    for i in denoise.steps():
        step = denoise.reverse_step(x, i)
        last = i + 1 == len(grid)
        x = step.mean if last else step.mean + torch.exp(0.5 * step.log_variance) * noise(x)
    return x


def sample_ddim(denoise: Denoiser, x: Tensor, grid: Grid, *, eta: float, noise: NoiseFn) -> Tensor:
    """DDIM (Song et al. 2021, eq. 12): deterministic at eta=0, DDPM's posterior variance at eta=1.

    x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - sigma^2) eps_hat + sigma z,
    sigma = eta sqrt((1 - ab_s) / (1 - ab_t)) sqrt(1 - ab_t / ab_s)   (eq. 16); ab_s = 1 after
    the last grid step.
    """
    ab = [*grid.alpha_bar, 1.0]
    for i in denoise.steps():
        d = denoise(x, i)
        ab_t, ab_s = ab[i], ab[i + 1]
        sigma = eta * math.sqrt(max((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s), 0.0)) if ab_t < 1 else 0.0
        x = torch.add(d.pred_x0 * math.sqrt(ab_s), d.pred_eps, alpha=math.sqrt(max(1 - ab_s - sigma**2, 0.0)))
        if sigma > 0:
            x = x.add_(noise(x), alpha=sigma)
    return x


def sample_dpmpp_2m(denoise: Denoiser, x: Tensor, grid: Grid, *, eta: float, noise: NoiseFn) -> Tensor:
    """DPM-Solver++(2M): multistep, second order, data prediction (Lu et al. 2022b, Alg. 2).

    With h = lam_s - lam_t:  x_s = (sigma_s / sigma_t) x_t - alpha_s (e^{-h} - 1) D, where
    D = (1 + 1/(2r)) x0_i - 1/(2r) x0_{i-1}, r = h_{i-1} / h_i (first order at the first step).
    The last model call returns its x_0 estimate (the step to sigma = 0, first order).
    """
    del eta, noise
    return _multistep_2m(denoise, x, grid, noise_below=-math.inf)


def sample_dpm_hybrid(denoise: Denoiser, x: Tensor, grid: Grid, *, eta: float, noise: NoiseFn) -> Tensor:
    """DPM-Solver-2M in noise prediction at low SNR, DPM-Solver++(2M) in data prediction after.

    Each step extrapolates the prediction that varies least over it: at low SNR the noise
    estimate is nearly constant along the ODE (for Gaussian data eps = z / sqrt(1 + s^2 e^{2 lam})),
    at high SNR the x_0 estimate is. A step ending at lam_s <= HYBRID_SWITCH_LAMBDA uses
    x_s = (alpha_s / alpha_t) x_t - sigma_s (e^{h} - 1) E with E the same two-step
    combination of eps estimates (Lu et al. 2022a eq. 3.7, multistep as in 2022b sec. 4.2);
    later steps are DPM-Solver++(2M). Same model calls as dpm++, more accurate on the exact
    denoiser of Gaussian data (BENCHMARKS.md).
    """
    del eta, noise
    return _multistep_2m(denoise, x, grid, noise_below=HYBRID_SWITCH_LAMBDA)


def _multistep_2m(denoise: Denoiser, x: Tensor, grid: Grid, *, noise_below: float) -> Tensor:
    """Second-order multistep exponential integrator; noise form while lam_s <= noise_below."""
    alpha, sigma, lam = grid.alpha, grid.sigma, grid.lam
    prev: Denoised | None = None
    h_prev = math.nan
    for i in denoise.steps():
        d = denoise(x, i)
        if i + 1 == len(grid):
            return d.pred_x0
        h = lam[i + 1] - lam[i]
        noise_form = lam[i + 1] <= noise_below and math.isfinite(lam[i])  # alpha_t > 0
        cur = d.pred_eps if noise_form else d.pred_x0
        if prev is None or not math.isfinite(h_prev):
            D = cur
        else:
            r = h_prev / h
            old = prev.pred_eps if noise_form else prev.pred_x0
            D = torch.add(cur * (1 + 1 / (2 * r)), old, alpha=-1 / (2 * r))
        if noise_form:
            x = torch.add(x * (alpha[i + 1] / alpha[i]), D, alpha=-sigma[i + 1] * math.expm1(h))
        else:
            x = torch.add(x * (sigma[i + 1] / sigma[i]), D, alpha=-alpha[i + 1] * math.expm1(-h))
        prev, h_prev = d, h
    return x


SamplerFn = Callable[..., Tensor]


@dataclass(frozen=True)
class SamplerSpec:
    """One row of the sampler table: the function and its defaults."""

    run: SamplerFn
    default_steps: int | None  # None: every training step
    default_spacing: Spacing
    uses_eta: bool = False


# The one table of samplers. Default spacings: the ODE solvers' is logsnr, the most accurate
# on the exact denoiser of Gaussian data at 10 and 20 calls (BENCHMARKS.md); DDPM / DDIM keep
# trailing (x_T is pure noise). A pipeline may measure its own and pass timestep_spacing.
SAMPLERS: dict[str, SamplerSpec] = {
    "ddpm": SamplerSpec(sample_ddpm, None, "trailing"),
    "ddim": SamplerSpec(sample_ddim, 50, "trailing", uses_eta=True),
    "dpm++": SamplerSpec(sample_dpmpp_2m, 20, "logsnr"),
    "dpm-hybrid": SamplerSpec(sample_dpm_hybrid, 20, "logsnr"),
}
assert tuple(SAMPLERS) == SAMPLER_NAMES, "SAMPLERS and SamplerName must list the same samplers"


def resolve_sampler(name: str) -> SamplerName:
    """The sampler's canonical name (SAMPLER_ALIASES resolved); ValueError listing SAMPLER_NAMES."""
    name = SAMPLER_ALIASES.get(name, name)
    check_choice("sampler", name, SAMPLER_NAMES)
    return name  # type: ignore[return-value]


def sampler_grid(
    schedule: NoiseSchedule, sampler: SamplerName, *, steps: int | None = None,
    timestep_spacing: Spacing | None = None, timesteps: Sequence[int] | Tensor | None = None,
) -> Tensor:
    """The descending training-timestep grid a sampler walks (long [N], CPU).

    timesteps: an explicit grid (checked, used as is); else `steps` points (None: the
    sampler's default count) on `timestep_spacing` (None: the sampler's default spacing).
    Sampling, SDEdit, inpainting and DDIM inversion all take their grid from here.
    """
    T = schedule.num_timesteps
    if timesteps is not None:
        return check_grid(timesteps, T)
    spec = SAMPLERS[resolve_sampler(sampler)]
    n = steps if steps is not None else (spec.default_steps or T)
    spacing = spec.default_spacing if timestep_spacing is None else timestep_spacing
    return timestep_grid(schedule, n, spacing)


def sample(
    diffusion: DiffusionProcess,
    model: Model,
    shape: Sequence[int],
    *,
    sampler: SamplerName = "ddpm",
    steps: int | None = None,
    eta: float = 0.0,
    timestep_spacing: Spacing | None = None,
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

    sampler: one of SAMPLER_NAMES: "ddpm" (ancestral; steps=None means all T steps, fewer
        respaces the betas), "ddim" (eta: 0 deterministic, 1 = DDPM's variance; default 50
        steps), "dpm++" (DPM-Solver++(2M); default 20) or "dpm-hybrid" (noise prediction
        at low SNR, then DPM-Solver++(2M); default 20).
    steps: model calls (one per grid point); timestep_spacing: one of SPACINGS, None = the
        sampler's default (`SAMPLERS`); timesteps: an explicit descending grid of training
        indices (overrides steps / spacing).
    x_T: the starting noise (else drawn from `generator`); return_intermediates: training
        timesteps at which to keep x_t and the x_0 estimate (e.g. (999, 750, 500, 250)).
    cond: keyword conditions for the model (text_emb=..., mask=..., ...).
    """
    grid = sampler_grid(
        diffusion.schedule, sampler, steps=steps, timestep_spacing=timestep_spacing, timesteps=timesteps
    )
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
    diffusion: DiffusionProcess,
    model: Model,
    x_t: Tensor,
    grid: Tensor,
    *,
    sampler: SamplerName,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    return_intermediates: Iterable[int] = (),
    progress: bool = False,
    clip_denoised: float | None = None,
    dynamic_threshold: float | None = None,
    cond: dict[str, Any] | None = None,
) -> SampleOutput:
    """Run a sampler from x_t [B, ...] (at grid[0]) down the descending training-timestep `grid`."""
    name = resolve_sampler(sampler)
    spec = SAMPLERS[name]
    if spec.uses_eta and not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1], got {eta}")
    walk = Grid.on(diffusion.schedule, check_grid(grid, diffusion.num_timesteps))
    denoise = Denoiser(
        diffusion, model, walk, cond=dict(cond or {}), requested=return_intermediates,
        progress=progress, desc=name, clip_denoised=clip_denoised, dynamic_threshold=dynamic_threshold,
    )
    with torch.no_grad():
        x0 = spec.run(denoise, x_t, walk, eta=eta, noise=lambda like: randn_like(like, generator))
    return denoise.finish(x0)
