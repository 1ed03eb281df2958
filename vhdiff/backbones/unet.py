"""Image UNet (DDPM / improved-DDPM layout) with optional text conditioning.

Layout (Ho et al. 2020, appendix B; Nichol & Dhariwal 2021): a 3x3 input conv, then per
resolution level `num_res_blocks` ResBlocks (+ self-attention at the chosen resolutions) and a
strided-conv downsample; a middle ResBlock-attention-ResBlock; the mirrored up path whose
ResBlocks take the skip features concatenated on channels, with nearest-neighbour + conv
upsampling; GroupNorm, SiLU and a 3x3 output conv.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .embeddings import ConditionEmbedding, TimestepEmbedding
from .pretrained import PretrainedMixin, register_config
from .validation import (
    check_cond_drop,
    check_floating,
    check_tensor,
    check_text_emb,
    check_text_tokens,
    check_timesteps,
)

__all__ = ["UNet"]


def _zero(module: nn.Module) -> nn.Module:
    """Zero a layer's parameters so its residual branch starts as the identity
    (improved-diffusion's `zero_module`)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, time conditioning, GroupNorm-SiLU-dropout-conv, plus a skip.

    x [B, C_in, H, W], emb [B, E] -> [B, C_out, H, W]. With `scale_shift` the embedding gives
    (scale, shift) applied as norm(h) * (1 + scale) + shift (adaptive GroupNorm, improved-DDPM
    sec. 3 / Dhariwal & Nichol 2021); otherwise it is added to h before the second norm (DDPM).
    """

    def __init__(
        self,
        *,
        in_ch: int,
        out_ch: int,
        emb_dim: int,
        dropout: float,
        groups: int,
        scale_shift: bool,
    ) -> None:
        super().__init__()
        self.scale_shift = scale_shift
        self.norm1 = nn.GroupNorm(groups, in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb_proj = nn.Linear(emb_dim, 2 * out_ch if scale_shift else out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _zero(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip = nn.Identity() if in_ch == out_ch else nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        e = self.emb_proj(F.silu(emb))[:, :, None, None]
        if self.scale_shift:
            scale, shift = e.chunk(2, dim=1)
            h = torch.addcmul(shift, self.norm2(h), scale + 1)
        else:
            h = self.norm2(h + e)
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """Multi-head self-attention over the H*W positions, optionally followed by cross-attention
    to text tokens. x [B, C, H, W] -> [B, C, H, W] (residual)."""

    def __init__(self, *, channels: int, num_heads: int, groups: int, cond_dim: int | None) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = _zero(nn.Linear(channels, channels))
        self.cross: CrossAttention | None = None
        if cond_dim is not None:
            self.cross = CrossAttention(channels=channels, num_heads=num_heads, cond_dim=cond_dim)

    def forward(
        self, x: Tensor, tokens: Tensor | None = None, token_mask: Tensor | None = None
    ) -> Tensor:
        b, c, hgt, wid = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)  # [B, HW, C]
        q, k, v = self.qkv(h).view(b, -1, 3, self.num_heads, c // self.num_heads).unbind(2)
        a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        h = self.proj(a.transpose(1, 2).reshape(b, -1, c))  # [B, HW, C]
        if self.cross is not None and tokens is not None:
            h = h + self.cross(h + x.flatten(2).transpose(1, 2), tokens, token_mask)
        return x + h.transpose(1, 2).reshape(b, c, hgt, wid)


class CrossAttention(nn.Module):
    """Queries from image positions, keys/values from text tokens (Rombach et al. 2022).

    h [B, N, C], tokens [B, L, cond_dim], token_mask bool [B, L] (True = real) -> [B, N, C].
    """

    def __init__(self, *, channels: int, num_heads: int, cond_dim: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm = nn.LayerNorm(channels)
        self.q = nn.Linear(channels, channels)
        self.kv = nn.Linear(cond_dim, 2 * channels)
        self.proj = _zero(nn.Linear(channels, channels))

    def forward(self, h: Tensor, tokens: Tensor, token_mask: Tensor | None) -> Tensor:
        b, n, c = h.shape
        d = c // self.num_heads
        q = self.q(self.norm(h)).view(b, n, self.num_heads, d).transpose(1, 2)
        k, v = self.kv(tokens).view(b, -1, 2, self.num_heads, d).unbind(2)
        mask = None if token_mask is None else token_mask[:, None, None, :]
        a = F.scaled_dot_product_attention(q, k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask)
        return self.proj(a.transpose(1, 2).reshape(b, n, c))


class Downsample(nn.Module):
    """3x3 conv with stride 2: [B, C, H, W] -> [B, C, H/2, W/2]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour x2 then a 3x3 conv: [B, C, H, W] -> [B, C, 2H, 2W]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNetStage(nn.Module):
    """One ResBlock, optionally followed by an AttentionBlock."""

    def __init__(self, res: ResBlock, attn: AttentionBlock | None) -> None:
        super().__init__()
        self.res = res
        self.attn = attn

    def forward(
        self, x: Tensor, emb: Tensor, tokens: Tensor | None, token_mask: Tensor | None
    ) -> Tensor:
        x = self.res(x, emb)
        return x if self.attn is None else self.attn(x, tokens, token_mask)


class UNet(PretrainedMixin, nn.Module):
    """Denoising UNet for images: `model(x_t, t, **cond) -> prediction` with x_t's shape.

    Args (keyword-only; they are the saved config):
        in_channels: channels of x_t (3 for RGB).
        out_channels: channels of the prediction; None = in_channels.
        base_channels: width of the first level.
        channel_mults: width multiplier per resolution level; levels = len(channel_mults).
        num_res_blocks: ResBlocks per level on the way down (the up path has one more).
        attention_resolutions: feature-map sizes (in pixels, for an `image_size` input) that get
            self-attention; each must be image_size / 2**level. The middle block always has it.
        image_size: the reference input size that `attention_resolutions` refers to. Inputs of
            any H, W divisible by 2**(levels - 1) are accepted; attention stays at the same
            levels.
        num_heads: attention heads (each level's width must be divisible by it).
        dropout: dropout inside the ResBlocks.
        norm_groups: GroupNorm groups (every level's width must be divisible by it).
        scale_shift_norm: time conditioning as adaptive GroupNorm (True, improved-DDPM) or
            added to the features (False, the original DDPM).
        cond_dim: width of the text embeddings; None = unconditional. When set, a pooled
            `text_emb` [B, cond_dim] is added to the time embedding (so it drives the
            adaptive norms), and with `cross_attention` every attention block also attends
            to `text_tokens` [B, L, cond_dim].
        cross_attention: add cross-attention to text tokens (only with cond_dim).
        learn_variance: also return v (improved-DDPM "learned_range" interpolation weights).

    Call:
        x_t [B, in_channels, H, W]; t LongTensor [B] (index into the training schedule,
        embedded as a number); optional text_emb [B, cond_dim], text_tokens [B, L, cond_dim],
        text_mask [B, L] (1 = real token), cond_drop bool [B] (True = use the learned null
        condition for that sample). Absent conditions are the null condition.
        Returns [B, out_channels, H, W], or the pair (prediction, v) with learn_variance.

    Defaults (the DDPM CIFAR-10 layout with adaptive norm and 4 heads): 32x32 images,
    base 128, mults (1, 2, 2, 2), 2 ResBlocks, attention at 16: 38,307,203 parameters
    (35,746,307 with scale_shift_norm=False, the DDPM paper's 35.7M).
    For 64x64: image_size=64, base_channels=128, channel_mults=(1, 2, 3, 4),
    num_res_blocks=3, attention_resolutions=(16, 8) (improved-DDPM ImageNet-64 layout):
    121,060,483 parameters.
    """

    @register_config
    def __init__(
        self,
        *,
        in_channels: int = 3,
        out_channels: int | None = None,
        base_channels: int = 128,
        channel_mults: Sequence[int] = (1, 2, 2, 2),
        num_res_blocks: int = 2,
        attention_resolutions: Sequence[int] = (16,),
        image_size: int = 32,
        num_heads: int = 4,
        dropout: float = 0.1,
        norm_groups: int = 32,
        scale_shift_norm: bool = True,
        cond_dim: int | None = None,
        cross_attention: bool = True,
        learn_variance: bool = False,
    ) -> None:
        super().__init__()
        mults = tuple(int(m) for m in channel_mults)
        if not mults or min(mults) < 1:
            raise ValueError(f"UNet: channel_mults must be positive integers; got {mults}")
        levels = len(mults)
        attn_levels = set()
        for res in attention_resolutions:
            level = next((i for i in range(levels) if image_size // 2**i == res), None)
            if level is None or image_size % 2**level:
                valid = [image_size // 2**i for i in range(levels)]
                raise ValueError(
                    f"UNet: attention resolution {res} is not one of the level sizes {valid} "
                    f"of a {image_size}x{image_size} input; pick from those or change image_size"
                )
            attn_levels.add(level)
        for w in [base_channels * m for m in mults]:
            if w % norm_groups or w % num_heads:
                raise ValueError(
                    f"UNet: level width {w} must be divisible by norm_groups={norm_groups} and "
                    f"num_heads={num_heads}; change base_channels, channel_mults or those"
                )
        self.in_channels = in_channels
        self.out_channels = in_channels if out_channels is None else out_channels
        self.levels = levels
        self.cond_dim = cond_dim
        self.learn_variance = learn_variance
        self.uses_tokens = cond_dim is not None and cross_attention

        emb_dim = 4 * base_channels
        self.time_embed = TimestepEmbedding(freq_dim=base_channels, out_dim=emb_dim)
        self.cond_embed = (
            None if cond_dim is None else ConditionEmbedding(cond_dim=cond_dim, out_dim=emb_dim)
        )
        # Learned null token sequence (one token) for cross-attention without text.
        self.null_tokens = (
            nn.Parameter(torch.randn(1, cond_dim) * 0.02) if self.uses_tokens else None
        )
        token_dim = cond_dim if self.uses_tokens else None

        def res(i: int, o: int) -> ResBlock:
            return ResBlock(
                in_ch=i,
                out_ch=o,
                emb_dim=emb_dim,
                dropout=dropout,
                groups=norm_groups,
                scale_shift=scale_shift_norm,
            )

        def attn(c: int) -> AttentionBlock:
            return AttentionBlock(
                channels=c, num_heads=num_heads, groups=norm_groups, cond_dim=token_dim
            )

        self.conv_in = nn.Conv2d(in_channels, base_channels, 3, padding=1)
        self.down = nn.ModuleList()
        skip_channels = [base_channels]
        ch = base_channels
        for level, mult in enumerate(mults):
            for _ in range(num_res_blocks):
                out = base_channels * mult
                self.down.append(
                    UNetStage(res(ch, out), attn(out) if level in attn_levels else None)
                )
                ch = out
                skip_channels.append(ch)
            if level != levels - 1:
                self.down.append(Downsample(ch))
                skip_channels.append(ch)
        self.mid = UNetStage(res(ch, ch), attn(ch))
        self.mid_res = res(ch, ch)
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(mults))):
            for _ in range(num_res_blocks + 1):
                out = base_channels * mult
                stage = res(ch + skip_channels.pop(), out)
                self.up.append(UNetStage(stage, attn(out) if level in attn_levels else None))
                ch = out
            if level != 0:
                self.up.append(Upsample(ch))
        self.norm_out = nn.GroupNorm(norm_groups, ch)
        n_out = self.out_channels * (2 if learn_variance else 1)
        self.conv_out = _zero(nn.Conv2d(ch, n_out, 3, padding=1))

    def _validate(self, x_t: object, kw: dict[str, object]) -> tuple[Tensor, int]:
        x = check_tensor(
            "UNet",
            "x_t",
            x_t,
            ("B", self.in_channels, "H", "W"),
            f"The UNet was built with in_channels={self.in_channels}; pass images with that "
            "many channels or rebuild with in_channels set to yours.",
        )
        check_floating("UNet", "x_t", x)
        factor = 2 ** (self.levels - 1)
        if x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(
                f"UNet: H and W must be divisible by 2**(levels-1) = {factor} for "
                f"{self.levels} levels; got H={x.shape[2]}, W={x.shape[3]}. Pad or crop the "
                "images, or use fewer channel_mults."
            )
        b = x.shape[0]
        if kw["text_emb"] is not None:
            check_text_emb("UNet", kw["text_emb"], b, self.cond_dim)
        if kw["text_tokens"] is not None:
            if not self.uses_tokens:
                raise ValueError(
                    "UNet: got text_tokens but this UNet has no cross-attention (needs cond_dim "
                    "set and cross_attention=True); pass only text_emb or rebuild"
                )
            check_text_tokens("UNet", kw["text_tokens"], kw["text_mask"], b, self.cond_dim)
        elif kw["text_mask"] is not None:
            raise ValueError("UNet: text_mask was given without text_tokens; give both")
        return x, b

    def forward(
        self,
        x_t: Tensor,
        t: Tensor,
        *,
        text_emb: Tensor | None = None,
        text_tokens: Tensor | None = None,
        text_mask: Tensor | None = None,
        cond_drop: Tensor | None = None,
    ) -> Tensor | tuple[Tensor, Tensor]:
        x, b = self._validate(
            x_t, {"text_emb": text_emb, "text_tokens": text_tokens, "text_mask": text_mask}
        )
        t = check_timesteps("UNet", t, b)
        drop = None if cond_drop is None else check_cond_drop("UNet", cond_drop, b)

        emb = self.time_embed(t.to(x.device))
        if self.cond_embed is not None:
            emb = emb + self.cond_embed(text_emb, drop, b, emb.dtype)
        tokens, token_mask = self._tokens(text_tokens, text_mask, drop, b, x.dtype)

        h = self.conv_in(x)
        skips = [h]
        for block in self.down:
            h = block(h, emb, tokens, token_mask) if isinstance(block, UNetStage) else block(h)
            skips.append(h)
        h = self.mid_res(self.mid(h, emb, tokens, token_mask), emb)
        for block in self.up:
            if isinstance(block, UNetStage):
                h = block(torch.cat([h, skips.pop()], dim=1), emb, tokens, token_mask)
            else:
                h = block(h)
        out = self.conv_out(F.silu(self.norm_out(h)))
        if self.learn_variance:
            pred, v = out.chunk(2, dim=1)
            return pred, v
        return out

    def _tokens(
        self,
        text_tokens: Tensor | None,
        text_mask: Tensor | None,
        drop: Tensor | None,
        b: int,
        dtype: torch.dtype,
    ) -> tuple[Tensor | None, Tensor | None]:
        """Tokens [B, L, cond_dim] + bool mask [B, L] for cross-attention, or (None, None).

        No tokens -> the learned null token for every sample. A dropped sample sees the null
        token at position 0 and nothing else, so its output equals the no-token output.
        """
        if self.null_tokens is None:
            return None, None
        null = self.null_tokens.to(dtype)
        if text_tokens is None:
            return null[None].expand(b, -1, -1), None
        tokens = text_tokens.to(device=null.device, dtype=dtype)
        if drop is None and text_mask is None:
            return tokens, None
        mask = (
            torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
            if text_mask is None
            else text_mask.to(tokens.device) != 0
        )
        # A sample without any real token (dropped, or an all-zero text_mask) sees the null.
        empty = ~mask.any(dim=1)
        d = empty if drop is None else drop.to(tokens.device) | empty
        tokens = torch.where(d[:, None, None], null[None], tokens)
        only_first = torch.zeros_like(mask)
        only_first[:, 0] = True
        return tokens, torch.where(d[:, None], only_first, mask)
