"""Motion: SMPL-parameter features for diffusion, HumanML3D's 263-dim features, datasets.

Submodules load on first use (``vhdiff.motion.to_features`` imports
``vhdiff.motion.representation``), so importing this package is cheap:

- :mod:`vhdiff.motion.representation`: ``to_features`` / ``from_features`` (140-dim
  per-frame features), ``joints_from_motion``, ``joints_from_features``, ``FeatureStats``.
- :mod:`vhdiff.motion.humanml3d`: HumanML3D's 263-dim vectors -> joint positions.
- :mod:`vhdiff.motion.dataset`: ``MotionTextDataset`` (our layout, 140-dim features),
  ``HumanML3DDataset`` (HumanML3D's folder, 263-dim), ``collate_motion``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FEATURE_DIM": "representation",
    "FEATURE_DIM_NO_CONTACTS": "representation",
    "FeatureStats": "representation",
    "from_features": "representation",
    "joints_from_features": "representation",
    "joints_from_motion": "representation",
    "root_heading": "representation",
    "to_features": "representation",
    "HUMANML3D_DIM": "humanml3d",
    "recover_from_ric": "humanml3d",
    "HumanML3DDataset": "dataset",
    "MotionTextDataset": "dataset",
    "collate_motion": "dataset",
    "compute_feature_stats": "dataset",
    "read_captions": "dataset",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"vhdiff.motion.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vhdiff.motion' has no attribute {name!r}")
