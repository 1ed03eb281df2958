"""Text-to-motion denoiser: a transformer encoder over frames (MDM-like, Tevet et al. 2023)."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from .embeddings import ConditionEmbedding, TimestepEmbedding
from .pretrained import PretrainedMixin, register_config
from .validation import (
    check_cond_drop,
    check_floating,
    check_sequence_mask,
    check_tensor,
    check_text_emb,
    check_text_tokens,
    check_timesteps,
)

__all__ = ["MotionTransformer"]

# Tokens put before the frames: [timestep, text].
_PREFIX = 2


def sinusoidal_positions(length: int, dim: int) -> Tensor:
    """Transformer positional encoding (Vaswani et al. 2017, sec. 3.5): [length, dim]."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return pe


class MotionTransformer(PretrainedMixin, nn.Module):
    """Denoiser for motion sequences x_t [B, T, input_dim] with a padding mask.

    Sequence fed to the encoder: [timestep token, text token, frame_1 .. frame_T] plus
    positional encodings; the timestep token is the MLP of t's sinusoids, the text token a
    projection of the pooled `text_emb` or, when absent / dropped, a learned null token. Padded
    frames are excluded as attention keys, so they never change the outputs at real frames;
    their own outputs are set to 0. With `token_conditioning`, per-token text embeddings are
    projected and appended after the frames (a learned type embedding, no positions: CLIP
    tokens carry their own), as extra keys that the frames attend to; padded tokens and the
    tokens of dropped samples are masked out, so a dropped sample equals the unconditional one.

    Args (keyword-only; they are the saved config):
        input_dim: features per frame (263 for HumanML3D vectors; SMPL-parameter
            representations use their own width).
        latent_dim, num_layers, num_heads, ff_dim, dropout, activation: the encoder.
        max_len: the longest T accepted (learned positional tables have max_len + 2 rows).
        text_dim: width of the pooled text embedding (512 for CLIP ViT-B/32); None =
            unconditional (the text token is always the null token).
        positional_encoding: "sinusoidal" (fixed) or "learned".
        norm_first: pre-LayerNorm layers (with a final LayerNorm) instead of post-norm.
        token_conditioning: also accept `text_tokens` [B, L, text_dim] (+ `text_mask`), e.g.
            `TextEncoder.encode_tokens` output; adds a Linear(text_dim, latent_dim) and a type
            embedding (text_dim * latent_dim + 2 * latent_dim parameters). Needs text_dim.
        learn_variance: also return v (improved-DDPM "learned_range" interpolation weights).

    Call:
        x_t [B, T, input_dim], T <= max_len; t LongTensor [B] (training-schedule index,
        embedded as a number); optional mask [B, T] or [B, T, 1] (1 = real frame),
        text_emb [B, text_dim], cond_drop bool [B] (True = null text for that sample);
        with token_conditioning also text_tokens [B, L, text_dim] and text_mask [B, L]
        (1 = real token; absent = all real).
        Returns [B, T, input_dim], or the pair (prediction, v) with learn_variance.

    Defaults: 263 features, latent 512, 8 layers, 4 heads, ff 1024, GELU, dropout 0.1,
    max_len 196, text_dim 512: 17,881,863 parameters.
    """

    @register_config
    def __init__(
        self,
        *,
        input_dim: int = 263,
        latent_dim: int = 512,
        num_layers: int = 8,
        num_heads: int = 4,
        ff_dim: int = 1024,
        dropout: float = 0.1,
        activation: Literal["gelu", "relu"] = "gelu",
        max_len: int = 196,
        text_dim: int | None = 512,
        positional_encoding: Literal["sinusoidal", "learned"] = "sinusoidal",
        norm_first: bool = True,
        token_conditioning: bool = False,
        learn_variance: bool = False,
    ) -> None:
        super().__init__()
        if latent_dim % num_heads:
            raise ValueError(
                f"MotionTransformer: latent_dim={latent_dim} must be divisible by "
                f"num_heads={num_heads}; change one of them (e.g. num_heads=4 or 8)"
            )
        if activation not in ("gelu", "relu"):
            raise ValueError(
                f"MotionTransformer: activation must be 'gelu' or 'relu'; got {activation!r}"
            )
        if positional_encoding not in ("sinusoidal", "learned"):
            raise ValueError(
                "MotionTransformer: positional_encoding must be 'sinusoidal' or 'learned'; "
                f"got {positional_encoding!r}"
            )
        if token_conditioning and text_dim is None:
            raise ValueError(
                "MotionTransformer: token_conditioning=True needs text_dim (the token width); "
                "set text_dim or leave token_conditioning False"
            )
        if max_len < 1:
            raise ValueError(f"MotionTransformer: max_len must be >= 1; got {max_len}")
        self.input_dim = input_dim
        self.max_len = max_len
        self.text_dim = text_dim
        self.learn_variance = learn_variance

        self.input_proj = nn.Linear(input_dim, latent_dim)
        self.time_embed = TimestepEmbedding(freq_dim=latent_dim, out_dim=latent_dim)
        if text_dim is None:
            self.text_embed = None
            self.null_text = nn.Parameter(torch.randn(latent_dim) * 0.02)
        else:
            self.text_embed = ConditionEmbedding(cond_dim=text_dim, out_dim=latent_dim)
            self.null_text = None
        if positional_encoding == "learned":
            self.pos = nn.Parameter(torch.randn(max_len + _PREFIX, latent_dim) * 0.02)
        else:
            self.register_buffer(
                "pos", sinusoidal_positions(max_len + _PREFIX, latent_dim), persistent=False
            )
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model=latent_dim,
            nhead=num_heads,
            dim_feedforward=ff_dim,
            dropout=dropout,
            activation=activation,
            batch_first=True,
            norm_first=norm_first,
        )
        self.encoder = nn.TransformerEncoder(
            layer,
            num_layers=num_layers,
            norm=nn.LayerNorm(latent_dim) if norm_first else None,
            enable_nested_tensor=False,
        )
        self.token_proj: nn.Linear | None = None
        self.token_type: nn.Parameter | None = None
        if token_conditioning:
            self.token_proj = nn.Linear(text_dim, latent_dim)  # type: ignore[arg-type]
            self.token_type = nn.Parameter(torch.randn(latent_dim) * 0.02)
        self.output_proj = nn.Linear(latent_dim, input_dim * (2 if learn_variance else 1))

    def forward(
        self,
        x_t: Tensor,
        t: Tensor,
        *,
        mask: Tensor | None = None,
        text_emb: Tensor | None = None,
        text_tokens: Tensor | None = None,
        text_mask: Tensor | None = None,
        cond_drop: Tensor | None = None,
    ) -> Tensor | tuple[Tensor, Tensor]:
        owner = "MotionTransformer"
        x = check_tensor(
            owner,
            "x_t",
            x_t,
            ("B", "T", self.input_dim),
            f"The model was built with input_dim={self.input_dim}; pass motion features of "
            "that width or rebuild with input_dim set to yours.",
        )
        check_floating(owner, "x_t", x)
        b, length = x.shape[:2]
        if length > self.max_len:
            raise ValueError(
                f"{owner}: x_t has T={length} frames but max_len={self.max_len}; crop or split "
                f"the sequence, or rebuild with max_len >= {length}"
            )
        if length < 1:
            raise ValueError(f"{owner}: x_t has no frames (T = 0); pass at least one frame")
        t = check_timesteps(owner, t, b)
        real = None if mask is None else check_sequence_mask(owner, mask, b, length, "frames")
        if text_emb is not None:
            check_text_emb(owner, text_emb, b, self.text_dim)
        drop = None if cond_drop is None else check_cond_drop(owner, cond_drop, b)
        if text_tokens is not None:
            if self.token_proj is None:
                raise ValueError(
                    f"{owner}: got text_tokens but this model was built with "
                    "token_conditioning=False; rebuild with token_conditioning=True or pass "
                    "only the pooled text_emb"
                )
            check_text_tokens(owner, text_tokens, text_mask, b, self.text_dim)
        elif text_mask is not None:
            raise ValueError(f"{owner}: text_mask was given without text_tokens; give both")

        time_tok = self.time_embed(t.to(x.device))  # [B, latent]
        if self.text_embed is not None:
            text_tok = self.text_embed(text_emb, drop, b, time_tok.dtype)
        else:
            text_tok = self.null_text[None].expand(b, -1)
        if real is not None:
            # Zero padded frames first: garbage there (even inf / NaN) cannot reach real frames.
            x = x.masked_fill(~real.to(x.device)[..., None], 0.0)
        frames = self.input_proj(x)  # [B, T, latent]
        seq = torch.cat([time_tok[:, None], text_tok[:, None], frames], dim=1)
        seq = self.drop(seq + self.pos[None, : length + _PREFIX].to(seq.dtype))
        padding = None
        if real is not None:
            # key_padding_mask: True = ignore this key. The prefix tokens are always real.
            prefix = torch.zeros(b, _PREFIX, dtype=torch.bool, device=x.device)
            padding = torch.cat([prefix, ~real.to(x.device)], dim=1)
        if text_tokens is not None:
            seq, padding = self._append_tokens(seq, padding, text_tokens, text_mask, drop)
        h = self.encoder(seq, src_key_padding_mask=padding)[:, _PREFIX : _PREFIX + length]
        out = self.output_proj(h)
        if real is not None:
            out = out.masked_fill(~real.to(out.device)[..., None], 0.0)
        if self.learn_variance:
            pred, v = out.chunk(2, dim=-1)
            return pred, v
        return out

    def _append_tokens(
        self,
        seq: Tensor,
        padding: Tensor | None,
        text_tokens: Tensor,
        text_mask: Tensor | None,
        drop: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        """seq [B, S, latent] + projected tokens -> [B, S + L, latent], key padding [B, S + L].

        A token is a key only when it is real (text_mask) and its sample is not dropped.
        """
        assert self.token_proj is not None and self.token_type is not None
        b, device = seq.shape[0], seq.device
        tokens = self.token_proj(text_tokens.to(device, self.token_proj.weight.dtype))
        tokens = self.drop(tokens.to(seq.dtype) + self.token_type.to(seq.dtype))
        keep = torch.ones(tokens.shape[:2], dtype=torch.bool, device=device)
        if text_mask is not None:
            keep = text_mask.to(device) != 0
        if drop is not None:
            keep = keep & ~drop.to(device)[:, None]
        if padding is None:
            padding = torch.zeros(b, seq.shape[1], dtype=torch.bool, device=device)
        return torch.cat([seq, tokens], dim=1), torch.cat([padding, ~keep], dim=1)
