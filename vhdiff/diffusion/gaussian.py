"""The Gaussian diffusion process: parametrizations, reverse-process moments, losses, the VLB.

The model is passed in at every call (the model contract of DESIGN.md):
``model(x_t [B, ...], t long [B], **cond) -> prediction [B, ...]`` or, with
``variance="learned_range"``, the pair ``(prediction, v)``.
Nothing here knows what x is: images, motion and point clouds are all ``[B, ...]``.
Sampling lives in `vhdiff.diffusion.samplers`; `vhdiff.diffusion.GaussianDiffusion` adds it
as a method (vhdiff.diffusion.core), so this module never imports the samplers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

import torch
from torch import Tensor
from typing_extensions import Self

from vhdiff.diffusion.helpers import (
    append_dims,
    as_tensor_like,
    check_choice,
    check_timesteps,
    dataclass_from_dict,
    mean_over_elements,
    progress_bar,
    split_pair,
)
from vhdiff.diffusion.likelihood import (
    continuous_gaussian_log_likelihood,
    discretized_gaussian_log_likelihood,
    normal_kl,
)
from vhdiff.diffusion.schedule import NoiseSchedule, ScheduleConfig

Prediction = Literal["eps", "x0", "v"]
Variance = Literal["fixed_small", "fixed_large", "learned_range"]
LossType = Literal["mse", "vlb", "hybrid"]
LossWeighting = Literal["min_snr"]
Decoder = Literal["continuous", "discretized"]

# a key older pipeline.json / YAML files hold in their diffusion section: it is a training
# setting now (TrainerConfig.timestep_sampling), read and dropped here, never written
LEGACY_TIMESTEP_SAMPLING_KEY = "timestep_sampling"

Model = Callable[..., Any]
P = TypeVar("P", bound="DiffusionProcess")


@dataclass
class Denoised:
    """What one model call says about x_0 at step t (all [B, ...] like x_t)."""

    pred_x0: Tensor
    pred_eps: Tensor
    output: Tensor  # the raw prediction (eps, x0 or v)
    var_interp: Tensor | None = None  # learned_range's v, None for fixed variances


@dataclass
class ReverseStep:
    """p(x_{t-1} | x_t): Gaussian moments plus the denoised estimate they came from."""

    mean: Tensor
    variance: Tensor
    log_variance: Tensor
    denoised: Denoised


@dataclass
class TrainingLosses:
    """Per-sample training losses, all [B]. `loss` is what to minimise (mean over the batch).

    Importance weights of a loss-aware timestep sampler are the trainer's business
    (vhdiff.training.timesteps): nothing here is weighted by them.
    """

    loss: Tensor
    t: Tensor
    mse: Tensor | None = None  # L_simple on the chosen target (after min-SNR weighting)
    vlb: Tensor | None = None  # the VLB term L_{t-1} (or L_0 at t=0), bits per element
    # the model's estimate of x_0 [B, ...] (with gradient), for extra losses on the clean
    # sample, e.g. the motion pipeline's geometric losses (MDM, Tevet et al. 2023, eq. 5-7)
    pred_x0: Tensor | None = None


@dataclass
class VLBTerms:
    """The variational bound of DDPM eq. 5, per sample, in bits per (real) element.

    total = prior + sum_t terms[:, t]; terms[:, 0] is the decoder term L_0,
    terms[:, t] for t >= 1 the KL term L_t (paper's L_{t-1} with 1-based steps).
    """

    total: Tensor  # [B] the negative ELBO: an upper bound of the NLL
    prior: Tensor  # [B] L_T = KL(q(x_T | x_0) || N(0, I))
    terms: Tensor  # [B, T]
    x0_mse: Tensor  # [B, T] mean squared error of the model's x_0 estimate per t
    eps_mse: Tensor  # [B, T]

    @property
    def decoder(self) -> Tensor:
        return self.terms[:, 0]

    @property
    def nll(self) -> Tensor:
        """The bound in bits/dim (the quantity papers report as NLL)."""
        return self.total


@dataclass
class DiffusionOptions:
    """Every `GaussianDiffusion` option but the schedule (its keyword-only arguments).

    Validated on creation: a bad choice is a ValueError naming the valid options.
    `extra` is free-form metadata kept with the config (never read by the core).
    """

    prediction: Prediction = "eps"
    variance: Variance = "fixed_small"
    loss: LossType = "mse"
    loss_weighting: LossWeighting | None = None
    min_snr_gamma: float = 5.0
    vlb_weight: float = 1e-3
    decoder: Decoder = "continuous"
    decoder_bins: int = 256
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("prediction", self.prediction, get_args(Prediction))
        check_choice("variance", self.variance, get_args(Variance))
        check_choice("loss", self.loss, get_args(LossType))
        check_choice("loss_weighting", self.loss_weighting, (None, *get_args(LossWeighting)))
        check_choice("decoder", self.decoder, get_args(Decoder))
        if self.variance == "learned_range" and self.loss == "mse":
            raise ValueError(
                "variance='learned_range' is trained by the VLB: use loss='hybrid' (or 'vlb'), "
                "or a fixed variance with loss='mse'"
            )
        if self.min_snr_gamma <= 0 or self.vlb_weight < 0 or self.decoder_bins < 2:
            raise ValueError("need min_snr_gamma > 0, vlb_weight >= 0 and decoder_bins >= 2")


@dataclass
class DiffusionConfig(DiffusionOptions, ScheduleConfig):
    """A whole diffusion as flat keys: the schedule's (`ScheduleConfig`) and the options'
    (`DiffusionOptions`). It is the "diffusion" section of a pipeline.json and of a YAML
    run config; `GaussianDiffusion.from_config` builds it, `diffusion.config` gives it back.
    """

    def __post_init__(self) -> None:
        ScheduleConfig.__post_init__(self)
        DiffusionOptions.__post_init__(self)
        check_prediction_for_schedule(self.prediction, zero_terminal_snr=self.zero_terminal_snr)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiffusionConfig:
        """The config from flat keys (missing keys take their defaults). A legacy
        "timestep_sampling" key is accepted and dropped (a trainer setting now); any other
        unknown key is a ValueError listing the valid ones."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a diffusion config must be a mapping of keys, got {type(data).__name__}")  # noqa: TRY004
        known = {k: v for k, v in data.items() if k != LEGACY_TIMESTEP_SAMPLING_KEY}
        return dataclass_from_dict(cls, known, what="diffusion")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def schedule_config(self) -> ScheduleConfig:
        return ScheduleConfig(**_fields_of(ScheduleConfig, self))

    def options(self) -> DiffusionOptions:
        return DiffusionOptions(**_fields_of(DiffusionOptions, self))


def _fields_of(cls: type, obj: object) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)}


def check_prediction_for_schedule(prediction: str, *, zero_terminal_snr: bool) -> None:
    """eps cannot recover x0 where alpha_bar = 0: refuse that pair (ValueError)."""
    if zero_terminal_snr and prediction == "eps":
        raise ValueError(
            "a zero-terminal-SNR schedule cannot recover x0 from eps at the last step; "
            "use prediction='v' or 'x0'"
        )


class DiffusionProcess:
    """DDPM / improved-DDPM Gaussian diffusion over tensors of any shape (no sampling here:
    `vhdiff.diffusion.GaussianDiffusion` is this class plus `sample`).

    Args:
        schedule: the training noise schedule (T steps); default the cosine schedule.
        prediction: what the model predicts: "eps" (noise), "x0" (clean data) or "v"
            (velocity, Salimans & Ho 2022).
        variance: reverse-process variance: "fixed_small" (beta~_t, the posterior's),
            "fixed_large" (beta_t) or "learned_range" (the model returns (prediction, v),
            log sigma^2 = frac * log beta_t + (1 - frac) * log beta~_t, frac = (v + 1) / 2;
            improved DDPM eq. 15).
        loss: "mse" (L_simple), "vlb" (the bound, an unbiased one-t estimate T * L_t) or
            "hybrid" (L_simple + vlb_weight * T * L_t with the mean's gradient stopped in the
            VLB term, improved DDPM sec. 3.1). learned_range needs "vlb" or "hybrid".
        loss_weighting: None or "min_snr" (Hang et al. 2023: weight min(SNR, gamma) turned into
            the chosen target's units).
        decoder: L_0's likelihood: "continuous" Gaussian, or "discretized" for 8-bit data
            scaled to [-1, 1] (DDPM eq. 13).
        extra: free-form metadata kept in the config.

    Save and rebuild: `diffusion.to_dict()` / `GaussianDiffusion.from_dict(d)` (flat keys,
    see `DiffusionConfig`).
    """

    def __init__(
        self,
        schedule: NoiseSchedule | None = None,
        *,
        prediction: Prediction = "eps",
        variance: Variance = "fixed_small",
        loss: LossType = "mse",
        loss_weighting: LossWeighting | None = None,
        min_snr_gamma: float = 5.0,
        vlb_weight: float = 1e-3,
        decoder: Decoder = "continuous",
        decoder_bins: int = 256,
        extra: dict[str, Any] | None = None,
    ) -> None:
        schedule = NoiseSchedule.cosine() if schedule is None else schedule
        if not isinstance(schedule, NoiseSchedule):
            raise ValueError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")  # noqa: TRY004
        self.options = DiffusionOptions(
            prediction=prediction, variance=variance, loss=loss, loss_weighting=loss_weighting,
            min_snr_gamma=min_snr_gamma, vlb_weight=vlb_weight, decoder=decoder,
            decoder_bins=decoder_bins, extra=dict(extra or {}),
        )
        check_prediction_for_schedule(prediction, zero_terminal_snr=schedule.has_zero_terminal_snr)
        self.schedule = schedule

    # ------------------------------------------------------------------ config
    @classmethod
    def from_config(cls, config: DiffusionConfig) -> Self:
        """The diffusion a `DiffusionConfig` describes (schedule included)."""
        return cls(NoiseSchedule.from_config(config.schedule_config()), **_fields_of(DiffusionOptions, config))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """`from_config(DiffusionConfig.from_dict(data))`: flat keys, as `to_dict` writes them."""
        return cls.from_config(DiffusionConfig.from_dict(data))

    @property
    def config(self) -> DiffusionConfig:
        """The flat config (schedule + options); a ValueError when the schedule has none."""
        if self.schedule.config is None:
            self.schedule.to_dict()  # raises the explanation
        return DiffusionConfig(**self.schedule.to_dict(), **_fields_of(DiffusionOptions, self.options))

    def to_dict(self) -> dict[str, Any]:
        """The flat config keys, JSON-ready (pipeline.json's "diffusion" section)."""
        return self.config.to_dict()

    # ------------------------------------------------------------------ basics
    @property
    def num_timesteps(self) -> int:
        return self.schedule.num_timesteps

    @property
    def prediction(self) -> str:
        return self.options.prediction

    @property
    def learned_variance(self) -> bool:
        return self.options.variance == "learned_range"

    def with_schedule(self, schedule: NoiseSchedule) -> Self:
        """The same diffusion (parametrization, variance, ...) over another schedule."""
        return type(self)(schedule, **_fields_of(DiffusionOptions, self.options))

    def respace(self, timesteps: Sequence[int] | Tensor) -> Respaced:
        """The diffusion over a subset of the training steps, betas recomputed (improved DDPM
        sec. 4; `NoiseSchedule.respace`), and the map back to training indices. With every
        step kept it is this diffusion itself. DDPM ancestral sampling and inpainting on fewer
        steps both run on it."""
        ts = torch.as_tensor(timesteps, dtype=torch.long).flatten().unique(sorted=True)
        if ts.numel() == self.num_timesteps:
            return Respaced(diffusion=self, timestep_map=ts, identity=True)
        schedule, ts_map = self.schedule.respace(ts)
        return Respaced(diffusion=self.with_schedule(schedule), timestep_map=ts_map, identity=False)

    def __repr__(self) -> str:
        c = self.options
        return (
            f"{type(self).__name__}({self.schedule!r}, prediction={c.prediction!r}, "
            f"variance={c.variance!r}, loss={c.loss!r})"
        )

    # ------------------------------------------------------------------ model calls
    def run_model(self, model: Model, x_t: Tensor, t: Tensor, cond: dict[str, Any]) -> tuple[Tensor, Tensor | None]:
        """Call the model and check its output against the contract. Returns (prediction, v)."""
        out = model(x_t, t, **cond)
        pred, var_interp = split_pair(out, learned=self.learned_variance)
        for name, value in (("prediction", pred), ("variance output v", var_interp)):
            if value is None:
                continue
            if not isinstance(value, Tensor) or value.shape != x_t.shape:
                got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(
                    f"the model's {name} has shape {got} but x_t has shape {tuple(x_t.shape)}; "
                    "a model must return a tensor of x_t's shape"
                )
        return pred, var_interp

    def split_prediction(self, x_t: Tensor, t: Tensor | int, pred: Tensor) -> tuple[Tensor, Tensor]:
        """(x0, eps) implied by the raw prediction at (x_t, t); t is [B] or one int for all."""
        s = self.schedule
        if self.prediction == "eps":
            return s.predict_x0(x_t, t, pred), pred
        if self.prediction == "x0":
            return pred, s.predict_eps(x_t, t, pred)
        return s.x0_from_v(x_t, t, pred), s.eps_from_v(x_t, t, pred)

    def denoise(
        self,
        model: Model,
        x_t: Tensor,
        t: Tensor | int,
        cond: dict[str, Any] | None = None,
        *,
        clip_denoised: float | None = None,
        dynamic_threshold: float | None = None,
    ) -> Denoised:
        """One model call -> estimates of x_0 and eps (optionally clipped / thresholded).

        clip_denoised=c clamps x_0 to [-c, c]; dynamic_threshold=p clamps to the p-th
        percentile of |x_0| per sample (at least 1) and rescales (Imagen, Saharia et al. 2022).
        Both are off by default: the core is not image-only. When either is on, eps is
        recomputed from the processed x_0 so samplers stay consistent.
        t: long [B], or one int for the whole batch (samplers: the coefficients are then
        plain floats, no gather per step).
        """
        t_model = t if isinstance(t, Tensor) else _full_t(x_t, t)
        pred, var_interp = self.run_model(model, x_t, t_model, cond or {})
        x0, eps = self.split_prediction(x_t, t, pred)
        if clip_denoised is not None or dynamic_threshold is not None:
            x0 = process_x0(x0, clip=clip_denoised, dynamic_threshold=dynamic_threshold)
            eps = self.schedule.predict_eps(x_t, t, x0)
        return Denoised(pred_x0=x0, pred_eps=eps, output=pred, var_interp=var_interp)

    def reverse_variance(self, t: Tensor | int, like: Tensor, var_interp: Tensor | None) -> tuple[Tensor, Tensor]:
        """(variance, log_variance) of p(x_{t-1} | x_t), broadcastable to `like`."""
        s = self.schedule
        kind = self.options.variance
        if kind == "learned_range":
            assert var_interp is not None
            min_log = s.at("posterior_log_variance_clipped", t, like)
            max_log = s.at("log_betas", t, like)
            frac = (var_interp + 1.0) / 2.0
            log_var = frac * max_log + (1.0 - frac) * min_log
            return torch.exp(log_var), log_var
        if kind == "fixed_large":
            names = ("fixed_large_variance", "fixed_large_log_variance")
        else:
            names = ("posterior_variance", "posterior_log_variance_clipped")
        return tuple(as_tensor_like(s.at(n, t, like), like) for n in names)  # type: ignore[return-value]

    def reverse_step_params(
        self, model: Model, x_t: Tensor, t: Tensor | int, cond: dict[str, Any] | None = None,
        **denoise_kw: Any,
    ) -> ReverseStep:
        """p(x_{t-1} | x_t) = N(mu~_t(x_t, x0_hat), sigma_t^2) (DDPM eq. 11 / improved DDPM)."""
        d = self.denoise(model, x_t, t, cond, **denoise_kw)
        mean = self.schedule.posterior(d.pred_x0, x_t, t).mean
        var, log_var = self.reverse_variance(t, x_t, d.var_interp)
        return ReverseStep(mean=mean, variance=var, log_variance=log_var, denoised=d)

    # ------------------------------------------------------------------ training
    def training_losses(
        self,
        model: Model,
        x0: Tensor,
        t: Tensor | None = None,
        noise: Tensor | None = None,
        mask: Tensor | None = None,
        generator: torch.Generator | None = None,
        **cond: Any,
    ) -> TrainingLosses:
        """Per-sample losses for one draw of (t, noise).

        x0: [B, ...] clean data; t: long [B] (uniform draws from `generator` when None; a
        trainer with importance sampling draws t itself and weights the losses);
        mask: broadcastable to x0 over its leading dims (1 = real, 0 = padding) - padding is
        left out of every average, and the mask is passed on to the model as ``mask``.
        """
        if not isinstance(x0, Tensor) or x0.ndim < 1 or x0.shape[0] < 1:
            raise ValueError("x0 must be a tensor [B, ...] with B >= 1")
        B = x0.shape[0]
        if t is None:
            where = x0.device if generator is None else generator.device
            t = torch.randint(0, self.num_timesteps, (B,), generator=generator, device=where)
        t = check_timesteps(t, self.num_timesteps, B).to(x0.device)
        if noise is None:
            noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        x_t = self.schedule.q_sample(x0, t, noise)
        if mask is not None:
            cond = {**cond, "mask": mask}
        pred, var_interp = self.run_model(model, x_t, t, cond)

        c = self.options
        result = TrainingLosses(
            loss=torch.zeros(B, device=x0.device), t=t,
            pred_x0=self.split_prediction(x_t, t, pred)[0],
        )
        if c.loss in ("mse", "hybrid"):
            target = {"eps": noise, "x0": x0, "v": self.schedule.velocity(x0, noise, t)}[c.prediction]
            mse = mean_over_elements((pred - target) ** 2, mask)
            if c.loss_weighting == "min_snr":
                mse = mse * self.min_snr_weight(t).to(mse.dtype)
            result.mse = mse
            result.loss = result.loss + mse
        if c.loss in ("vlb", "hybrid"):
            # hybrid: L_vlb only trains the variance; the mean's gradient is stopped (improved DDPM 3.1)
            frozen = pred.detach() if c.loss == "hybrid" else pred
            vb = self._vlb_term(x0, x_t, t, frozen, var_interp, mask)
            result.vlb = vb
            scale = c.vlb_weight if c.loss == "hybrid" else 1.0
            result.loss = result.loss + scale * self.num_timesteps * vb
        return result

    def min_snr_weight(self, t: Tensor) -> Tensor:
        """Min-SNR-gamma weight (Hang et al. 2023, eq. 8) in the units of the chosen target."""
        snr = self.schedule.snr(t).to(t.device)
        clipped = snr.clamp(max=self.options.min_snr_gamma)
        if self.prediction == "eps":
            w = clipped / snr.clamp_min(1e-12)
        elif self.prediction == "x0":
            w = clipped
        else:
            w = clipped / (snr + 1.0)
        return w.float()

    # ------------------------------------------------------------------ the bound
    def _vlb_term(
        self, x0: Tensor, x_t: Tensor, t: Tensor, pred: Tensor, var_interp: Tensor | None,
        mask: Tensor | None,
    ) -> Tensor:
        """L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t)) for t > 0, the decoder NLL L_0 at
        t = 0 (DDPM eq. 5); per sample [B], bits per real element."""
        s = self.schedule
        true = s.posterior(x0, x_t, t)
        pred_x0, _ = self.split_prediction(x_t, t, pred)
        model_mean = s.posterior(pred_x0, x_t, t).mean
        _, model_log_var = self.reverse_variance(t, x_t, var_interp)
        kl = normal_kl(true.mean, true.log_variance, model_mean, model_log_var)
        kl = mean_over_elements(kl, mask) / math.log(2.0)
        nll = -self._decoder_log_likelihood(x0, model_mean, model_log_var)
        nll = mean_over_elements(nll, mask) / math.log(2.0)
        return torch.where(t == 0, nll, kl)

    def _decoder_log_likelihood(self, x0: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
        log_var = log_var.expand_as(x0)
        if self.options.decoder == "discretized":
            return discretized_gaussian_log_likelihood(
                x0, mean=mean, log_scale=0.5 * log_var, bins=self.options.decoder_bins
            )
        return continuous_gaussian_log_likelihood(x0, mean=mean, log_variance=log_var)

    def prior_kl(self, x0: Tensor, mask: Tensor | None = None) -> Tensor:
        """L_T = KL(q(x_T | x_0) || N(0, I)) per sample [B], bits per real element."""
        T1 = torch.full((x0.shape[0],), self.num_timesteps - 1, device=x0.device, dtype=torch.long)
        q = self.schedule.q_mean_variance(x0, T1)
        kl = normal_kl(q.mean, q.log_variance.expand_as(x0), torch.zeros_like(x0), torch.zeros_like(x0))
        return mean_over_elements(kl, mask) / math.log(2.0)

    @torch.no_grad()
    def vlb_terms(
        self,
        model: Model,
        x0: Tensor,
        mask: Tensor | None = None,
        generator: torch.Generator | None = None,
        progress: bool = False,
        **cond: Any,
    ) -> VLBTerms:
        """Every term of the variational bound for a batch (T model calls; DDPM eq. 5).

        Each t uses a fresh x_t ~ q(x_t | x_0), so `total` is an unbiased one-sample estimate
        of the negative ELBO in bits per real element.
        """
        B, T = x0.shape[0], self.num_timesteps
        terms = torch.zeros(B, T, device=x0.device, dtype=torch.float64)
        x0_mse = torch.zeros_like(terms)
        eps_mse = torch.zeros_like(terms)
        if mask is not None:
            cond = {**cond, "mask": mask}
        for ti in progress_bar(range(T - 1, -1, -1), total=T, desc="vlb", enabled=progress):
            t = torch.full((B,), ti, device=x0.device, dtype=torch.long)
            noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
            x_t = self.schedule.q_sample(x0, t, noise)
            pred, var_interp = self.run_model(model, x_t, t, cond)
            terms[:, ti] = self._vlb_term(x0, x_t, t, pred, var_interp, mask).double()
            pred_x0, pred_eps = self.split_prediction(x_t, t, pred)
            x0_mse[:, ti] = mean_over_elements((pred_x0 - x0) ** 2, mask).double()
            eps_mse[:, ti] = mean_over_elements((pred_eps - noise) ** 2, mask).double()
        prior = self.prior_kl(x0, mask).double()
        return VLBTerms(
            total=prior + terms.sum(dim=1), prior=prior, terms=terms, x0_mse=x0_mse, eps_mse=eps_mse
        )


@dataclass
class Respaced:
    """A diffusion over sub-steps 0..S-1 and the training index of each (`timestep_map`)."""

    diffusion: DiffusionProcess
    timestep_map: Tensor  # long [S], ascending
    identity: bool  # every training step kept: `diffusion` is the original one

    def wrap(self, model: Model) -> Model:
        """The model as the respaced diffusion calls it (sub-step t -> training index)."""
        return model if self.identity else TimestepMap(model, self.timestep_map)


class TimestepMap:
    """Hands the model training indices while a respaced diffusion counts sub-steps."""

    def __init__(self, model: Model, timestep_map: Tensor) -> None:
        self.model = model
        self.timestep_map = timestep_map
        self._on_device: dict[str, Tensor] = {}

    def __call__(self, x: Tensor, t: Tensor, **cond: Any) -> Any:
        key = str(t.device)
        if key not in self._on_device:
            self._on_device[key] = self.timestep_map.to(t.device)
        return self.model(x, self._on_device[key][t], **cond)


def process_x0(x0: Tensor, *, clip: float | None = None, dynamic_threshold: float | None = None) -> Tensor:
    """Optional clipping of an x_0 estimate: fixed range, then dynamic thresholding."""
    if dynamic_threshold is not None:
        if not 0 < dynamic_threshold <= 1:
            raise ValueError(f"dynamic_threshold is a percentile in (0, 1], got {dynamic_threshold}")
        flat = x0.reshape(x0.shape[0], -1).abs().float()
        s = torch.quantile(flat, dynamic_threshold, dim=1).clamp_min(1.0).to(x0.dtype)
        s = append_dims(s, x0.ndim)
        x0 = x0.clamp(-s, s) / s
    if clip is not None:
        if clip <= 0:
            raise ValueError(f"clip_denoised must be > 0, got {clip}")
        x0 = x0.clamp(-clip, clip)
    return x0


def _full_t(x: Tensor, value: int) -> Tensor:
    return torch.full((x.shape[0],), value, device=x.device, dtype=torch.long)


__all__ = [
    "Decoder",
    "Denoised",
    "DiffusionConfig",
    "DiffusionOptions",
    "DiffusionProcess",
    "LossType",
    "LossWeighting",
    "Model",
    "Prediction",
    "Respaced",
    "ReverseStep",
    "TimestepMap",
    "TrainingLosses",
    "VLBTerms",
    "Variance",
    "check_prediction_for_schedule",
    "process_x0",
]
