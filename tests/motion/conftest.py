"""Fixtures of the text-to-motion pipeline tests: a tiny built-in data set (12 clips); the
tiny random pipeline folders come from tests/motion_fixtures.py (the root conftest)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    """A 12-clip built-in synthetic motion set (vhdiff layout), built once per module."""
    from vhdiff.data_prep.synthetic_motion import write_synthetic_set

    root = tmp_path_factory.mktemp("motion_set") / "synthetic"
    write_synthetic_set(root, clips=12, seed=0)
    return root


@pytest.fixture(scope="module")
def real_features(tiny_set):
    """Denormalised 140-dim features of the set's clips: list of [T, 140] float64 arrays."""
    from vhdiff.body import SMPLMotion
    from vhdiff.motion.representation.smpl import to_features

    paths = sorted((tiny_set / "motions").glob("*.npz"))
    return [to_features(SMPLMotion.load(p)).astype(np.float64) for p in paths]
