"""Motion: SMPL-parameter features for diffusion, HumanML3D's 263-dim features, datasets.

Submodules load on first use (``vhdiff.motion.to_features`` imports
``vhdiff.motion.representation.smpl``), so importing this package is cheap:

- :mod:`vhdiff.motion.representation.smpl`: ``to_features`` / ``from_features`` (140-dim
  per-frame features), ``joints_from_motion``, ``joints_from_features``, ``FeatureStats``.
- :mod:`vhdiff.motion.representation.humanml3d`: HumanML3D's 263-dim vectors -> joint positions.
- :mod:`vhdiff.motion.data`: ``MotionTextDataset`` (our layout, 140-dim features),
  ``HumanML3DDataset`` (HumanML3D's folder, 263-dim), ``collate_motion``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FEATURE_DIM": "representation.smpl",
    "FEATURE_DIM_NO_CONTACTS": "representation.smpl",
    "FeatureStats": "representation.stats",
    "from_features": "representation.smpl",
    "joints_from_features": "representation.smpl",
    "joints_from_motion": "representation.smpl",
    "root_heading": "representation.smpl",
    "to_features": "representation.smpl",
    "HUMANML3D_DIM": "representation.humanml3d",
    "recover_from_ric": "representation.humanml3d",
    "HumanML3DDataset": "data",
    "MotionTextDataset": "data",
    "collate_motion": "data",
    "compute_feature_stats": "data",
    "read_captions": "data",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"vhdiff.motion.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vhdiff.motion' has no attribute {name!r}")
