"""Point-cloud pictures: splats land where the camera projects them, near points hide far
ones, grids tile clouds, a standing cloud gets the floor and its contact shadow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from vhdiff.viz.camera import Camera, look_at
from vhdiff.viz.ground import BACKGROUND, FLOOR_DARK, FLOOR_LIGHT
from vhdiff.viz.points import render_point_cloud, render_point_cloud_grid

SIZE = 64
PLAIN = {"ground": False, "background": (1.0, 1.0, 1.0)}  # the old look: points on white


def camera_on_z(distance: float = 3.0) -> Camera:
    pose = look_at(np.array([0.0, 0.0, distance]), np.zeros(3))
    return Camera(yfov=math.radians(40), pose=pose, width=SIZE, height=SIZE)


def test_a_point_lands_on_its_projection():
    camera = camera_on_z()
    point = np.array([[0.3, -0.2, 0.0]])
    image = render_point_cloud(
        point, size=SIZE, camera=camera, point_radius=0.03, colors=(1, 0, 0), **PLAIN
    )
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
    image = render_point_cloud(cloud, size=SIZE, colors="height", **PLAIN)
    rows = np.nonzero(np.any(image != 255, axis=-1))[0]
    assert rows.min() <= 6 or rows.max() >= SIZE - 7  # fills the frame in height
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 30  # coloured by height and shaded


def test_grid_of_clouds():
    rng = np.random.default_rng(1)
    clouds = rng.normal(size=(3, 200, 3))
    grid = render_point_cloud_grid(clouds, ncols=2, size=48, pad=2, **PLAIN)
    assert grid.shape == (2 * 48 + 3 * 2, 2 * 48 + 3 * 2, 3)
    assert np.all(grid[52:, 52:] == 255)  # the empty fourth cell
    assert np.any(grid[2:50, 2:50] != 255)
    grey = round(255 * BACKGROUND[0])
    looks = render_point_cloud_grid(clouds, ncols=2, size=48, pad=2)  # the common look
    assert np.all(looks[:2] == grey) and np.all(looks[52:, 52:] == grey)  # gaps: its grey
    shared = render_point_cloud_grid(
        [clouds[0], clouds[0] * 0.5], size=48, shared_camera=True, **PLAIN
    )
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
    with pytest.raises(ValueError, match="'auto' or 'lowest'"):
        render_point_cloud(np.zeros((4, 3)), floor="bottom")


def standing_cylinder(height: float = 1.7, radius: float = 0.15, n: int = 3000) -> np.ndarray:
    """A human-sized cloud: points on a cylinder's side, standing on y = 0 (metres)."""
    rng = np.random.default_rng(2)
    angle, y = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, height, n)
    return np.stack([radius * np.cos(angle), y, radius * np.sin(angle)], axis=1)


def test_a_standing_cloud_casts_a_shadow_on_the_checkered_floor():
    size, cloud = 128, standing_cylinder()
    image = render_point_cloud(cloud, size=size).astype(np.int64)
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    grey = (r == g) & (g == b)  # the floor and the background; the points are blue
    drawn = (b > r + 40) & ~grey
    assert drawn.sum() > 0.04 * size * size  # the points themselves
    rows, cols = np.nonzero(drawn)
    assert rows.max() < size - 3  # the floor is seen below the feet
    feet = slice(rows.max() - 4, rows.max() + 3)  # the rows of the cylinder's base
    span = slice(cols.min(), cols.max() + 1)
    under = r[feet, span][grey[feet, span]]  # the floor around the base, between the points
    assert len(under) > 10 and under.min() < 0.8 * FLOOR_DARK[0]  # in the shadow
    for edge in (slice(0, 10), slice(size - 10, size)):  # a metre away: a tile's own grey
        away = r[feet, edge][grey[feet, edge]]
        assert len(away) > 20 and away.min() >= FLOOR_DARK[0] - 1.5
    floor = r[grey]
    light = np.sum(np.abs(floor - FLOOR_LIGHT[0]) <= 1)
    dark = np.sum(np.abs(floor - FLOOR_DARK[0]) <= 1)
    assert light > 0.02 * size * size and dark > 0.02 * size * size  # two tile greys


def test_without_ground_the_plain_background_stays():
    cloud = standing_cylinder()
    for background in ((1.0, 1.0, 1.0), BACKGROUND):
        image = render_point_cloud(cloud, size=SIZE, ground=False, background=background)
        r, g, b = (image[..., k].astype(np.int64) for k in range(3))
        grey = (r == g) & (g == b)
        assert np.all(r[grey] == round(255 * background[0]))  # no floor, no shadow
        assert np.mean(grey) > 0.5 and np.any(~grey)
    white = render_point_cloud(cloud, size=SIZE, **PLAIN)
    default = render_point_cloud(cloud, size=SIZE)
    assert np.any(default != white)  # the floor's look is the default


def test_a_normalised_cloud_stands_on_its_lowest_point():
    cloud = standing_cylinder(height=2.0, radius=0.18) - [0.0, 1.0, 0.0]  # in [-1, 1]
    image = render_point_cloud(cloud, size=96).astype(np.int64)
    grey = (image[..., 0] == image[..., 1]) & (image[..., 1] == image[..., 2])
    floor = image[..., 0][grey]
    assert np.sum(np.abs(floor - FLOOR_DARK[0]) <= 1) > 100  # tiles of the same size
    assert np.sum(floor < 0.85 * FLOOR_DARK[0]) > 20  # and the shadow at its feet
