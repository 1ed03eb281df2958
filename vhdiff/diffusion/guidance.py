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
    """

    def __init__(self, model: Model, scale: float) -> None:
        if not isinstance(scale, (int, float)) or scale < 0:
            raise ValueError(f"guidance scale must be a number >= 0, got {scale!r}")
        self.model = model
        self.scale = float(scale)

    def __call__(self, x: Tensor, t: Tensor, **cond: Any):
        if self.scale == 1.0:
            return self.model(x, t, **cond)
        B = x.shape[0]
        drop = cond.pop("cond_drop", None)
        base_drop = torch.zeros(B, dtype=torch.bool, device=x.device) if drop is None else drop.bool()
        both = {k: _repeat(v, B) for k, v in cond.items()}
        both["cond_drop"] = torch.cat([base_drop, torch.ones_like(base_drop)])
        out = self.model(torch.cat([x, x]), torch.cat([t, t]), **both)
        if isinstance(out, (tuple, list)):
            pred, v = out
            return _combine(pred, B, self.scale), v[:B]
        return _combine(out, B, self.scale)

    def __getattr__(self, name: str) -> Any:
        # expose the wrapped model's attributes (config, device, ...) to pipelines
        if name == "model":
            raise AttributeError(name)
        return getattr(self.model, name)


def _repeat(value: Any, batch: int) -> Any:
    if isinstance(value, Tensor) and value.ndim >= 1 and value.shape[0] == batch:
        return torch.cat([value, value])
    return value


def _combine(out: Tensor, batch: int, scale: float) -> Tensor:
    cond, uncond = out[:batch], out[batch:]
    return torch.lerp(uncond, cond, scale)
