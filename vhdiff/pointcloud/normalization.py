"""How point clouds are scaled for the model, fitted on the train split and saved with the
data (dataset.json) and with the model (pipeline.json).

Two kinds (NORMALIZATIONS):

- "global" (PointFlow, PVD, LION): one mean [3] and one scalar scale from the train split,
  x' = (x - mean) / scale, with scale the standard deviation of all train coordinates about
  that mean. The same for every cloud, so `undo` gives metres back exactly.
- "shape_bbox" (Luo & Hu 2021): each cloud is centred on its own bounding-box centre and
  divided by half its longest side, into [-1, 1]. A new sample has no box of its own, so
  `undo` maps it back with the train split's median centre and half-side (`mean`,
  `scale`): sizes come out typical, not the per-shape ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DEFAULT_NORMALIZATION", "NORMALIZATIONS", "Normalization", "check_normalization"]

NORMALIZATIONS = ("global", "shape_bbox")
DEFAULT_NORMALIZATION = "global"


def check_normalization(kind: Any) -> str:
    if kind not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {kind!r}; choose one of {', '.join(NORMALIZATIONS)}")
    return str(kind)


def _box(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre [..., 3], half of the longest side [...]) of clouds [..., P, 3]."""
    lo, hi = points.min(axis=-2), points.max(axis=-2)
    return (lo + hi) / 2, np.maximum((hi - lo).max(axis=-1) / 2, 1e-12)


@dataclass(frozen=True)
class Normalization:
    """kind: one of NORMALIZATIONS; mean [3] and scale (metres) as the module docstring says."""

    kind: str
    mean: tuple[float, float, float]
    scale: float

    def __post_init__(self) -> None:
        check_normalization(self.kind)
        if not (np.isfinite(self.scale) and self.scale > 0) or not np.isfinite(self.mean).all():
            raise ValueError(f"normalization scale must be a positive number, got {self.scale!r}")

    @classmethod
    def fit(cls, clouds: np.ndarray, kind: str = DEFAULT_NORMALIZATION) -> Normalization:
        """Fit on train clouds [K, P, 3] (metres)."""
        clouds = np.asarray(clouds, dtype=np.float64)
        if clouds.ndim != 3 or clouds.shape[-1] != 3 or clouds.size == 0:
            raise ValueError(f"fit needs clouds [K, P, 3], got {list(clouds.shape)}")
        if check_normalization(kind) == "global":
            mean = clouds.reshape(-1, 3).mean(axis=0)
            scale = float(np.sqrt(((clouds - mean) ** 2).mean()))
        else:
            centres, halves = _box(clouds)
            mean, scale = np.median(centres, axis=0), float(np.median(halves))
        return cls(kind=kind, mean=tuple(float(m) for m in mean), scale=scale)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Metres -> model space; points [..., P, 3] (float32 out)."""
        points = np.asarray(points, dtype=np.float64)
        if self.kind == "global":
            out = (points - np.asarray(self.mean)) / self.scale
        else:
            centre, half = _box(points)
            out = (points - centre[..., None, :]) / half[..., None, None]
        return out.astype(np.float32)

    def undo(self, points: np.ndarray) -> np.ndarray:
        """Model space -> metres (see the module docstring for "shape_bbox")."""
        return (np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.mean)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": list(self.mean), "scale": self.scale}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "normalization") -> Normalization:
        try:
            return cls(kind=data["kind"], mean=tuple(float(m) for m in data["mean"]), scale=float(data["scale"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad {source}: {exc}; expected {{kind, mean [3], scale}}") from None
