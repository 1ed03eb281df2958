"""GaussianDiffusion: parametrizations, reverse-process moments, losses and the VLB.

The model is passed in at every call (the model contract of DESIGN.md):
``model(x_t [B, ...], t long [B], **cond) -> prediction [B, ...]`` or, with
``variance="learned_range"``, the pair ``(prediction, v)``.
Nothing here knows what x is: images, motion and point clouds are all ``[B, ...]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import torch
from torch import Tensor

from vhdiff.diffusion._tensor import append_dims, check_timesteps, mean_over_elements, split_pair
from vhdiff.diffusion.likelihood import (
    continuous_gaussian_log_likelihood,
    discretized_gaussian_log_likelihood,
    normal_kl,
)
from vhdiff.diffusion.schedule import GaussianParams, NoiseSchedule, _as_tensor
from vhdiff.diffusion.timestep_sampling import LossSecondMomentTimesteps, UniformTimesteps

Prediction = Literal["eps", "x0", "v"]
Variance = Literal["fixed_small", "fixed_large", "learned_range"]
LossType = Literal["mse", "vlb", "hybrid"]
LossWeighting = Literal["min_snr"]
Decoder = Literal["continuous", "discretized"]
TimestepSampling = Literal["uniform", "loss_second_moment"]

Model = Callable[..., Any]


def check_choice(name: str, value: object, options: Sequence[object]) -> None:
    """Raise ValueError naming the valid options when `value` is not one of them."""
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"unknown {name} {value!r}; valid options: {listed}")


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
    """Per-sample training losses, all [B]. `loss` is what to minimise (mean over the batch)."""

    loss: Tensor
    t: Tensor
    weights: Tensor  # importance weights already folded into `loss`
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
class DiffusionConfig:
    """Everything but the schedule; JSON-serialisable, saved beside a model's weights."""

    prediction: str = "eps"
    variance: str = "fixed_small"
    loss: str = "mse"
    loss_weighting: str | None = None
    min_snr_gamma: float = 5.0
    vlb_weight: float = 1e-3
    decoder: str = "continuous"
    decoder_bins: int = 256
    timestep_sampling: str = "uniform"
    extra: dict[str, Any] = field(default_factory=dict)


class GaussianDiffusion:
    """DDPM / improved-DDPM Gaussian diffusion over tensors of any shape.

    Args:
        schedule: the training noise schedule (T steps).
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
        timestep_sampling: "uniform" or "loss_second_moment" (importance sampling of the VLB,
            improved DDPM eq. 17).
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
        timestep_sampling: TimestepSampling = "uniform",
    ) -> None:
        schedule = NoiseSchedule.cosine() if schedule is None else schedule
        if not isinstance(schedule, NoiseSchedule):
            raise ValueError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")  # noqa: TRY004
        check_choice("prediction", prediction, get_args(Prediction))
        check_choice("variance", variance, get_args(Variance))
        check_choice("loss", loss, get_args(LossType))
        check_choice("loss_weighting", loss_weighting, (None, *get_args(LossWeighting)))
        check_choice("decoder", decoder, get_args(Decoder))
        check_choice("timestep_sampling", timestep_sampling, get_args(TimestepSampling))
        if variance == "learned_range" and loss == "mse":
            raise ValueError(
                "variance='learned_range' is trained by the VLB: use loss='hybrid' (or 'vlb'), "
                "or a fixed variance with loss='mse'"
            )
        if schedule.has_zero_terminal_snr and prediction == "eps":
            raise ValueError(
                "a zero-terminal-SNR schedule cannot recover x0 from eps at the last step; "
                "use prediction='v' or 'x0'"
            )
        if min_snr_gamma <= 0 or vlb_weight < 0 or decoder_bins < 2:
            raise ValueError("need min_snr_gamma > 0, vlb_weight >= 0 and decoder_bins >= 2")
        self.schedule = schedule
        self.config = DiffusionConfig(
            prediction=prediction, variance=variance, loss=loss, loss_weighting=loss_weighting,
            min_snr_gamma=min_snr_gamma, vlb_weight=vlb_weight, decoder=decoder,
            decoder_bins=decoder_bins, timestep_sampling=timestep_sampling,
        )
        T = schedule.num_timesteps
        self.timestep_sampler: UniformTimesteps = (
            LossSecondMomentTimesteps(num_timesteps=T)
            if timestep_sampling == "loss_second_moment"
            else UniformTimesteps(num_timesteps=T)
        )

    # ------------------------------------------------------------------ basics
    @property
    def num_timesteps(self) -> int:
        return self.schedule.num_timesteps

    @property
    def prediction(self) -> str:
        return self.config.prediction

    @property
    def learned_variance(self) -> bool:
        return self.config.variance == "learned_range"

    def with_schedule(self, schedule: NoiseSchedule) -> GaussianDiffusion:
        """The same diffusion (parametrization, variance, ...) over another schedule."""
        c = self.config
        return GaussianDiffusion(
            schedule, prediction=c.prediction, variance=c.variance, loss=c.loss,
            loss_weighting=c.loss_weighting, min_snr_gamma=c.min_snr_gamma,
            vlb_weight=c.vlb_weight, decoder=c.decoder, decoder_bins=c.decoder_bins,
        )

    def __repr__(self) -> str:
        c = self.config
        return (
            f"GaussianDiffusion({self.schedule!r}, prediction={c.prediction!r}, "
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
        kind = self.config.variance
        if kind == "learned_range":
            assert var_interp is not None
            min_log = s._at("posterior_log_variance_clipped", t, like)
            max_log = s._at("log_betas", t, like)
            frac = (var_interp + 1.0) / 2.0
            log_var = frac * max_log + (1.0 - frac) * min_log
            return torch.exp(log_var), log_var
        if kind == "fixed_large":
            names = ("fixed_large_variance", "fixed_large_log_variance")
        else:
            names = ("posterior_variance", "posterior_log_variance_clipped")
        return tuple(_as_tensor(s._at(n, t, like), like) for n in names)  # type: ignore[return-value]

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

        x0: [B, ...] clean data; t: long [B] (drawn by the timestep sampler when None);
        mask: broadcastable to x0 over its leading dims (1 = real, 0 = padding) - padding is
        left out of every average, and the mask is passed on to the model as ``mask``.
        """
        if not isinstance(x0, Tensor) or x0.ndim < 1 or x0.shape[0] < 1:
            raise ValueError("x0 must be a tensor [B, ...] with B >= 1")
        B = x0.shape[0]
        if t is None:
            t, weights = self.timestep_sampler.sample(B, x0.device, generator)
        else:
            t = check_timesteps(t, self.num_timesteps, B).to(x0.device)
            weights = torch.ones(B, device=x0.device)
        if noise is None:
            noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        x_t = self.schedule.q_sample(x0, t, noise)
        if mask is not None:
            cond = {**cond, "mask": mask}
        pred, var_interp = self.run_model(model, x_t, t, cond)

        c = self.config
        result = TrainingLosses(
            loss=torch.zeros(B, device=x0.device), t=t, weights=weights,
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
        result.loss = result.loss * weights.to(result.loss.dtype)
        return result

    def update_timestep_sampler(self, t: Tensor, losses: TrainingLosses) -> None:
        """Feed the per-t VLB terms (or losses) to a loss-aware timestep sampler."""
        values = losses.vlb if losses.vlb is not None else losses.loss
        self.timestep_sampler.update(t, values.detach())

    def min_snr_weight(self, t: Tensor) -> Tensor:
        """Min-SNR-gamma weight (Hang et al. 2023, eq. 8) in the units of the chosen target."""
        snr = self.schedule.snr(t).to(t.device)
        clipped = snr.clamp(max=self.config.min_snr_gamma)
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
        if self.config.decoder == "discretized":
            return discretized_gaussian_log_likelihood(
                x0, mean=mean, log_scale=0.5 * log_var, bins=self.config.decoder_bins
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
        steps = range(T - 1, -1, -1)
        if progress:
            steps = _progress(steps, total=T, desc="vlb")
        for ti in steps:
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

    # ------------------------------------------------------------------ sampling
    def sample(self, model: Model, shape: Sequence[int], **kwargs: Any):
        """Draw samples; see `vhdiff.diffusion.samplers.sample` for every option."""
        from vhdiff.diffusion.samplers import sample

        return sample(self, model, shape, **kwargs)


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


def _progress(iterable, total: int, desc: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but never fail a run for a progress bar
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


__all__ = [
    "Denoised",
    "DiffusionConfig",
    "GaussianDiffusion",
    "GaussianParams",
    "ReverseStep",
    "TrainingLosses",
    "VLBTerms",
    "check_choice",
    "process_x0",
]
