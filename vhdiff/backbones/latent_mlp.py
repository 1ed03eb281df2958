"""A denoiser for flat vectors (shape codes): a residual MLP with adaptive LayerNorm.

The latent prior of a two-stage model (DiffAE's latent DDIM, Preechakul et al. 2022 sec.
3.3; LION's latent diffusion): x_t [B, D] is a code of vhdiff.backbones.point_autoencoder
(or any other vector); t and an optional pooled condition modulate every block.
"""

from __future__ import annotations

from torch import Tensor, nn

from .embeddings import ConditionEmbedding, TimestepEmbedding
from .pretrained import PretrainedMixin, register_config
from .validation import (
    check_cond_drop,
    check_floating,
    check_tensor,
    check_text_emb,
    check_timesteps,
)

__all__ = ["LatentMLPDenoiser"]


class _Block(nn.Module):
    """h + W2 SiLU(W1 (LN(h) (1 + scale) + shift)), (scale, shift) = A c (DiT's adaLN)."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.modulation = nn.Linear(width, 2 * width)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        scale, shift = self.modulation(c).chunk(2, dim=-1)
        y = self.norm(h) * (1 + scale) + shift
        return h + self.fc2(nn.functional.silu(self.fc1(y)))


class LatentMLPDenoiser(PretrainedMixin, nn.Module):
    """Denoiser for vectors x_t [B, latent_dim].

    Args (keyword-only; they are the saved config):
        latent_dim: width of the vectors.
        width: the residual stream's width; hidden: each block's inner width.
        depth: residual blocks.
        cond_dim: width of a pooled condition (`text_emb`), None = none; it has a learned
            null for classifier-free guidance (`cond_drop`).
        learn_variance: also return v (improved-DDPM "learned_range").

    Call: x_t [B, latent_dim], t LongTensor [B], optional text_emb [B, cond_dim] and
    cond_drop bool [B]. Returns [B, latent_dim] (or (prediction, v)).

    Defaults: a 128-wide code, width 512, 6 blocks of 1024: 7.2 M parameters.
    """

    @register_config
    def __init__(self, *, latent_dim: int = 128, width: int = 256, hidden: int = 1024, depth: int = 6,
                 cond_dim: int | None = None, learn_variance: bool = False) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"LatentMLPDenoiser: depth must be >= 1; got {depth}")
        self.latent_dim = latent_dim
        self.cond_dim = cond_dim
        self.learn_variance = learn_variance
        self.time_embed = TimestepEmbedding(freq_dim=width, out_dim=width)
        self.cond_embed = None if cond_dim is None else ConditionEmbedding(cond_dim=cond_dim, out_dim=width)
        self.inp = nn.Linear(latent_dim, width)
        self.blocks = nn.ModuleList(_Block(width, hidden) for _ in range(depth))
        self.out_norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, latent_dim * (2 if learn_variance else 1))
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x_t: Tensor, t: Tensor, *, text_emb: Tensor | None = None,
                cond_drop: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        owner = "LatentMLPDenoiser"
        x = check_tensor(owner, "x_t", x_t, ("B", self.latent_dim),
                         f"The model was built with latent_dim={self.latent_dim}; pass vectors of that width.")
        check_floating(owner, "x_t", x)
        b = x.shape[0]
        t = check_timesteps(owner, t, b)
        if text_emb is not None:
            check_text_emb(owner, text_emb, b, self.cond_dim)
        drop = None if cond_drop is None else check_cond_drop(owner, cond_drop, b)
        c = self.time_embed(t.to(x.device))
        if self.cond_embed is not None:
            c = c + self.cond_embed(text_emb, drop, b, c.dtype)
        c = nn.functional.silu(c)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, c)
        out = self.out(self.out_norm(h))
        if self.learn_variance:
            pred, v = out.chunk(2, dim=-1)
            return pred, v
        return out
