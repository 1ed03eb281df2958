"""Point-cloud pictures: splats land where the camera projects them, near points hide far
ones, grids tile clouds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from vhdiff.viz.camera import Camera, look_at
from vhdiff.viz.points import render_point_cloud, render_point_cloud_grid

SIZE = 64


def camera_on_z(distance: float = 3.0) -> Camera:
    pose = look_at(np.array([0.0, 0.0, distance]), np.zeros(3))
    return Camera(yfov=math.radians(40), pose=pose, width=SIZE, height=SIZE)


def test_a_point_lands_on_its_projection():
    camera = camera_on_z()
    point = np.array([[0.3, -0.2, 0.0]])
    image = render_point_cloud(point, size=SIZE, camera=camera, point_radius=0.03, colors=(1, 0, 0))
    (col, row), _ = camera.project(point[0])
    drawn = np.nonzero(np.any(image != 255, axis=-1))
    assert abs(drawn[1].mean() - col) < 1.0 and abs(drawn[0].mean() - row) < 1.0
    assert col > SIZE / 2 and row > SIZE / 2  # +X right, +Y up
    centre = image[int(row), int(col)]
    assert centre[0] > 100 and centre[1] == 0 and centre[2] == 0  # shaded red


def test_near_point_hides_far_point():
    camera = camera_on_z()
    points = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, -0.5]])  # near red, far green
    colours = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    for order in ([0, 1], [1, 0]):
        image = render_point_cloud(
            points[order], size=SIZE, camera=camera, point_radius=0.05, colors=colours[order]
        )
        centre = image[SIZE // 2, SIZE // 2]
        assert centre[0] > 100 and centre[1] == 0


def test_default_camera_frames_the_cloud():
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(500, 3)) * [0.3, 0.9, 0.2] + [5.0, 1.0, -2.0]
    image = render_point_cloud(cloud, size=SIZE, colors="height")
    rows = np.nonzero(np.any(image != 255, axis=-1))[0]
    assert rows.min() <= 6 or rows.max() >= SIZE - 7  # fills the frame in height
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 30  # coloured by height and shaded


def test_grid_of_clouds():
    rng = np.random.default_rng(1)
    clouds = rng.normal(size=(3, 200, 3))
    grid = render_point_cloud_grid(clouds, ncols=2, size=48, pad=2)
    assert grid.shape == (2 * 48 + 3 * 2, 2 * 48 + 3 * 2, 3)
    assert np.all(grid[52:, 52:] == 255)  # the empty fourth cell
    assert np.any(grid[2:50, 2:50] != 255)
    shared = render_point_cloud_grid([clouds[0], clouds[0] * 0.5], size=48, shared_camera=True)
    heights = [np.ptp(np.nonzero(np.any(shared[2:50, x : x + 48] != 255, -1))[0]) for x in (2, 52)]
    assert 0.35 < heights[1] / heights[0] < 0.65  # one camera: the half-size cloud looks half


def test_bad_points():
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        render_point_cloud(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        render_point_cloud(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match=r"\[4, 3\]"):
        render_point_cloud(np.zeros((4, 3)), colors=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="non-empty"):
        render_point_cloud_grid([])
