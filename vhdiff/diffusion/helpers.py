"""Small helpers shared by the diffusion core: broadcasting, masks, checks, progress bars.

Nothing here knows about modalities: x is any tensor [B, ...].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor

Item = TypeVar("Item")
D = TypeVar("D")


def check_choice(name: str, value: object, options: Sequence[object]) -> None:
    """Raise ValueError naming the valid options when `value` is not one of them."""
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"unknown {name} {value!r}; valid options: {listed}")


def dataclass_from_dict(cls: type[D], data: Mapping[str, Any], *, what: str) -> D:
    """cls(**data) for a config dataclass; an unknown key is a ValueError listing the valid ones."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a {what} config must be a mapping of keys, got {type(data).__name__}")  # noqa: TRY004
    valid = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = [k for k in data if k not in valid]
    if unknown:
        raise ValueError(f"unknown {what} config key {unknown[0]!r}; valid keys: {', '.join(valid)}")
    return cls(**data)


def randn_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal noise of x's shape, dtype and device, drawn from `generator`."""
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def as_tensor_like(value: Tensor | float, like: Tensor) -> Tensor:
    """A coefficient (a tensor, or a float) as a tensor of like's dtype/device (broadcasts)."""
    if isinstance(value, Tensor):
        return value
    return torch.tensor(value, dtype=like.dtype, device=like.device)


def progress_bar(iterable: Iterable[Item], *, total: int, desc: str, enabled: bool = True) -> Iterable[Item]:
    """`iterable` wrapped in a tqdm bar when `enabled` (and tqdm imports), else unchanged."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but never fail a run for a progress bar
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def append_dims(v: Tensor, ndim: int) -> Tensor:
    """Append trailing singleton dims so that `v` [B] broadcasts against a [B, ...] tensor."""
    missing = ndim - v.ndim
    if missing < 0:
        raise ValueError(f"cannot broadcast a {v.ndim}-d tensor to {ndim} dims")
    return v.reshape(*v.shape, *([1] * missing))


def gather(table: Tensor, t: Tensor, like: Tensor) -> Tensor:
    """table[t] cast to `like`'s dtype/device and shaped [B, 1, ..., 1] to broadcast over it.

    table: float64 [T]; t: long [B]; like: [B, ...].
    """
    out = table.to(like.device)[t.to(like.device)]
    return append_dims(out.to(like.dtype), like.ndim)


def mean_over_elements(x: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean over every dim but the batch dim, counting only elements where mask == 1.

    x: [B, ...]; mask: broadcastable to x (1 = real element, 0 = padding) or None.
    Returns [B]. A sample with no real element gives 0, not NaN.
    """
    if mask is None:
        return x.reshape(x.shape[0], -1).mean(dim=1)
    m = broadcast_mask(mask, x).to(x.dtype)
    num = (x * m).reshape(x.shape[0], -1).sum(dim=1)
    den = m.reshape(x.shape[0], -1).sum(dim=1)
    return num / den.clamp_min(1.0)


def broadcast_mask(mask: Tensor, x: Tensor) -> Tensor:
    """Expand a mask [B, d1, .., dk] (k <= x.ndim - 1, leading dims of x) to x's full shape."""
    if mask.shape[0] != x.shape[0]:
        raise ValueError(
            f"mask has batch size {mask.shape[0]} but x has {x.shape[0]}; "
            f"mask must be [B, ...] with leading dims of x {tuple(x.shape)}"
        )
    m = mask
    if m.ndim < x.ndim:
        m = append_dims(m, x.ndim)
    try:
        return m.expand_as(x)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to x of shape {tuple(x.shape)}; "
            "give a mask over x's leading dims, e.g. [B, T] for x [B, T, D]"
        ) from None


def check_timesteps(t: Tensor, num_timesteps: int, batch: int | None = None) -> Tensor:
    """Validate a LongTensor [B] of training timestep indices; returns it as long."""
    if not isinstance(t, Tensor):
        raise ValueError(f"t must be a LongTensor [B], got {type(t).__name__}")  # noqa: TRY004 (user errors are ValueErrors)
    if t.ndim != 1:
        raise ValueError(f"t must be 1-d [B], got shape {tuple(t.shape)}")
    if batch is not None and t.shape[0] != batch:
        raise ValueError(f"t has {t.shape[0]} entries but the batch has {batch} samples")
    if t.is_floating_point():
        raise ValueError("t must hold integer indices into the training schedule, got floats")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_timesteps):
        raise ValueError(
            f"timesteps must lie in [0, {num_timesteps}); got min {int(t.min())}, max {int(t.max())}"
        )
    return t.long()


def split_pair(out: object, *, learned: bool) -> tuple[Tensor, Tensor | None]:
    """Split a model output into (prediction, v) following the model contract."""
    if learned:
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise ValueError(
                "variance='learned_range' needs the model to return the pair (prediction, v); "
                f"it returned {type(out).__name__}. Build the backbone with learn_variance=True."
            )
        return out[0], out[1]
    if isinstance(out, (tuple, list)):
        raise ValueError(  # noqa: TRY004 (user errors are ValueErrors)
            "the model returned a pair (prediction, v) but the diffusion's variance is fixed; "
            "use variance='learned_range' or build the backbone with learn_variance=False"
        )
    return out, None  # type: ignore[return-value]
