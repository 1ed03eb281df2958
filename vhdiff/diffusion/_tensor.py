"""Shape helpers shared by the diffusion core. Nothing here knows about modalities."""

from __future__ import annotations

from torch import Tensor


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
