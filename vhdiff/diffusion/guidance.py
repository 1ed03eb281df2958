"""Classifier-free guidance (Ho & Salimans 2022) as a model wrapper.

Samplers stay unaware of guidance: they call the wrapper like any model.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from vhdiff.diffusion.gaussian import Model


class ClassifierFreeGuidance:
    """out = uncond + scale * (cond - uncond), with both halves in ONE batched forward.

    The wrapped model must accept ``cond_drop`` (bool [B]): True replaces the sample's
    condition by the null condition (the backbones of vhdiff.backbones do). Tensor
    conditions with a leading batch dim are repeated for the doubled batch; other keyword
    values pass through unchanged. With a learned variance the model's pair
    (prediction, v) is guided on the prediction only; v comes from the conditional half.

    scale = 1 is the conditional model, 0 the unconditional one.

    interval: (t_min, t_max), training timestep indices, both included: guide only there and
        use the conditional model alone elsewhere (Kynkaanniemi et al. 2024, "Applying
        guidance in a limited interval": guidance acts at high and middle noise; at low noise
        it changes little). Steps outside the interval cost one forward instead of two.
        None (default): guide at every step.
    """

    def __init__(self, model: Model, scale: float, *, interval: tuple[int, int] | None = None) -> None:
        if not isinstance(scale, (int, float)) or scale < 0:
            raise ValueError(f"guidance scale must be a number >= 0, got {scale!r}")
        self.model = model
        self.scale = float(scale)
        self.interval = check_guidance_interval(interval)

    def __call__(self, x: Tensor, t: Tensor, **cond: Any):
        if self.scale == 1.0:
            return self.model(x, t, **cond)
        scale: float | Tensor = self.scale
        if self.interval is not None:
            lo, hi = self.interval
            inside = (t >= lo) & (t <= hi)  # [B]
            if not bool(inside.any()):
                return self.model(x, t, **cond)
            if not bool(inside.all()):  # rows at other noise levels: the conditional model
                scale = torch.where(inside, self.scale, 1.0).to(x.dtype)
                scale = scale.reshape(-1, *([1] * (x.ndim - 1)))
        B = x.shape[0]
        drop = cond.pop("cond_drop", None)
        base_drop = torch.zeros(B, dtype=torch.bool, device=x.device) if drop is None else drop.bool()
        both = {k: _repeat(v, B) for k, v in cond.items()}
        both["cond_drop"] = torch.cat([base_drop, torch.ones_like(base_drop)])
        out = self.model(torch.cat([x, x]), torch.cat([t, t]), **both)
        if isinstance(out, (tuple, list)):
            pred, v = out
            return _combine(pred, B, scale), v[:B]
        return _combine(out, B, scale)

    def __getattr__(self, name: str) -> Any:
        # expose the wrapped model's attributes (config, device, ...) to pipelines
        if name == "model":
            raise AttributeError(name)
        return getattr(self.model, name)


def _repeat(value: Any, batch: int) -> Any:
    if isinstance(value, Tensor) and value.ndim >= 1 and value.shape[0] == batch:
        return torch.cat([value, value])
    return value


def _combine(out: Tensor, batch: int, scale: float | Tensor) -> Tensor:
    cond, uncond = out[:batch], out[batch:]
    return torch.lerp(uncond, cond, scale)


def check_guidance_interval(interval: Any) -> tuple[int, int] | None:
    """None, or (t_min, t_max) as two ints with 0 <= t_min <= t_max; ValueError otherwise."""
    if interval is None:
        return None
    try:
        lo, hi = (int(v) for v in interval)
        ok = all(float(v) == int(v) for v in interval) and 0 <= lo <= hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"guidance interval must be (t_min, t_max), whole timesteps with 0 <= t_min <= t_max; "
            f"got {interval!r}"
        )
    return lo, hi


def parse_guidance_interval(text: str) -> tuple[int, int] | None:
    """Command-line form: "T_MIN:T_MAX" (e.g. "500:999") or "all" (None: every step)."""
    if text.strip().lower() == "all":
        return None
    parts = text.split(":")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2:
        raise ValueError(f"guidance interval must read T_MIN:T_MAX (e.g. 500:999) or all; got {text!r}")
    return check_guidance_interval(values)
