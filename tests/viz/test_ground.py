"""The common look (numpy only, no OpenGL): where the floor lies, the contact shadow's
strength with height, and the floor's picture against an independent ray cast."""

from __future__ import annotations

import math

import numpy as np
import pytest
from vhdiff.viz.camera import Camera, look_at
from vhdiff.viz.ground import (
    BACKGROUND,
    FLOOR_DARK,
    FLOOR_LIGHT,
    FLOOR_SNAP,
    ContactShadow,
    contact_shadow,
    floor_level,
    paint_floor,
)

SIZE = 96


def cloud_with_lowest(y: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    points = rng.uniform(-0.5, 0.5, size=(200, 3)) + [0.0, 1.0, 0.0]
    points[0, 1] = y
    return points


def test_floor_level():
    for lowest in (0.0, 0.1, -0.1, 0.99 * FLOOR_SNAP, -0.99 * FLOOR_SNAP):
        assert floor_level(cloud_with_lowest(lowest)) == 0.0  # near y = 0: snaps to it
    for lowest in (1.01 * FLOOR_SNAP, -1.01 * FLOOR_SNAP, 0.45, -0.9):
        assert floor_level(cloud_with_lowest(lowest)) == pytest.approx(lowest)  # far: kept
    assert floor_level(cloud_with_lowest(0.1), "lowest") == pytest.approx(0.1)
    assert floor_level(cloud_with_lowest(0.1), 0.3) == 0.3  # a number is used as is
    assert floor_level(cloud_with_lowest(0.1), -2) == -2.0
    with pytest.raises(ValueError, match="'auto' or 'lowest'"):
        floor_level(cloud_with_lowest(0.1), "bottom")


def foot(lift: float = 0.0) -> np.ndarray:
    """A foot-like blob: a 25 x 8 x 10 cm box of points, its sole `lift` above y = 0."""
    rng = np.random.default_rng(1)
    return rng.uniform([-0.05, 0.0, -0.12], [0.05, 0.08, 0.13], size=(400, 3)) + [0, lift, 0]


def test_contact_shadow_fades_with_height():
    peaks = []
    for lift in (0.0, 0.2, 0.5):
        shadow = contact_shadow(foot(lift), floor=0.0)
        assert shadow is not None and shadow.opacity.dtype == np.float32
        assert shadow.opacity.min() >= 0.0 and shadow.opacity.max() <= 1.0
        peaks.append(float(shadow.opacity.max()))
    assert peaks[0] > peaks[1] > peaks[2] > 0.0
    assert peaks[0] > 0.5  # a foot on the floor: a dark contact
    assert contact_shadow(foot(0.75), floor=0.0) is None  # nothing under 0.7 m
    assert contact_shadow(foot(0.0) + [0, 3.0, 0], floor=3.0) is not None  # the floor given


def test_contact_shadow_sample_matches_the_grid():
    shadow = contact_shadow(foot(), floor=0.0)
    nx, nz = shadow.opacity.shape
    i, j = np.meshgrid(np.arange(nx), np.arange(nz), indexing="ij")
    x = shadow.origin[0] + (i + 0.5) * shadow.cell
    z = shadow.origin[1] + (j + 0.5) * shadow.cell
    np.testing.assert_allclose(shadow.sample(x, z), shadow.opacity, atol=1e-6)
    high = shadow.origin + shadow.size
    outside_x = np.array([shadow.origin[0] - 2 * shadow.cell, high[0] + 2 * shadow.cell, 5.0])
    outside_z = np.array([0.0, 0.0, -5.0])
    np.testing.assert_array_equal(shadow.sample(outside_x, outside_z), 0.0)
    one = ContactShadow(opacity=np.ones((2, 2), np.float32), origin=np.zeros(2), cell=1.0)
    assert one.sample(np.array(1.0), np.array(1.0)) == pytest.approx(1.0)  # between centres


def floor_hits(camera: Camera, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent ray cast: where each pixel centre's ray meets the floor (x, z, hit)."""
    tan = math.tan(camera.yfov / 2)
    cols = (np.arange(camera.width) + 0.5) / camera.width * 2 - 1
    rows = 1 - (np.arange(camera.height) + 0.5) / camera.height * 2
    c, r = np.meshgrid(cols, rows)
    rays = np.stack([c * tan * camera.aspect, r * tan, -np.ones_like(c)], axis=-1)
    rays = rays @ camera.pose[:3, :3].T
    eye = camera.pose[:3, 3]
    hit = rays[..., 1] < 0
    t = np.where(hit, (floor - eye[1]) / np.where(hit, rays[..., 1], -1.0), 0.0)
    return eye[0] + t * rays[..., 0], eye[2] + t * rays[..., 2], hit


def test_paint_floor_shows_the_tiles_and_the_shadow():
    pose = look_at(np.array([0.3, 2.0, 1.2]), np.array([0.0, 0.0, 0.0]))
    camera = Camera(yfov=math.radians(40), pose=pose, width=SIZE, height=SIZE)
    plain = paint_floor(camera, floor=0.0, tile=0.25)
    assert plain.shape == (SIZE, SIZE, 3)
    grey = plain[..., 0]
    assert np.sum(np.abs(grey - FLOOR_LIGHT[0]) < 0.5) > 200  # both tiles, sharp up close
    assert np.sum(np.abs(grey - FLOOR_DARK[0]) < 0.5) > 200
    assert np.all((grey >= FLOOR_DARK[0] - 1e-6) & (grey <= FLOOR_LIGHT[0] + 1e-6))

    shadow = contact_shadow(foot(), floor=0.0)
    shaded = paint_floor(camera, floor=0.0, tile=0.25, shadow=shadow)
    x, z, hit = floor_hits(camera, 0.0)
    assert hit.all()  # looking down: floor everywhere
    (col, row), _ = camera.project(np.array([x[10, 20], 0.0, z[10, 20]]))
    assert (col, row) == pytest.approx((20.5, 10.5))  # the ray cast agrees with the camera
    opacity = shadow.sample(x, z)
    assert opacity.max() > 0.5 and np.mean(opacity > 0.05) > 0.02  # the shadow is in view
    np.testing.assert_allclose(shaded, plain * (1 - opacity[..., None]), atol=1e-6)
    assert np.all(shaded <= plain + 1e-9)


def test_above_the_horizon_is_background():
    pose = look_at(np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0, 0.0]))  # level, 1 m up
    camera = Camera(yfov=math.radians(40), pose=pose, width=SIZE, height=SIZE)
    sky = np.array([51.0, 102.0, 153.0])  # (0.2, 0.4, 0.6) as grey levels
    picture = paint_floor(camera, floor=0.0, background=(0.2, 0.4, 0.6))
    np.testing.assert_array_equal(picture[: SIZE // 2], np.broadcast_to(sky, (SIZE // 2, SIZE, 3)))
    below = picture[SIZE // 2 + 1]  # the farthest floor: tiles blurred into their mean
    np.testing.assert_allclose(
        below, np.broadcast_to((FLOOR_LIGHT + FLOOR_DARK) / 2, below.shape), atol=3
    )
    default = paint_floor(camera, floor=0.0)
    np.testing.assert_allclose(default[0, 0], np.array(BACKGROUND) * 255)
    np.testing.assert_allclose(default[0, 0], (FLOOR_LIGHT + FLOOR_DARK) / 2)  # no edge
    under = paint_floor(camera, floor=2.0, background=(0.2, 0.4, 0.6))  # eye below the floor
    np.testing.assert_array_equal(under, np.broadcast_to(sky, (SIZE, SIZE, 3)))
