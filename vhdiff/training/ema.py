"""Exponential moving average of model weights, with a decay that warms up."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps `module`, a frozen copy of the model whose parameters track an EMA of the live ones.

    After each optimizer step, `update(model)` does  theta_ema <- d * theta_ema + (1 - d) * theta
    with the warm-up decay  d_n = min(decay, (1 + n) / (10 + n))  (n = updates so far), the
    rule of TensorFlow's ExponentialMovingAverage(num_updates=...): early averages forget
    the random initialisation quickly, late ones average over ~1/(1-decay) steps.
    Buffers (e.g. norm statistics) are copied, not averaged. EMA weights are kept in
    float32 even when the model trains in lower precision.
    """

    def __init__(self, model: nn.Module, *, decay: float = 0.9999, warmup: bool = True) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must lie in [0, 1); got {decay} (0.999 or 0.9999 are usual)")
        self.decay = float(decay)
        self.warmup = bool(warmup)
        self.num_updates = 0
        self.module = copy.deepcopy(model).float().eval()
        self.module.requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next `update` will use."""
        if not self.warmup:
            return self.decay
        n = self.num_updates
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the live `model` (same architecture, unwrapped from DDP) into the average."""
        d = self.current_decay()
        ema_params = list(self.module.parameters())
        live = [p.detach().to(q.dtype) for p, q in zip(model.parameters(), ema_params)]
        if len(live) != len(ema_params):
            raise ValueError("EMA.update got a model with a different number of parameters")
        # theta_ema + (1 - d) (theta - theta_ema)  ==  d theta_ema + (1 - d) theta
        torch._foreach_lerp_(ema_params, live, 1.0 - d)
        for b_ema, b in zip(self.module.buffers(), model.buffers()):
            b_ema.copy_(b)
        self.num_updates += 1

    def state_dict(self) -> dict:
        return {"num_updates": self.num_updates, "decay": self.decay, "warmup": self.warmup}

    def load_state_dict(self, state: dict) -> None:
        """Restore the update counter (the weights travel separately, as safetensors)."""
        self.num_updates = int(state["num_updates"])
