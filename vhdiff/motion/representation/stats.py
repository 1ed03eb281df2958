"""Feature normalisation: per-dimension mean and std of a dataset's features (any representation)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.array_files import load_npz_file
from vhdiff.atomic_io import write_npz_atomic

__all__ = ["FeatureStats"]


def _as_like(array: np.ndarray, x: Any) -> Any:
    if hasattr(x, "detach"):  # a torch tensor: match its dtype and device
        import torch

        return torch.as_tensor(array, dtype=x.dtype, device=x.device)
    return array.astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float32)


@dataclass
class FeatureStats:
    """Per-dimension mean [D] and std [D] of a dataset's features (std already floored).

    ``normalize(x) = (x - mean) / std`` and ``denormalize`` work on numpy arrays and torch
    tensors of shape [..., D]. Saved as an ``.npz`` with ``mean``, ``std``, ``min_std``.
    """

    mean: np.ndarray
    std: np.ndarray
    min_std: float = 1e-2

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float32)
        self.std = np.asarray(self.std, dtype=np.float32)
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(
                f"mean and std must both have shape [D], got {list(self.mean.shape)} and "
                f"{list(self.std.shape)}"
            )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("feature stats contain NaN or infinite values; recompute them")
        self.std = np.maximum(self.std, np.float32(self.min_std))

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def from_features(
        cls, features: list[np.ndarray] | np.ndarray, *, min_std: float = 1e-2
    ) -> FeatureStats:
        """Stats over all frames of a list of [T_i, D] arrays (or one [N, D] array)."""
        if isinstance(features, np.ndarray):
            features = [features]
        if not features:
            raise ValueError("no features to compute statistics from (empty dataset)")
        stacked = np.concatenate([np.asarray(f, dtype=np.float64) for f in features], axis=0)
        return cls(mean=stacked.mean(0), std=stacked.std(0), min_std=min_std)

    def _check(self, x: Any) -> None:
        if x.shape[-1] != self.dim:
            raise ValueError(
                f"features have {x.shape[-1]} dims but the stats have {self.dim}; use the stats "
                "computed for this representation (contacts on/off)"
            )

    def normalize(self, x: Any) -> Any:
        """(x - mean) / std for x [..., D] (numpy or torch, dtype kept)."""
        self._check(x)
        return (x - _as_like(self.mean, x)) / _as_like(self.std, x)

    def denormalize(self, x: Any) -> Any:
        """x * std + mean for x [..., D] (numpy or torch, dtype kept)."""
        self._check(x)
        return x * _as_like(self.std, x) + _as_like(self.mean, x)

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``mean``, ``std``, ``min_std`` to an .npz atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"mean": self.mean, "std": self.std, "min_std": np.float64(self.min_std)}
        write_npz_atomic(path, arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureStats:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"feature stats not found: {str(path)!r}; the prep commands write it "
                "(vhdiff prep synthetic-motion / amass / humanml3d), or compute it with "
                "FeatureStats.from_features(...).save(path)"
            )
        archive = load_npz_file(path, kind="feature stats", fmt="feature-stats .npz with mean/std")
        try:
            with archive as data:
                min_std = float(data["min_std"]) if "min_std" in data.files else 1e-2
                return cls(mean=data["mean"], std=data["std"], min_std=min_std)
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(
                f"{str(path)!r} is not a feature-stats .npz with mean/std ({exc})"
            ) from exc
