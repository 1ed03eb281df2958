"""Timestep and condition embeddings shared by every backbone."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["ConditionEmbedding", "TimestepEmbedding", "sinusoidal_embedding"]


def sinusoidal_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Transformer sinusoids of the timestep *as a number* (Vaswani et al. 2017, sec. 3.5).

    t: [B] integer or float timesteps; dim: embedding width (even or odd).
    Returns float32 [B, dim] = [cos(t * w_0..w_{h-1}), sin(t * w_0..w_{h-1})(, 0)] with
    w_i = max_period ** (-i / h), h = dim // 2 (the improved-diffusion ordering).

    No schedule length T is needed: index t of the training schedule is embedded as the
    number t, so frequencies suit 0 <= t < ~max_period (T = 1000 or 4000 in practice).
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    args = t.to(torch.float32)[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class TimestepEmbedding(nn.Module):
    """Sinusoidal features of t followed by an MLP (DDPM, Ho et al. 2020, appendix B).

    t [B] -> sinusoids [B, freq_dim] -> Linear -> SiLU -> Linear -> [B, out_dim].
    """

    def __init__(self, *, freq_dim: int, out_dim: int) -> None:
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(
            nn.Linear(freq_dim, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim)
        )

    def forward(self, t: Tensor, dtype: torch.dtype | None = None) -> Tensor:
        emb = sinusoidal_embedding(t, self.freq_dim)
        weight = self.mlp[0].weight
        return self.mlp(emb.to(weight.dtype if dtype is None else dtype))


class ConditionEmbedding(nn.Module):
    """Projects a pooled condition [B, cond_dim] to [B, out_dim], with a learned null.

    The null embedding (a parameter in the *output* space) stands for "no condition": it is
    used for every sample when the condition is absent and for the samples flagged in
    `cond_drop` (classifier-free guidance training, Ho & Salimans 2022). Because the null
    bypasses the projection, `cond_drop` all True gives exactly the unconditional output.
    """

    def __init__(self, *, cond_dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(cond_dim, out_dim)
        self.null = nn.Parameter(torch.randn(out_dim) * 0.02)

    def forward(
        self,
        cond: Tensor | None,
        cond_drop: Tensor | None,
        batch: int,
        dtype: torch.dtype,
    ) -> Tensor:
        """cond: [B, cond_dim] or None; cond_drop: bool [B] or None. Returns [B, out_dim]."""
        null = self.null.to(dtype)[None].expand(batch, -1)
        if cond is None:
            return null
        emb = self.proj(cond.to(self.proj.weight)).to(dtype)  # the weight's dtype and device
        if cond_drop is None:
            return emb
        return torch.where(cond_drop.to(emb.device)[:, None], null, emb)
