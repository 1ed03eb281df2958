"""Input checks shared by the metric functions: anything array-like -> float64 numpy."""

from __future__ import annotations

import numpy as np

__all__ = ["as_embeddings", "as_float64"]


def as_float64(value: object, *, name: str) -> np.ndarray:
    """`value` (numpy array, torch tensor or nested list) as a float64 numpy array.

    Raises ValueError when it holds NaN or infinity (the metrics would be silently wrong).
    """
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch here
        value = value.detach().cpu().double().numpy()
    array = np.ascontiguousarray(value, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} holds NaN or infinite values; check the model outputs that produced it"
        )
    return array


def as_embeddings(value: object, *, name: str, min_rows: int = 1) -> np.ndarray:
    """A [N, D] float64 embedding matrix with N >= `min_rows`, or a ValueError saying why not."""
    array = as_float64(value, name=name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a [N, D] matrix of embeddings (one row per sample), "
            f"got shape {tuple(array.shape)}"
        )
    if array.shape[0] < min_rows:
        raise ValueError(
            f"{name} has {array.shape[0]} rows but this metric needs at least {min_rows}; "
            "evaluate more samples"
        )
    return array
