"""Noise schedules and the closed-form Gaussian math of DDPM.

Notation follows Ho et al. 2020 ("DDPM") with 0-based indices: index t in [0, T) is the
paper's step t+1. alpha_bar_t = prod_{s<=t} (1 - beta_s).

Everything is stored in float64 and cast to the tensor's dtype at use. A schedule built by
`linear`, `cosine`, `sigmoid` or `from_config` carries its `ScheduleConfig` (flat keys, the
"diffusion" section of a pipeline.json), so it can be saved and rebuilt.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, get_args

import torch
from torch import Tensor

from vhdiff.diffusion.helpers import as_tensor_like, check_choice, dataclass_from_dict, gather

ScheduleName = Literal["linear", "cosine", "sigmoid"]
SCHEDULE_NAMES: tuple[str, ...] = get_args(ScheduleName)
COSINE_MAX_BETA = 0.999  # the clip of improved DDPM's cosine betas (what a config builds)


@dataclass
class ScheduleConfig:
    """A noise schedule as flat keys (saved in pipeline.json / YAML under ``diffusion:``).

    schedule: "linear" (uses beta_start, beta_end), "cosine" (uses cosine_s; betas clipped
    at 0.999) or "sigmoid" (Chen 2023's defaults); timesteps: T; zero_terminal_snr: rescale
    to alpha_bar_{T-1} = 0 (Lin et al. 2024). Keys a schedule does not use are kept as given.
    """

    schedule: ScheduleName = "cosine"
    timesteps: int = 1000
    beta_start: float = 1e-4  # linear schedule
    beta_end: float = 2e-2  # linear schedule
    cosine_s: float = 0.008  # cosine schedule offset s
    zero_terminal_snr: bool = False

    def __post_init__(self) -> None:
        check_choice("schedule", self.schedule, SCHEDULE_NAMES)
        _check_T(self.timesteps)
        if self.schedule == "linear":
            _check_linear_betas(self.beta_start, self.beta_end)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleConfig:
        """The config from its flat keys; an unknown key is a ValueError listing the valid ones."""
        return dataclass_from_dict(cls, data, what="schedule")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class GaussianParams(NamedTuple):
    """A diagonal Gaussian: mean [B, ...], variance and log-variance broadcastable to it."""

    mean: Tensor
    variance: Tensor
    log_variance: Tensor


class NoiseSchedule:
    """A discrete variance schedule beta_0..beta_{T-1} and every quantity derived from it.

    Build one with `linear`, `cosine`, `sigmoid` or `from_betas`. Tables are float64 [T].
    """

    def __init__(self, betas: Tensor | Sequence[float]) -> None:
        b = torch.as_tensor(betas, dtype=torch.float64).detach().clone().cpu()
        if b.ndim != 1 or b.numel() < 1:
            raise ValueError(f"betas must be a non-empty 1-d sequence, got shape {tuple(b.shape)}")
        if not torch.isfinite(b).all():
            raise ValueError("betas contain NaN or inf")
        if (b <= 0).any() or (b > 1).any():
            raise ValueError("every beta must lie in (0, 1]")
        if (b[:-1] >= 1).any():
            raise ValueError("only the last beta may equal 1 (zero terminal SNR)")
        self.betas = b
        self.alphas = 1.0 - b
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.alphas_cumprod_prev = torch.cat([b.new_ones(1), self.alphas_cumprod[:-1]])
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.sqrt_one_minus_alphas_cumprod = (1.0 - self.alphas_cumprod).sqrt()
        # DDPM eq. 7: q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I)
        self.posterior_variance = b * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        # beta~_0 = 0, so log beta~ is clipped at t=0 to beta~_1 (improved DDPM, sec. 3.1)
        first = self.posterior_variance[1] if len(b) > 1 else b[0]
        self.posterior_log_variance_clipped = torch.log(
            torch.cat([first.reshape(1), self.posterior_variance[1:]])
        )
        self.posterior_mean_coef1 = b * self.alphas_cumprod_prev.sqrt() / (1.0 - self.alphas_cumprod)
        self.posterior_mean_coef2 = (
            (1.0 - self.alphas_cumprod_prev) * self.alphas.sqrt() / (1.0 - self.alphas_cumprod)
        )
        # "fixed_large" reverse variance: beta_t, with beta~_1 at t=0 (improved DDPM's choice,
        # so that the decoder variance at t=0 is not beta_0, which is tiny)
        self.fixed_large_variance = torch.cat([first.reshape(1), b[1:]])
        self.fixed_large_log_variance = torch.log(self.fixed_large_variance)
        self.log_betas = torch.log(b)
        # how the schedule was built, when a ScheduleConfig can say it (None: custom betas)
        self.config: ScheduleConfig | None = None
        self._device_tables: dict[tuple[str, str], Tensor] = {}
        self._floats: dict[str, list[float]] = {}

    # ------------------------------------------------------------------ constructors
    @classmethod
    def linear(cls, T: int = 1000, beta_start: float = 1e-4, beta_end: float = 2e-2) -> NoiseSchedule:
        """DDPM's linear schedule (Ho et al. 2020, sec. 4): betas evenly spaced."""
        _check_T(T)
        _check_linear_betas(beta_start, beta_end)
        out = cls(torch.linspace(beta_start, beta_end, T, dtype=torch.float64))
        out.config = ScheduleConfig(schedule="linear", timesteps=T, beta_start=beta_start, beta_end=beta_end)
        return out

    @classmethod
    def cosine(cls, T: int = 1000, s: float = 0.008, max_beta: float = COSINE_MAX_BETA) -> NoiseSchedule:
        """Improved DDPM's cosine schedule (Nichol & Dhariwal 2021, eq. 17), betas clipped at max_beta."""
        _check_T(T)
        if not 0 < max_beta <= 1:
            raise ValueError(f"max_beta must lie in (0, 1], got {max_beta}")

        def alpha_bar(u: float) -> float:
            return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

        out = cls._from_alpha_bar(alpha_bar, T, max_beta)
        if max_beta == COSINE_MAX_BETA:
            out.config = ScheduleConfig(schedule="cosine", timesteps=T, cosine_s=s)
        return out

    @classmethod
    def sigmoid(
        cls, T: int = 1000, start: float = -3.0, end: float = 3.0, tau: float = 1.0,
        max_beta: float = 0.999,
    ) -> NoiseSchedule:
        """Sigmoid schedule of Chen 2023 ("On the importance of noise scheduling", Alg. 1)."""
        _check_T(T)
        if not start < end or tau <= 0:
            raise ValueError(f"need start < end and tau > 0, got {start}, {end}, {tau}")
        v_start = 1 / (1 + math.exp(-start / tau))
        v_end = 1 / (1 + math.exp(-end / tau))

        def alpha_bar(u: float) -> float:
            v = 1 / (1 + math.exp(-(u * (end - start) + start) / tau))
            return (v_end - v) / (v_end - v_start)

        out = cls._from_alpha_bar(alpha_bar, T, max_beta)
        if (start, end, tau, max_beta) == (-3.0, 3.0, 1.0, COSINE_MAX_BETA):
            out.config = ScheduleConfig(schedule="sigmoid", timesteps=T)
        return out

    @classmethod
    def from_betas(cls, betas: Tensor | Sequence[float]) -> NoiseSchedule:
        """A schedule from explicit betas [T] (it has no config: save the betas yourself)."""
        return cls(betas)

    @classmethod
    def from_config(cls, config: ScheduleConfig) -> NoiseSchedule:
        """The schedule a `ScheduleConfig` describes; `schedule.config` is that config."""
        build = {
            "linear": lambda: cls.linear(T=config.timesteps, beta_start=config.beta_start, beta_end=config.beta_end),
            "cosine": lambda: cls.cosine(T=config.timesteps, s=config.cosine_s),
            "sigmoid": lambda: cls.sigmoid(T=config.timesteps),
        }[config.schedule]
        out = build()
        if config.zero_terminal_snr:
            out = out.rescale_zero_terminal_snr()
        out.config = config
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NoiseSchedule:
        """`from_config(ScheduleConfig.from_dict(data))`: the flat keys of `to_dict`."""
        return cls.from_config(ScheduleConfig.from_dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The flat config keys; a ValueError for a schedule without a config (custom betas)."""
        if self.config is None:
            raise ValueError(
                "this schedule was built from explicit betas (or respaced) and has no config; "
                "build it with NoiseSchedule.linear / cosine / sigmoid or from_config to save it"
            )
        return self.config.to_dict()

    @classmethod
    def _from_alpha_bar(cls, alpha_bar: Callable[[float], float], T: int, max_beta: float) -> NoiseSchedule:
        betas = [
            min(1 - alpha_bar((i + 1) / T) / max(alpha_bar(i / T), 1e-300), max_beta)
            for i in range(T)
        ]
        return cls(torch.tensor(betas, dtype=torch.float64).clamp_min(1e-12))

    def rescale_zero_terminal_snr(self) -> NoiseSchedule:
        """Shift and scale sqrt(alpha_bar) so that alpha_bar_{T-1} = 0 (Lin et al. 2024, Alg. 1).

        The terminal step then carries no signal, so x_T ~ N(0, I) exactly; pair it with
        prediction "v" or "x0" (eps cannot recover x0 at zero SNR).
        """
        ab_sqrt = self.sqrt_alphas_cumprod.clone()
        first, last = ab_sqrt[0].clone(), ab_sqrt[-1].clone()
        ab_sqrt = (ab_sqrt - last) * first / (first - last)
        ab = ab_sqrt**2
        alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
        out = NoiseSchedule(1.0 - alphas)
        if self.config is not None and not self.config.zero_terminal_snr:
            out.config = dataclasses.replace(self.config, zero_terminal_snr=True)
        return out

    def respace(self, timesteps: Sequence[int] | Tensor) -> tuple[NoiseSchedule, Tensor]:
        """A schedule over a subset of the training steps, with betas recomputed.

        For kept steps t_0 < t_1 < ... the new betas are 1 - alpha_bar_{t_i} / alpha_bar_{t_{i-1}}
        (improved DDPM, sec. 4), so alpha_bar at each kept step is unchanged.
        Returns (schedule, timestep_map) where timestep_map[i] is the training index of new step i.
        """
        ts = torch.as_tensor(timesteps, dtype=torch.long).flatten().unique(sorted=True)
        if ts.numel() < 1 or int(ts[0]) < 0 or int(ts[-1]) >= self.num_timesteps:
            raise ValueError(f"respaced timesteps must lie in [0, {self.num_timesteps})")
        ab = self.alphas_cumprod[ts]
        prev = torch.cat([ab.new_ones(1), ab[:-1]])
        return NoiseSchedule(1.0 - ab / prev), ts

    # ------------------------------------------------------------------ properties
    @property
    def num_timesteps(self) -> int:
        return int(self.betas.shape[0])

    @property
    def T(self) -> int:
        return self.num_timesteps

    @property
    def has_zero_terminal_snr(self) -> bool:
        return bool(self.alphas_cumprod[-1] <= 1e-12)

    def snr(self, t: Tensor) -> Tensor:
        """Signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t), float64 [B]."""
        ab = self.alphas_cumprod[t.cpu()]
        return ab / (1.0 - ab)

    def table(self, name: str, device: torch.device) -> Tensor:
        """A float64 table (e.g. 'alphas_cumprod') on `device`, cached."""
        key = (name, str(device))
        cached = self._device_tables.get(key)
        if cached is None:
            cached = getattr(self, name).to(device)
            self._device_tables[key] = cached
        return cached

    def at(self, name: str, t: Tensor | int, like: Tensor) -> Tensor | float:
        """Table `name` at t, broadcastable to `like`: a [B, 1, ...] tensor for t long [B], or a
        Python float when t is an int (one timestep for the whole batch, as in samplers: no
        gather, no copy)."""
        if isinstance(t, int):
            values = self._floats.get(name)
            if values is None:
                values = self._floats[name] = getattr(self, name).tolist()
            return values[t]
        return gather(self.table(name, like.device), t, like)

    # ------------------------------------------------------------------ forward process
    def q_sample(
        self, x0: Tensor, t: Tensor | int, noise: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Sample x_t ~ q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) (DDPM eq. 4)."""
        if noise is None:
            noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        elif noise.shape != x0.shape:
            raise ValueError(f"noise has shape {tuple(noise.shape)} but x0 has {tuple(x0.shape)}")
        return self.at("sqrt_alphas_cumprod", t, x0) * x0 + self.at(
            "sqrt_one_minus_alphas_cumprod", t, x0
        ) * noise

    def q_mean_variance(self, x0: Tensor, t: Tensor | int) -> GaussianParams:
        """Mean, variance and log-variance of q(x_t | x_0)."""
        mean = self.at("sqrt_alphas_cumprod", t, x0) * x0
        var = as_tensor_like(1.0 - self.at("alphas_cumprod", t, x0), x0)
        return GaussianParams(mean, var, torch.log(var))

    def posterior(self, x0: Tensor, x_t: Tensor, t: Tensor | int) -> GaussianParams:
        """q(x_{t-1} | x_t, x_0) = N(mu~_t(x_t, x_0), beta~_t I) (DDPM eqs. 6-7).

        log_variance is clipped at t=0 (improved DDPM): beta~_0 = 0 would be -inf.
        """
        mean = self.at("posterior_mean_coef1", t, x_t) * x0 + self.at(
            "posterior_mean_coef2", t, x_t
        ) * x_t
        return GaussianParams(
            mean,
            as_tensor_like(self.at("posterior_variance", t, x_t), x_t),
            as_tensor_like(self.at("posterior_log_variance_clipped", t, x_t), x_t),
        )

    # ------------------------------------------------------------------ parametrizations
    def predict_x0(self, x_t: Tensor, t: Tensor | int, eps: Tensor) -> Tensor:
        """x_0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar) (inverse of DDPM eq. 4)."""
        return (x_t - self.at("sqrt_one_minus_alphas_cumprod", t, x_t) * eps) / self.at(
            "sqrt_alphas_cumprod", t, x_t
        )

    def predict_eps(self, x_t: Tensor, t: Tensor | int, x0: Tensor) -> Tensor:
        """eps = (x_t - sqrt(alpha_bar) x_0) / sqrt(1 - alpha_bar)."""
        return (x_t - self.at("sqrt_alphas_cumprod", t, x_t) * x0) / self.at(
            "sqrt_one_minus_alphas_cumprod", t, x_t
        )

    def velocity(self, x0: Tensor, eps: Tensor, t: Tensor | int) -> Tensor:
        """v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x_0 (Salimans & Ho 2022, sec. 4)."""
        return self.at("sqrt_alphas_cumprod", t, x0) * eps - self.at(
            "sqrt_one_minus_alphas_cumprod", t, x0
        ) * x0

    def x0_from_v(self, x_t: Tensor, t: Tensor | int, v: Tensor) -> Tensor:
        """x_0 = sqrt(alpha_bar) x_t - sqrt(1 - alpha_bar) v."""
        return self.at("sqrt_alphas_cumprod", t, x_t) * x_t - self.at(
            "sqrt_one_minus_alphas_cumprod", t, x_t
        ) * v

    def eps_from_v(self, x_t: Tensor, t: Tensor | int, v: Tensor) -> Tensor:
        """eps = sqrt(1 - alpha_bar) x_t + sqrt(alpha_bar) v."""
        return self.at("sqrt_one_minus_alphas_cumprod", t, x_t) * x_t + self.at(
            "sqrt_alphas_cumprod", t, x_t
        ) * v

    def __repr__(self) -> str:
        return (
            f"NoiseSchedule(T={self.num_timesteps}, beta[0]={float(self.betas[0]):.3g}, "
            f"beta[-1]={float(self.betas[-1]):.3g}, alpha_bar[-1]={float(self.alphas_cumprod[-1]):.3g})"
        )


def _check_T(T: int) -> None:
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T (number of diffusion steps, 'timesteps') must be a positive int, got {T!r}")


def _check_linear_betas(beta_start: float, beta_end: float) -> None:
    if not 0 < beta_start <= beta_end < 1:
        raise ValueError(f"need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
