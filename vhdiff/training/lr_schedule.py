"""Learning-rate schedules: linear warm-up, then cosine decay or a constant rate."""

from __future__ import annotations

import math

import torch

LR_SCHEDULES = ("cosine", "constant")


class WarmupSchedule:
    """Multiplier of the base learning rate at optimizer step `step` (0-based).

    Linear warm-up from 1/(warmup_steps+1) to 1 over `warmup_steps` steps, then either
    constant 1 or a half cosine from 1 down to `min_lr_ratio` at `max_steps`
    (Loshchilov & Hutter 2017, SGDR eq. 5 without restarts).

    A plain object of numbers, so LambdaLR's state_dict stores it as data and it reloads
    with `torch.load(weights_only=True)`.
    """

    def __init__(
        self, *, schedule: str = "cosine", warmup_steps: int = 0, max_steps: int = 1,
        min_lr_ratio: float = 0.0,
    ) -> None:
        if schedule not in LR_SCHEDULES:
            raise ValueError(f"lr schedule must be one of {', '.join(LR_SCHEDULES)}; got {schedule!r}")
        if warmup_steps < 0 or max_steps < 1:
            raise ValueError(f"need warmup_steps >= 0 and max_steps >= 1; got {warmup_steps}, {max_steps}")
        if not 0.0 <= min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must lie in [0, 1]; got {min_lr_ratio}")
        self.schedule = schedule
        self.warmup_steps = int(warmup_steps)
        self.max_steps = int(max_steps)
        self.min_lr_ratio = float(min_lr_ratio)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        if self.schedule == "constant":
            return 1.0
        span = max(self.max_steps - self.warmup_steps, 1)
        progress = min((step - self.warmup_steps) / span, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cosine


def build_lr_scheduler(
    optimizer: torch.optim.Optimizer, *, schedule: str, warmup_steps: int, max_steps: int,
    min_lr_ratio: float = 0.0,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR stepping once per optimizer step with a `WarmupSchedule`."""
    fn = WarmupSchedule(
        schedule=schedule, warmup_steps=warmup_steps, max_steps=max_steps, min_lr_ratio=min_lr_ratio
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)
