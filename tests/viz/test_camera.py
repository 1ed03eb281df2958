"""Camera framing: every point in view, tight to the margin, float32 = float64 input;
bounding boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from vhdiff.viz.camera import (
    bounds,
    fit_distance,
    follow_points,
    frame_points,
    tight_camera,
    view_direction,
)


def cloud(seed: int = 0, count: int = 5000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(count, 3)) * [0.3, 0.9, 0.2] + [1.0, 0.9, -2.0]


def test_bounds_are_the_box():
    points = cloud().reshape(50, 100, 3)
    low, high = bounds(points)
    np.testing.assert_array_equal(low, points.reshape(-1, 3).min(0))
    np.testing.assert_array_equal(high, points.reshape(-1, 3).max(0))
    low, high = bounds(np.array([[1, 5, -2], [3, 0, 4]]))  # integers too
    assert low.tolist() == [1, 0, -2] and high.tolist() == [3, 5, 4]


@pytest.mark.parametrize(("azimuth", "elevation", "width"), [(30, 15, 512), (-80, 40, 320)])
def test_frame_points_sees_every_point_just_inside(azimuth, elevation, width):
    points = cloud()
    camera = frame_points(points, width=width, height=256, azimuth=azimuth, elevation=elevation)
    pixels, depth = camera.project(points)
    assert depth.min() > camera.znear and depth.max() < camera.zfar
    assert pixels[:, 0].min() >= 0 and pixels[:, 0].max() <= width
    assert pixels[:, 1].min() >= 0 and pixels[:, 1].max() <= 256
    # tight: with margin 1.1 the farthest point reaches ~1/1.1 of the half-image
    ndc = np.abs(pixels / [width / 2, 128] - 1).max()
    assert 0.85 < ndc < 0.95
    single = frame_points(points.astype(np.float32), width=width, height=256,
                          azimuth=azimuth, elevation=elevation)  # fmt: skip
    np.testing.assert_allclose(single.pose, camera.pose, atol=1e-5)


def test_fit_distance_is_the_nearest_distance_that_sees_the_points():
    points, target = cloud(1), np.array([1.0, 0.9, -2.0])
    direction = view_direction(20.0, 10.0)
    tight = fit_distance(points, target, direction, yfov=math.radians(40), aspect=1.0, margin=1.0)
    for scale, inside in ((1.001, True), (0.98, False)):
        camera = frame_points(points, width=64, height=64, target=target, distance=tight * scale,
                              azimuth=20.0, elevation=10.0)  # fmt: skip
        pixels, _ = camera.project(points)
        assert bool(np.all((pixels >= -1e-6) & (pixels <= 64 + 1e-6))) is inside


@pytest.mark.parametrize(("azimuth", "elevation", "width"), [(30, 15, 512), (-80, 40, 320)])
def test_tight_camera_touches_two_opposite_margins(
    azimuth, elevation, width
):
    points = cloud(2)
    camera = tight_camera(points, width=width, height=256, azimuth=azimuth, elevation=elevation)
    pixels, depth = camera.project(points)
    assert depth.min() > camera.znear and depth.max() < camera.zfar
    ndc = pixels / [width / 2, 128] - 1  # [-1, 1] across and down
    low, high = ndc.min(0), ndc.max(0)
    assert np.all(low >= -1) and np.all(high <= 1)
    tight = np.isclose(-low, 1 / 1.05, atol=0.01) & np.isclose(high, 1 / 1.05, atol=0.01)
    assert tight.any(), (low, high)  # margin to margin along one axis
    nearer = frame_points(points, width=width, height=256, azimuth=azimuth, elevation=elevation)
    assert np.linalg.norm(camera.pose[:3, 3] - points.mean(0)) < np.linalg.norm(
        nearer.pose[:3, 3] - points.mean(0)
    )  # nearer than aiming at the box centre


def test_follow_points_keeps_one_distance_and_every_frame_in_view():
    frames = np.stack([cloud(3, 500) + [0.0, 0.0, 0.5 * t] for t in range(8)])
    cameras = follow_points(frames, width=256, height=256)
    eyes = np.stack([c.pose[:3, 3] for c in cameras])
    offsets = eyes - frames.mean(1)
    assert np.ptp(eyes[:, 1]) < 1e-9  # no bobbing
    np.testing.assert_allclose(np.linalg.norm(offsets, axis=1), np.linalg.norm(offsets[0]), rtol=0.02)
    for camera, points in zip(cameras, frames):
        pixels, depth = camera.project(points)
        assert depth.min() > camera.znear and pixels.min() >= 0 and pixels.max() <= 256
    with pytest.raises(ValueError, match=r"points must be finite \[T, N, 3\]"):
        follow_points(frames[0], width=64, height=64)
