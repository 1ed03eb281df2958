"""The training loop every vhdiff pipeline uses.

`Trainer` is generic over the model (any `model(x_t, t, **cond)`), the diffusion (anything
with `num_timesteps` and `training_losses(model, x0, t=, noise=, mask=, **cond)` returning
`.loss` [B], optionally `.vlb` [B]), the
dataset (+ collate) and an optional condition encoder. It owns AdamW, the LR schedule,
gradient clipping and accumulation, EMA, mixed precision, seeding, the timestep sampler
(`trainer.timestep_sampling`, vhdiff.training.timesteps), checkpoints, logs, sample hooks
and DDP (see `vhdiff.training.distributed` for launching with torchrun).

Batches. The collated batch is either a tensor x0 [B, ...] or a dict with "x" (x0),
optionally "mask" (1 = real, broadcastable to x) and other entries. Tensor entries other
than x and mask are passed to the model as conditioning keywords; the optional
`condition(batch) -> dict[str, Tensor]` callable (e.g. a text encoder reading
batch["text"]) adds more. A dataset may provide `collate_fn`; it is used when the trainer
is not given one.

Randomness. Timesteps t, noise and classifier-free-guidance drop flags are drawn for the
whole GLOBAL micro-batch from one generator seeded identically on every rank, and each
rank takes its slice, so a DDP run sees the same numbers as a single process with the
same global batch (exactly, for fixed-shape data).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from vhdiff.training import checkpoint as ckpt
from vhdiff.training.distributed import (
    DistributedContext,
    all_gather_tensor,
    all_reduce_mean,
    barrier,
    broadcast_object,
    gather_objects,
    init_distributed,
)
from vhdiff.training.ema import EMA
from vhdiff.training.init_weights import load_init_weights
from vhdiff.training.logging import MetricsLogger
from vhdiff.training.lr_schedule import LR_SCHEDULES, build_lr_scheduler
from vhdiff.training.sampler import EpochChainSampler, GlobalBatchSampler
from vhdiff.training.seeding import get_rng_state, seed_everything, set_rng_state
from vhdiff.training.timesteps import TIMESTEP_SAMPLINGS, TimestepSampling, build_timestep_sampler

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MAX_WORKERS = 64  # data-loading processes (trainer.num_workers)


@dataclass
class TrainerConfig:
    """The `trainer:` section of a run config. `batch_size` is the GLOBAL batch."""

    max_steps: int = 1000
    batch_size: int = 64
    grad_accum: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    lr_schedule: str = "cosine"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.9999
    ema_warmup: bool = True
    precision: str = "auto"
    seed: int = 0
    num_workers: int = 0
    cond_drop_prob: float = 0.0
    out_dir: str = "runs/default"
    log_every: int = 50
    save_every: int = 1000
    keep_last: int = 3
    keep_best: bool = True
    verify_hashes: bool = True
    tensorboard: bool = False
    progress: bool = True
    sample_every: int = 0
    sample_hooks: list[str] = field(default_factory=list)
    # extra losses on the model's x0 estimate: {registered name: its keyword parameters}
    loss_hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # fine-tuning: start from these weights (vhdiff.training.init_weights says what it may name)
    init_from: str | None = None
    # how t is drawn: "uniform", or "loss_second_moment" (importance sampling of the VLB,
    # improved DDPM eq. 17; the losses are weighted by 1 / (T p(t)))
    timestep_sampling: TimestepSampling = "uniform"

    def __post_init__(self) -> None:
        positive = ("max_steps", "batch_size", "grad_accum", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"trainer.{name} must be >= 1; got {getattr(self, name)}")
        for name in ("warmup_steps", "save_every", "sample_every", "num_workers", "weight_decay",
                     "grad_clip", "lr"):
            if getattr(self, name) < 0:
                raise ValueError(f"trainer.{name} must be >= 0; got {getattr(self, name)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"trainer.lr_schedule must be one of {', '.join(LR_SCHEDULES)}; got {self.lr_schedule!r}"
            )
        if self.timestep_sampling not in TIMESTEP_SAMPLINGS:
            raise ValueError(
                f"trainer.timestep_sampling must be one of {', '.join(TIMESTEP_SAMPLINGS)}; "
                f"got {self.timestep_sampling!r}"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"trainer.precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}"
            )
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"trainer.ema_decay must lie in [0, 1) (0 turns EMA off); got {self.ema_decay}")
        if not 0.0 <= self.cond_drop_prob < 1.0:
            raise ValueError(f"trainer.cond_drop_prob must lie in [0, 1); got {self.cond_drop_prob}")
        if not 0 <= self.seed < 2**32:  # seed_everything's range; torch overflows past 2**63
            raise ValueError(f"trainer.seed must lie in [0, 2**32); got {self.seed}")
        if self.num_workers > MAX_WORKERS:
            raise ValueError(
                f"trainer.num_workers must be at most {MAX_WORKERS} (each is a process holding a "
                f"copy of the dataset); got {self.num_workers}"
            )
        if self.batch_size % self.grad_accum:
            raise ValueError(
                f"trainer.batch_size {self.batch_size} is not divisible by trainer.grad_accum "
                f"{self.grad_accum}; pick values where it is"
            )


@dataclass
class LossContext:
    """What a loss hook gets for one micro-batch (this rank's share).

    x0 [B, ...] the clean data; pred_x0 [B, ...] the model's estimate of it (with gradient);
    t [B]; mask (1 = real) or None; batch the collated batch as the dataset gave it.
    """

    x0: Tensor
    pred_x0: Tensor
    t: Tensor
    mask: Tensor | None
    batch: Any


# A loss hook returns a per-sample loss [B] that is added to the diffusion loss.
LossHook = Callable[[LossContext], Tensor]


@dataclass
class SampleContext:
    """What a sample hook gets. `model` is the EMA model when EMA is on (eval mode)."""

    step: int
    model: nn.Module
    diffusion: Any
    device: torch.device
    out_dir: Path


SampleHook = Callable[[SampleContext], None]


@dataclass
class TrainResult:
    """Where a `fit` call ended."""

    step: int
    last_loss: float | None
    checkpoint: Path | None


@dataclass
class Batch:
    """A batch split into what the diffusion needs: x0 [B, ...], mask or None, conditioning."""

    x0: Tensor
    mask: Tensor | None
    cond: dict[str, Tensor]


def split_batch(batch: Any) -> Batch:
    """Read a collated batch (a tensor, or a dict with "x", optional "mask", more tensors)."""
    if isinstance(batch, Tensor):
        return Batch(batch, None, {})
    if isinstance(batch, dict):
        if "x" not in batch:
            raise ValueError(
                f"a dict batch needs the data under key 'x'; got keys {sorted(batch)}. "
                "Make the dataset (or collate_fn) return {'x': tensor, ...}"
            )
        cond = {k: v for k, v in batch.items() if k not in ("x", "mask") and isinstance(v, Tensor)}
        return Batch(batch["x"], batch.get("mask"), cond)
    raise ValueError(
        f"a batch must be a tensor or a dict with key 'x'; got {type(batch).__name__}. "
        "Give the dataset a collate_fn that returns one of those"
    )


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


class Trainer:
    """Trains `model` under `diffusion` on `dataset`. Call `fit()`.

    Args:
        model: the denoiser, on any device (moved to the context's device).
        diffusion: the `vhdiff.diffusion.GaussianDiffusion` (or same interface).
        dataset: a map-style dataset; samples are collated by `collate_fn`, else the
            dataset's `collate_fn` attribute, else torch's default collate.
        config: the trainer section.
        condition: optional callable(batch) -> dict of conditioning tensors [B_local, ...]
            (e.g. text embeddings); called on every micro-batch.
        context: where this process sits (defaults to `init_distributed("auto")`).
        config_text: the resolved run config, written into every checkpoint.
    """

    def __init__(
        self,
        *,
        model: nn.Module,
        diffusion: Any,
        dataset: Dataset,
        config: TrainerConfig,
        collate_fn: Callable[[list], Any] | None = None,
        condition: Callable[[Any], dict[str, Tensor]] | None = None,
        context: DistributedContext | None = None,
        config_text: str | None = None,
    ) -> None:
        self.config = cfg = config
        self.ctx = ctx = context if context is not None else init_distributed("auto")
        self.device = ctx.device
        self.diffusion = diffusion
        self.dataset = dataset
        self.collate_fn = collate_fn or getattr(dataset, "collate_fn", None)
        self.condition = condition
        self.config_text = config_text
        self.out_dir = Path(cfg.out_dir)
        self.checkpoint_dir = self.out_dir / "checkpoints"
        self.num_timesteps = _num_timesteps(diffusion)
        self.timestep_sampler = build_timestep_sampler(cfg.timestep_sampling, num_timesteps=self.num_timesteps)

        world_micro = ctx.world_size * cfg.grad_accum
        if cfg.batch_size % world_micro:
            raise ValueError(
                f"trainer.batch_size {cfg.batch_size} must be divisible by processes x grad_accum "
                f"= {ctx.world_size} x {cfg.grad_accum}; change batch_size or grad_accum"
            )
        self.micro_global = cfg.batch_size // cfg.grad_accum  # samples per micro-step, all ranks
        self.micro_local = self.micro_global // ctx.world_size
        GlobalBatchSampler(num_samples=len(dataset), global_batch=self.micro_global)  # validates size

        self.amp_dtype, use_fp16 = _resolve_precision(cfg.precision, self.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=True) if use_fp16 else None

        model.to(self.device)
        self.init_weights: Path | None = None
        if cfg.init_from:  # before the EMA copy and DDP's broadcast; a resumed checkpoint overrides it
            self.init_weights = load_init_weights(model, cfg.init_from)
        if ctx.is_distributed:
            # DDP broadcasts rank 0's parameters, so every rank starts from the same weights.
            kwargs = {"device_ids": [self.device]} if self.device.type == "cuda" else {}
            self.model: nn.Module = nn.parallel.DistributedDataParallel(model, **kwargs)
        else:
            self.model = model
        self.raw_model = model
        self.ema = (
            EMA(model, decay=cfg.ema_decay, warmup=cfg.ema_warmup) if cfg.ema_decay > 0 else None
        )
        self._params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            self._params, lr=cfg.lr, betas=(cfg.adam_beta1, cfg.adam_beta2), eps=cfg.adam_eps,
            weight_decay=cfg.weight_decay,
        )
        self.lr_scheduler = build_lr_scheduler(
            self.optimizer, schedule=cfg.lr_schedule, warmup_steps=cfg.warmup_steps,
            max_steps=cfg.max_steps, min_lr_ratio=cfg.min_lr_ratio,
        )
        # One generator, same seed on every rank, for t / noise / cond-drop of the global batch.
        self.noise_generator = torch.Generator(device=self.device).manual_seed(cfg.seed)
        seed_everything(cfg.seed + ctx.rank)  # dropout, augmentation: independent per rank

        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0  # micro-batches of the current epoch already consumed
        self.best_metric: float | None = None
        self._window_loss = torch.zeros((), device=self.device)
        self._window_steps = 0
        self._logged_loss_sum = 0.0  # logged window means x steps, since the last save
        self._logged_steps = 0
        self.sample_hooks: list[tuple[SampleHook, int]] = []
        self.loss_hooks: list[LossHook] = []
        self.logger: MetricsLogger | None = None
        self.last_checkpoint: Path | None = None

    # ------------------------------------------------------------------ public API
    def add_sample_hook(self, hook: SampleHook, every: int | None = None) -> None:
        """Call `hook(SampleContext)` on rank 0 every `every` steps (default trainer.sample_every).

        Hooks run under a forked RNG, so they never change the training random streams.
        """
        every = self.config.sample_every if every is None else every
        if every < 1:
            raise ValueError(
                "a sample hook needs a period: set trainer.sample_every > 0 or pass every="
            )
        self.sample_hooks.append((hook, every))

    def add_loss_hook(self, hook: LossHook) -> None:
        """Add `hook(LossContext) -> Tensor[B]` to every micro-batch's per-sample loss."""
        if not callable(hook):
            raise ValueError(f"a loss hook must be callable; got {type(hook).__name__}")  # noqa: TRY004
        self.loss_hooks.append(hook)

    def fit(self, *, resume: bool = False, until_step: int | None = None) -> TrainResult:
        """Train until trainer.max_steps (or `until_step`, for tests and staged runs).

        resume=True continues from the newest complete checkpoint in out_dir/checkpoints
        (starting fresh when there is none). A checkpoint is written every save_every
        steps and at the end.
        """
        cfg = self.config
        stop = cfg.max_steps if until_step is None else min(until_step, cfg.max_steps)
        if resume:
            self.resume_latest()
        if self.ctx.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.logger = MetricsLogger(
                self.out_dir / "metrics.jsonl",
                tensorboard_dir=self.out_dir / "tensorboard" if cfg.tensorboard else None,
            )
            self.logger.truncate_after(self.step)
        bar = self._progress_bar(stop)
        batches = self._micro_batches()
        last_loss = None
        t_window = time.perf_counter()
        try:
            while self.step < stop:
                loss, grad_norm = self._train_step(batches)
                self.step += 1
                self._window_loss += loss
                self._window_steps += 1
                if bar is not None:
                    bar.update(1)
                if self.step % cfg.log_every == 0 or self.step == stop:
                    elapsed = time.perf_counter() - t_window
                    last_loss = self._log(grad_norm, elapsed, bar)
                    t_window = time.perf_counter()
                if cfg.save_every and self.step % cfg.save_every == 0 or self.step == stop:
                    self.save()
                self._run_sample_hooks()
        finally:
            if bar is not None:
                bar.close()
            if self.logger is not None:
                self.logger.close()
        return TrainResult(step=self.step, last_loss=last_loss, checkpoint=self.last_checkpoint)

    # ------------------------------------------------------------------ one step
    def _train_step(self, batches: Iterator[Any]) -> tuple[Tensor, Tensor | None]:
        cfg = self.config
        total: Tensor | None = None
        for micro in range(cfg.grad_accum):
            batch = next(batches)
            last = micro == cfg.grad_accum - 1
            sync = contextlib.nullcontext() if last or not self.ctx.is_distributed else self.model.no_sync()
            with sync:
                with self._autocast():
                    loss = self._micro_loss(batch)
                    if cfg.grad_accum > 1:
                        loss = loss / cfg.grad_accum
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                else:
                    loss.backward()
            detached = loss.detach().float()
            total = detached if total is None else total + detached
        grad_norm = None
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if cfg.grad_clip > 0:
            grad_norm = nn.utils.clip_grad_norm_(self._params, cfg.grad_clip, foreach=True)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.lr_scheduler.step()
        if self.ema is not None:
            self.ema.update(self.raw_model)
        assert total is not None
        return total, grad_norm

    def _micro_loss(self, raw_batch: Any) -> Tensor:
        """Mean diffusion loss of this rank's micro-batch (DDP averages it over ranks)."""
        b = split_batch(raw_batch)
        x0 = b.x0.to(self.device, non_blocking=True)
        if x0.shape[0] != self.micro_local:
            raise ValueError(
                f"collate returned a batch of {x0.shape[0]} samples, expected {self.micro_local}"
            )
        cond = {k: v.to(self.device, non_blocking=True) for k, v in b.cond.items()}
        if self.condition is not None:
            cond.update(self.condition(raw_batch))
        mask = None if b.mask is None else b.mask.to(self.device, non_blocking=True)
        t, weights, noise, drop = self._draw_randomness(x0)
        if drop is not None:
            cond["cond_drop"] = drop
        out = self.diffusion.training_losses(self.model, x0, t=t, noise=noise, mask=mask, **cond)
        if self.loss_hooks:
            out = dataclasses.replace(out, loss=out.loss + self._hook_losses(x0, out, mask, raw_batch))
        if self.timestep_sampler.learns_from_losses:
            self._feed_timestep_sampler(t, out)
        # the one place importance weights are applied (improved DDPM eq. 17):
        # E_{t~p}[L_t / (T p(t))] = mean_t L_t; uniform sampling's weights are all 1
        return (out.loss * weights.to(out.loss.dtype)).mean()

    def _hook_losses(self, x0: Tensor, out: Any, mask: Tensor | None, batch: Any) -> Tensor:
        pred_x0 = getattr(out, "pred_x0", None)
        if pred_x0 is None:
            raise ValueError(
                "loss hooks need the diffusion's training_losses to return pred_x0 "
                "(vhdiff.diffusion.GaussianDiffusion does); remove trainer.loss_hooks"
            )
        ctx = LossContext(x0=x0, pred_x0=pred_x0, t=out.t, mask=mask, batch=batch)
        total = torch.zeros_like(out.loss)
        for hook in self.loss_hooks:
            extra = hook(ctx)
            if extra.shape != out.loss.shape:
                raise ValueError(
                    f"loss hook {hook!r} returned shape {tuple(extra.shape)}; it must return a "
                    f"per-sample loss of shape {tuple(out.loss.shape)}"
                )
            total = total + extra.to(out.loss.dtype)
        return total

    def _feed_timestep_sampler(self, t: Tensor, out: Any) -> None:
        """Give the loss-aware timestep sampler every rank's (t, loss), so all ranks stay in
        step: the per-t VLB terms when the diffusion reports them, else the losses."""
        vlb = getattr(out, "vlb", None)
        values = (vlb if vlb is not None else out.loss).detach().float()
        self.timestep_sampler.update(all_gather_tensor(t), all_gather_tensor(values))

    def _draw_randomness(self, x0: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """t [b], importance weights [b], noise [b, ...], cond-drop flags [b] or None.

        Drawn for the whole global micro-batch, then sliced to this rank's share.
        """
        g, n = self.noise_generator, self.micro_global
        lo, hi = self.ctx.rank * self.micro_local, (self.ctx.rank + 1) * self.micro_local
        t, weights = self.timestep_sampler.sample(n, self.device, g)
        noise = torch.randn((n, *x0.shape[1:]), generator=g, device=self.device, dtype=x0.dtype)
        drop = None
        if self.config.cond_drop_prob > 0:
            drop = torch.rand((n,), generator=g, device=self.device)[lo:hi] < self.config.cond_drop_prob
        return t[lo:hi], weights[lo:hi], noise[lo:hi], drop

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _micro_batches(self) -> Iterator[Any]:
        """Endless micro-batches from the saved data position, counting what is consumed.

        One DataLoader for the whole run (workers start once and prefetch across epochs);
        epoch / batch_in_epoch count the batches this process has taken, so a checkpoint
        records exactly the consumed position whatever the workers have prefetched.
        """
        sampler = EpochChainSampler(
            num_samples=len(self.dataset), global_batch=self.micro_global,
            rank=self.ctx.rank, world_size=self.ctx.world_size, seed=self.config.seed,
            epoch=self.epoch, start_batch=self.batch_in_epoch,
        )
        per_epoch = sampler.batches_per_epoch
        if self.batch_in_epoch >= per_epoch:  # saved right after an epoch's last batch
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        loader = DataLoader(
            self.dataset, batch_sampler=sampler, collate_fn=self.collate_fn,
            num_workers=self.config.num_workers, pin_memory=self.device.type == "cuda",
        )
        for batch in loader:
            self.batch_in_epoch += 1
            if self.batch_in_epoch >= per_epoch:
                self.epoch += 1
                self.batch_in_epoch = 0
            yield batch

    # ------------------------------------------------------------------ logging, hooks
    def _progress_bar(self, stop: int):
        if not (self.ctx.is_main and self.config.progress):
            return None
        from tqdm.auto import tqdm

        return tqdm(total=stop, initial=self.step, desc="train", unit="step", dynamic_ncols=True)

    def _log(self, grad_norm: Tensor | None, elapsed: float, bar) -> float:
        loss = float(all_reduce_mean(self._window_loss / max(self._window_steps, 1)))
        steps = self._window_steps
        self._logged_loss_sum += loss * steps
        self._logged_steps += steps
        self._window_loss.zero_()
        self._window_steps = 0
        if self.logger is not None:
            self.logger.log(self.step, {
                "loss": loss,
                "lr": self.lr_scheduler.get_last_lr()[0],
                "grad_norm": None if grad_norm is None else float(grad_norm),
                "steps_per_s": steps / max(elapsed, 1e-9),
                "samples_per_s": steps * self.config.batch_size / max(elapsed, 1e-9),
                "epoch": self.epoch,
            })
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        return loss

    def _run_sample_hooks(self) -> None:
        due = [h for h, every in self.sample_hooks if self.step % every == 0]
        if not due or not self.ctx.is_main:
            return
        model = self.ema.module if self.ema is not None else self.raw_model
        was_training = model.training
        model.eval()
        rng = get_rng_state()
        with torch.no_grad():
            for hook in due:
                hook(SampleContext(
                    step=self.step, model=model, diffusion=self.diffusion, device=self.device,
                    out_dir=self.out_dir / "samples",
                ))
        set_rng_state(rng)
        model.train(was_training)

    # ------------------------------------------------------------------ checkpoints
    def training_state(self) -> dict[str, Any]:
        """Everything but the weights, weights_only-safe. Collective: call on every rank."""
        rng_states = gather_objects(get_rng_state())
        return {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "world_size": self.ctx.world_size,
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "grad_scaler": None if self.scaler is None else self.scaler.state_dict(),
            "ema": None if self.ema is None else self.ema.state_dict(),
            "noise_generator": self.noise_generator.get_state(),
            "timestep_sampler": self.timestep_sampler.state_dict(),
            "rng": rng_states,
            "best_metric": self.best_metric,
            "trainer_config": asdict(self.config),
        }

    def save(self) -> Path | None:
        """Write a checkpoint for the current step (rank 0 writes; every rank must call)."""
        state = self.training_state()
        # "best" metric: mean logged training loss (all ranks) since the previous save; when
        # nothing was logged in between, the mean of the steps not yet logged
        metric = None
        if self._logged_steps:
            metric = self._logged_loss_sum / self._logged_steps
        elif self._window_steps:
            metric = float(all_reduce_mean(self._window_loss / self._window_steps))
        self._logged_loss_sum, self._logged_steps = 0.0, 0
        path = None
        if self.ctx.is_main:
            is_best = metric is not None and (self.best_metric is None or metric < self.best_metric)
            if is_best:
                self.best_metric = metric
                state["best_metric"] = metric
            path = ckpt.save_checkpoint(
                self.checkpoint_dir, self.step, model=self.raw_model, training_state=state,
                ema_model=None if self.ema is None else self.ema.module,
                config_text=self.config_text, metric=metric,
            )
            if is_best and self.config.keep_best:
                ckpt.write_best(self.checkpoint_dir, self.step, metric)
            ckpt.prune_checkpoints(self.checkpoint_dir, keep_last=self.config.keep_last)
        self.best_metric = broadcast_object(self.best_metric)
        barrier()
        self.last_checkpoint = path if path is not None else self.checkpoint_dir / ckpt.step_dir_name(self.step)
        return path

    def resume_latest(self) -> Path | None:
        """Load the newest complete checkpoint under out_dir/checkpoints; None when there is none."""
        found = None
        if self.ctx.is_main:
            ckpt.remove_partial(self.checkpoint_dir)
            info = ckpt.latest_checkpoint(self.checkpoint_dir)
            found = None if info is None else str(info.path)
        found = broadcast_object(found)
        if found is None:
            return None
        self.load_checkpoint(Path(found))
        return Path(found)

    def load_checkpoint(self, path: Path | str) -> None:
        """Restore weights, EMA, optimizer, scheduler, data position and RNG states from `path`."""
        path = Path(path)
        ckpt.verify_checkpoint(path, hashes=self.config.verify_hashes)
        state = ckpt.load_training_state(path)
        ckpt.load_module_weights(self.raw_model, path / "model")
        if self.ema is not None:
            if (path / "ema").is_dir():
                ckpt.load_module_weights(self.ema.module, path / "ema")
                if state.get("ema") is not None:
                    self.ema.load_state_dict(state["ema"])
            else:
                self.ema.module.load_state_dict(self.raw_model.state_dict())
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        if self.scaler is not None and state.get("grad_scaler") is not None:
            self.scaler.load_state_dict(state["grad_scaler"])
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.best_metric = state.get("best_metric")
        self.noise_generator.set_state(state["noise_generator"])
        if state.get("timestep_sampler") is not None:
            self.timestep_sampler.load_state_dict(state["timestep_sampler"])
        rng = state["rng"]
        if int(state.get("world_size", 1)) == self.ctx.world_size and len(rng) > self.ctx.rank:
            set_rng_state(rng[self.ctx.rank])
        else:  # a different process count: the data order and t/noise stay exact, per-rank RNGs re-seed
            seed_everything((self.config.seed + 1_000_003 * self.step + self.ctx.rank) % 2**32)
        self.last_checkpoint = path


def _num_timesteps(diffusion: Any) -> int:
    for owner in (diffusion, getattr(diffusion, "schedule", None)):
        n = getattr(owner, "num_timesteps", None)
        if n is not None:
            return int(n)
    raise ValueError(
        f"cannot read the number of timesteps from {type(diffusion).__name__}: it needs "
        "`num_timesteps` or a `schedule.num_timesteps`"
    )


def _resolve_precision(precision: str, device: torch.device) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None for fp32, whether to use fp16 with a GradScaler)."""
    if precision == "auto":
        if device.type != "cuda":
            return None, False
        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp32":
        return None, False
    if precision == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError("this GPU does not support bf16; use trainer.precision=fp16 or fp32")
        return torch.bfloat16, False
    if device.type != "cuda":
        raise ValueError(
            "trainer.precision=fp16 needs a CUDA device (GradScaler); on CPU use bf16 or fp32"
        )
    return torch.float16, True
