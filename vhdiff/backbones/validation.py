"""Shape checks shared by the backbones, run before any torch kernel sees the input.

Every check raises a ValueError that names the tensor, the shape expected, the shape given and
the fix, so a wrong input never surfaces as an opaque matmul / conv error deep inside a network.
Shapes are written with letters for free sizes (B, T, H, ...) and numbers for fixed ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "check_cond_drop",
    "check_floating",
    "check_sequence_mask",
    "check_tensor",
    "check_text_emb",
    "check_text_tokens",
    "check_timesteps",
    "format_shape",
]


def format_shape(shape: Sequence[int | str | None]) -> str:
    """[2, 3, 'H', None] -> '[2, 3, H, *]'."""
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"


def check_tensor(
    owner: str, name: str, value: object, expected: Sequence[int | str | None], fix: str = ""
) -> Tensor:
    """Check `value` is a tensor whose shape matches `expected`.

    expected: one entry per dim; an int must match exactly, a str (a letter such as "B") or
    None matches any size. Returns the tensor unchanged.
    """
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{owner}: {name} must be a torch.Tensor of shape {format_shape(expected)}; "
            f"got {type(value).__name__}"
        )
    given = tuple(value.shape)
    bad = len(given) != len(expected) or any(
        isinstance(e, int) and g != e for g, e in zip(given, expected)
    )
    if bad:
        hint = f" {fix}" if fix else ""
        raise ValueError(
            f"{owner}: {name} must have shape {format_shape(expected)}; "
            f"got {format_shape(given)}.{hint}"
        )
    return value


def check_floating(owner: str, name: str, x: Tensor) -> Tensor:
    """Refuse integer / bool inputs (a Linear or conv would fail later with a dtype error)."""
    if not x.is_floating_point():
        raise ValueError(
            f"{owner}: {name} must be a floating-point tensor; got {x.dtype}. "
            f"Convert it first, e.g. {name}.float()"
        )
    return x


def check_timesteps(owner: str, t: object, batch: int) -> Tensor:
    """t: LongTensor [B] (a 0-d tensor or a Python int is broadcast to [B]).

    Float timesteps are accepted too (they are embedded as numbers); bool is refused.
    """
    if isinstance(t, int) and not isinstance(t, bool):
        t = torch.tensor([t], dtype=torch.long)
    if not isinstance(t, Tensor):
        raise TypeError(
            f"{owner}: t must be a LongTensor [B] of training-schedule indices; "
            f"got {type(t).__name__}"
        )
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(
            f"{owner}: t must hold integer timestep indices; got dtype {t.dtype}. "
            "Pass a LongTensor [B] of training-schedule indices, e.g. t.long()"
        )
    if t.ndim == 0 or (t.ndim == 1 and t.shape[0] == 1 and batch != 1):
        return t.reshape(1).expand(batch)
    if t.ndim != 1 or t.shape[0] != batch:
        raise ValueError(
            f"{owner}: t must have shape [{batch}] (one timestep index per sample of x_t); "
            f"got {format_shape(tuple(t.shape))}"
        )
    return t


def check_text_emb(owner: str, text_emb: object, batch: int, cond_dim: int | None) -> Tensor:
    """text_emb: [B, cond_dim] pooled condition embedding."""
    if cond_dim is None:
        raise ValueError(
            f"{owner}: this model was built without text conditioning (cond_dim=None) but "
            "got text_emb; build it with cond_dim=<width of your text embedding> or leave "
            "text_emb out"
        )
    return check_tensor(
        owner,
        "text_emb",
        text_emb,
        (batch, cond_dim),
        f"The model was built with cond_dim={cond_dim}; pass pooled embeddings of that width "
        f"(or rebuild with cond_dim={_last(text_emb)}).",
    )


def check_text_tokens(
    owner: str, text_tokens: object, text_mask: object, batch: int, cond_dim: int | None
) -> tuple[Tensor, Tensor | None]:
    """text_tokens: [B, L, cond_dim]; text_mask: [B, L] (1 = real token) or None."""
    if cond_dim is None:
        raise ValueError(
            f"{owner}: this model was built without text conditioning (cond_dim=None) but "
            "got text_tokens; build it with cond_dim=<token width> or leave text_tokens out"
        )
    tokens = check_tensor(
        owner,
        "text_tokens",
        text_tokens,
        (batch, "L", cond_dim),
        f"The model was built with cond_dim={cond_dim}.",
    )
    if tokens.shape[1] == 0:
        raise ValueError(f"{owner}: text_tokens has no tokens (L = 0); give at least one")
    if text_mask is not None:
        check_tensor(
            owner,
            "text_mask",
            text_mask,
            (batch, tokens.shape[1]),
            "text_mask marks the real tokens of text_tokens (1 = real, 0 = padding).",
        )
    return tokens, text_mask  # type: ignore[return-value]


def check_cond_drop(owner: str, cond_drop: object, batch: int) -> Tensor:
    """cond_drop: bool [B] (True = replace this sample's condition by the null condition).

    Integer 0/1 flags are accepted; floating point is refused, since a probability passed
    by mistake would silently drop every sample with a non-zero value.
    """
    drop = check_tensor(
        owner,
        "cond_drop",
        cond_drop,
        (batch,),
        "cond_drop holds one flag per sample: True drops that sample's condition.",
    )
    if drop.is_floating_point() or drop.is_complex():
        raise ValueError(
            f"{owner}: cond_drop must be a bool tensor [B] (True = drop the condition); got "
            f"{drop.dtype}. To drop with probability p, pass torch.rand(B) < p"
        )
    return drop.bool()


def check_sequence_mask(owner: str, mask: object, batch: int, length: int, what: str) -> Tensor:
    """mask: [B, N] or [B, N, 1], 1 = real element; returns a bool [B, N] tensor."""
    if isinstance(mask, Tensor) and mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    check_tensor(
        owner,
        "mask",
        mask,
        (batch, length),
        f"mask marks the real {what} of x_t (1 = real, 0 = padding); [B, N, 1] is accepted too.",
    )
    m: Tensor = mask  # type: ignore[assignment]
    return m if m.dtype == torch.bool else m != 0


def _last(value: object) -> str:
    if isinstance(value, Tensor) and value.ndim > 0:
        return str(value.shape[-1])
    return "<width>"
