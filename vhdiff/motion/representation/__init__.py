"""What a motion model sees: per-frame feature representations of a motion, as objects.

    from vhdiff.motion.representation import get_representation
    rep = get_representation("smpl")            # SMPLFeatures(contacts=True), 140 dims
    features = rep.from_smpl(motion)            # [T, 140], raw (not normalised)
    smpl, joints = rep.to_motion(features, fps=20.0)

Two representations, each a class here with its math in a sibling module:

- ``"smpl"`` (:class:`SMPLFeatures`, :mod:`.smpl`): root height, planar and yaw velocities,
  root tilt and the 21 body joints' local rotations in 6D, optional foot contacts
  (140 or 136 dims). Maps back to SMPL parameters directly (no optimisation), so it
  supports editing, smoothing and foot locking.
- ``"humanml3d"`` (:class:`HumanML3DFeatures`, :mod:`.humanml3d`): HumanML3D's 263-dim
  joint-position vectors (Guo et al. 2022); joints only, no SMPL parameters.

:func:`get_representation` is the one place a name (a config's or pipeline.json's
``representation``) becomes an object; code elsewhere asks the object, never the name.
Normalisation statistics are :class:`.stats.FeatureStats`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation.stats import FeatureStats

__all__ = [
    "REPRESENTATION_NAMES",
    "STATS_FILE",
    "HumanML3DFeatures",
    "MotionRepresentation",
    "SMPLFeatures",
    "get_representation",
]

REPRESENTATION_NAMES = ("smpl", "humanml3d")
STATS_FILE = "feature_stats.npz"  # a dataset folder's (and a motion pipeline folder's) statistics


class MotionRepresentation(ABC):
    """A per-frame feature layout [T, dim] of a motion, and the way back to a motion."""

    name: ClassVar[str]
    #: to_motion gives SMPL parameters (not only joints): editing, smoothing and foot
    #: locking work on it, and the result can be written as .npz / BVH / video
    has_smpl: ClassVar[bool]

    @property
    @abstractmethod
    def dim(self) -> int:
        """Feature width D."""

    @abstractmethod
    def load_stats(self, root: str | os.PathLike) -> FeatureStats:
        """The normalisation statistics a dataset folder of this representation holds."""

    @abstractmethod
    def to_motion(
        self, features: np.ndarray, *, fps: float, start_heading: float = 0.0,
        start_xz: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[SMPLMotion | None, np.ndarray]:
        """Raw (denormalised) features [T, D] -> (SMPL parameters or None, joints [T, 22, 3]
        float32 in metres, Y up). start_heading / start_xz place frame 0 (the features are
        heading- and position-invariant)."""

    def from_smpl(self, motion: SMPLMotion) -> np.ndarray:
        """Raw features [T, D] of an SMPL motion (representations with has_smpl only)."""
        raise ValueError(
            f"the {self.name} representation holds joint positions only; it cannot be computed "
            "from SMPL parameters here (use the smpl representation)"
        )

    def require_smpl(self, what: str) -> None:
        """ValueError naming `what` when this representation has no SMPL parameters."""
        if not self.has_smpl:
            raise ValueError(
                f"{what} needs the SMPL-parameter representation; this model uses {self.name} "
                "features (joints only)"
            )


@dataclass(frozen=True)
class SMPLFeatures(MotionRepresentation):
    """The SMPL-parameter features of :mod:`vhdiff.motion.representation.smpl`.

    contacts: with the 4 foot-contact labels (140 dims) or without (136).
    """

    contacts: bool = True
    name: ClassVar[str] = "smpl"
    has_smpl: ClassVar[bool] = True

    @property
    def dim(self) -> int:
        from vhdiff.motion.representation.smpl import feature_dim

        return feature_dim(contacts=self.contacts)

    def load_stats(self, root: str | os.PathLike) -> FeatureStats:
        return FeatureStats.load(Path(root) / STATS_FILE)

    def to_motion(
        self, features: np.ndarray, *, fps: float, start_heading: float = 0.0,
        start_xz: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[SMPLMotion | None, np.ndarray]:
        from vhdiff.motion.representation.smpl import from_features, joints_from_motion

        smpl = from_features(features, fps=fps, start_heading=start_heading, start_xz=start_xz)
        return smpl, joints_from_motion(smpl).astype(np.float32)

    def from_smpl(self, motion: SMPLMotion) -> np.ndarray:
        from vhdiff.motion.representation.smpl import to_features

        return to_features(motion, contacts=self.contacts)


@dataclass(frozen=True)
class HumanML3DFeatures(MotionRepresentation):
    """HumanML3D's 263-dim vectors (:mod:`vhdiff.motion.representation.humanml3d`)."""

    name: ClassVar[str] = "humanml3d"
    has_smpl: ClassVar[bool] = False

    @property
    def dim(self) -> int:
        from vhdiff.motion.representation.humanml3d import HUMANML3D_DIM

        return HUMANML3D_DIM

    def load_stats(self, root: str | os.PathLike) -> FeatureStats:
        from vhdiff.motion.representation.humanml3d import load_feature_stats

        return load_feature_stats(root)

    def to_motion(
        self, features: np.ndarray, *, fps: float, start_heading: float = 0.0,
        start_xz: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[SMPLMotion | None, np.ndarray]:
        from vhdiff.motion.representation.humanml3d import recover_from_ric

        return None, np.asarray(recover_from_ric(features), dtype=np.float32)


def get_representation(name: Any, *, dim: int | None = None) -> MotionRepresentation:
    """The representation called `name` ("smpl" or "humanml3d"); for "smpl", `dim` (136 or
    140, e.g. the model's input width) picks the variant without / with foot contacts."""
    if isinstance(name, MotionRepresentation):
        return name
    if name == "smpl":
        rep = SMPLFeatures(contacts=dim != SMPLFeatures(contacts=False).dim)
    elif name == "humanml3d":
        rep = HumanML3DFeatures()
    else:
        raise ValueError(
            f"unknown motion representation {name!r}; choose one of {', '.join(REPRESENTATION_NAMES)}"
        )
    if dim is not None and dim != rep.dim:
        raise ValueError(
            f"the {rep.name} representation has {rep.dim} dims, not {dim}; the model and its "
            "feature statistics must match the representation"
        )
    return rep
