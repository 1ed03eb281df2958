"""Global and per-shape-box normalization: fitted on train, applied and undone the same way."""

import numpy as np
import pytest

from vhdiff.pointcloud.normalization import Normalization


def _clouds(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(6, 50, 3)) * [0.3, 0.8, 0.2] + [0.0, 0.9, 0.1]


def test_global_is_one_mean_and_one_scale_and_undo_is_exact():
    clouds = _clouds()
    norm = Normalization.fit(clouds, "global")
    np.testing.assert_allclose(norm.mean, clouds.reshape(-1, 3).mean(0))
    out = norm.apply(clouds)
    assert abs(out.mean()) < 1e-6 and abs(np.sqrt((out**2).mean()) - 1) < 1e-5
    np.testing.assert_allclose(norm.undo(out), clouds, atol=1e-5)
    # the same transform for every cloud: relative geometry is kept
    np.testing.assert_allclose(np.ptp(out[0], 0) / np.ptp(out[1], 0), np.ptp(clouds[0], 0) / np.ptp(clouds[1], 0), rtol=1e-4)


def test_shape_bbox_puts_every_cloud_into_its_box():
    clouds = _clouds()
    norm = Normalization.fit(clouds, "shape_bbox")
    out = norm.apply(clouds)
    for cloud in out:
        lo, hi = cloud.min(0), cloud.max(0)
        np.testing.assert_allclose((lo + hi) / 2, 0, atol=1e-6)
        assert abs((hi - lo).max() - 2) < 1e-5
    assert norm.scale == pytest.approx(np.median((clouds.max(1) - clouds.min(1)).max(1) / 2))


def test_round_trip_through_a_dict_and_bad_input():
    norm = Normalization.fit(_clouds(), "global")
    assert Normalization.from_dict(norm.to_dict()) == norm
    with pytest.raises(ValueError, match="unknown normalization"):
        Normalization.fit(_clouds(), "unit_sphere")
    with pytest.raises(ValueError, match="bad normalization"):
        Normalization.from_dict({"kind": "global"})
    with pytest.raises(ValueError, match="positive"):
        Normalization(kind="global", mean=(0, 0, 0), scale=0.0)
