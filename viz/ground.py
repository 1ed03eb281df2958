"""The floor every renderer draws and the soft contact shadow on it (numpy only).

    from vhdiff.viz.ground import contact_shadow, floor_level, paint_floor

    floor = floor_level(vertices)                    # y = 0, the motion's own ground
    shadow = contact_shadow(vertices[t], floor=floor)  # ContactShadow: opacity over (x, z)
    picture = paint_floor(camera, floor=floor, shadow=shadow)  # float [H, W, 3], no OpenGL

One look for bodies (`vhdiff.viz.mesh_renderer`, OpenGL), point clouds (`vhdiff.viz.points`,
numpy) and image grids (`vhdiff.viz.grid`): a checkered studio floor of two light greys, a
background of their mean (far tiles blur into it, so the floor has no visible edge), and
under whatever stands on it a soft shadow, dark where it touches the floor and fading with
height. Colours are sRGB bytes (what a picture holds); the shadow multiplies the floor's
colour by (1 - opacity), as OpenGL's alpha blending does.

The shadow is a contact shadow, not a light's shadow: for every cell of a grid on the floor,
the lowest point above it (at height h) darkens it by CONTACT_OPACITY * exp(-h / 6 cm),
blurred over 2.5 cm, and by AMBIENT_OPACITY * exp(-h / 50 cm), blurred over 12 cm (soft
ambient occlusion of the whole body). So a foot on the floor casts a dark sharp blob, a
lifted foot a fainter one, and the body a wide faint one. Lengths are for a human in metres;
`scale` multiplies them (a point cloud in other units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .camera import Camera

__all__ = [
    "AMBIENT_OPACITY",
    "BACKGROUND",
    "CHECKER_DARK",
    "CHECKER_LIGHT",
    "CONTACT_OPACITY",
    "FLOOR_SNAP",
    "HUMAN_HEIGHT",
    "ContactShadow",
    "FloorLevel",
    "checker_texture",
    "contact_shadow",
    "displayed",
    "floor_level",
    "paint_floor",
    "shadow_rectangle",
]

FloorLevel = float | Literal["auto", "lowest"]

# Tile colours: sRGB bytes in the texture; `displayed` gives what a picture shows of them
CHECKER_LIGHT = (244, 244, 244)
CHECKER_DARK = (224, 224, 224)
CHECKER_TEXELS = 64  # texels per tile side in the ground texture
FLOOR_SNAP = 0.25  # metres: a motion whose lowest point is this close to y = 0 stands on it
HUMAN_HEIGHT = 1.7  # metres: the size the shadow's lengths are made for (scale 1)
CONTACT_OPACITY = 0.7  # darkest contact shadow (a foot flat on the floor)
AMBIENT_OPACITY = 0.35  # darkest ambient shadow (under the body's middle)
_CONTACT_HEIGHT, _CONTACT_BLUR = 0.06, 0.025  # metres: falloff with height, blur (sigma)
_AMBIENT_HEIGHT, _AMBIENT_BLUR = 0.4, 0.07
_REACH = 0.7  # metres: points higher than this above the floor cast no shadow
_CELL = 0.02  # metres: the shadow grid's cell


def displayed(srgb: tuple[int, int, int] | np.ndarray) -> np.ndarray:
    """float [3] grey levels (0..255) that pyrender's shader shows for a texture's sRGB bytes
    drawn unlit (emissive): it decodes sRGB exactly and encodes with gamma 2.2."""
    c = np.asarray(srgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 255.0 * linear ** (1.0 / 2.2)


FLOOR_LIGHT = displayed(CHECKER_LIGHT)  # what the floor's tiles look like
FLOOR_DARK = displayed(CHECKER_DARK)
# the background: the mean of the tiles, what far tiles blur into (RGB in [0, 1])
BACKGROUND: tuple[float, float, float] = tuple(float(c) / 255 for c in (FLOOR_LIGHT + FLOOR_DARK) / 2)


def checker_texture() -> np.ndarray:
    """uint8 [2N, 2N, 3]: one period of the checkered ground, 2 x 2 tiles of N texels each
    (N = CHECKER_TEXELS: tile edges stay sharp until a tile spans more pixels than that)."""
    n = CHECKER_TEXELS
    # texel (row, col) is seen at (u, v) = (col, 2N - row) / 2N: rows run against v, so the
    # tile at texture columns < N and rows >= N is the light tile (i + j even) at the origin
    light = (np.arange(2 * n)[:, None] >= n) == (np.arange(2 * n)[None, :] < n)
    return np.where(light[..., None], CHECKER_LIGHT, CHECKER_DARK).astype(np.uint8)


def floor_level(points: np.ndarray, floor: FloorLevel = "auto") -> float:
    """The floor's height under `points` [..., 3] (Y up).

    A number: that height. "lowest": the lowest point. "auto": y = 0, vhdiff's ground (motions
    and point clouds stand on it), when the lowest point is within FLOOR_SNAP of it, else the
    lowest point (data in another convention, e.g. a body posed at the origin, stays above
    the floor)."""
    if not isinstance(floor, str):
        return float(floor)
    if floor not in ("auto", "lowest"):
        raise ValueError(f"floor must be a height, 'auto' or 'lowest', got {floor!r}")
    lowest = float(np.asarray(points)[..., 1].min())
    return 0.0 if floor == "auto" and abs(lowest) <= FLOOR_SNAP else lowest


def shadow_rectangle(
    points: np.ndarray, *, floor: float, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray] | None:
    """(low [2], high [2]) in (x, z): the floor rectangle `contact_shadow` covers for these
    points [..., 3], or None when none is low enough to cast a shadow."""
    flat = np.asarray(points).reshape(-1, 3)
    near = flat[flat[:, 1] - floor < _REACH * scale][:, [0, 2]]
    if len(near) == 0:
        return None
    pad = 2.5 * _AMBIENT_BLUR * scale
    low = np.array([near[:, 0].min(), near[:, 1].min()], dtype=np.float64) - pad
    high = np.array([near[:, 0].max(), near[:, 1].max()], dtype=np.float64) + pad
    return low, high


@dataclass(frozen=True)
class ContactShadow:
    """The shadow's opacity over a floor rectangle: `opacity` float32 [NX, NZ] in [0, 1],
    cell (i, j) centred at (x, z) = origin + (i + 0.5, j + 0.5) * cell, 0 outside."""

    opacity: np.ndarray
    origin: np.ndarray  # (x, z) of the rectangle's low corner
    cell: float

    @property
    def size(self) -> np.ndarray:
        """(width along x, depth along z) of the rectangle."""
        return np.array(self.opacity.shape, dtype=np.float64) * self.cell

    def sample(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Opacity at floor points (x, z) (arrays of one shape), bilinear between cell
        centres as a texture sampler is; 0 outside the rectangle."""
        u = (np.asarray(x) - self.origin[0]) / self.cell - 0.5
        v = (np.asarray(z) - self.origin[1]) / self.cell - 0.5
        padded = np.pad(self.opacity, 1)  # zeros around: the sampler's border
        i0, j0 = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
        fu, fv = u - i0, v - j0
        nx, nz = padded.shape
        i0, j0 = np.clip(i0 + 1, 0, nx - 2), np.clip(j0 + 1, 0, nz - 2)
        inside = (u > -1) & (u < nx - 2) & (v > -1) & (v < nz - 2)
        value = (
            padded[i0, j0] * (1 - fu) * (1 - fv)
            + padded[i0 + 1, j0] * fu * (1 - fv)
            + padded[i0, j0 + 1] * (1 - fu) * fv
            + padded[i0 + 1, j0 + 1] * fu * fv
        )
        return np.where(inside, value, 0.0)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a small 2-D array (sigma in cells; zeros beyond its edges): one band
    matrix per axis, K_x @ image @ K_z^T."""

    def kernel(n: int) -> np.ndarray:
        offsets = np.arange(n)[:, None] - np.arange(n)[None, :]
        weights = np.exp(-0.5 * (offsets / sigma) ** 2)
        return weights / weights.sum(1, keepdims=True).max()  # interior rows sum to 1

    return kernel(image.shape[0]) @ image @ kernel(image.shape[1]).T


def _min_3x3(grid: np.ndarray) -> np.ndarray:
    """Each cell's minimum over itself and its 8 neighbours (a grey-level erosion)."""
    padded = np.pad(grid, 1, constant_values=np.inf)
    rows = np.minimum(np.minimum(padded[:-2], padded[1:-1]), padded[2:])
    return np.minimum(np.minimum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def contact_shadow(
    points: np.ndarray, *, floor: float, scale: float = 1.0
) -> ContactShadow | None:
    """The soft contact shadow (module docstring) of points [..., 3] (mesh vertices or a point
    cloud, Y up) on the floor at height `floor`; None when nothing is low enough."""
    rectangle = shadow_rectangle(points, floor=floor, scale=scale)
    if rectangle is None:
        return None
    low, high = rectangle
    flat = np.asarray(points).reshape(-1, 3)
    height = flat[:, 1] - floor
    near = height < _REACH * scale
    cell = _CELL * scale
    shape = np.maximum(np.ceil((high - low) / cell).astype(np.int64), 1)
    index = np.minimum(((flat[near][:, [0, 2]] - low) / cell).astype(np.int64), shape - 1)
    lowest = np.full(int(shape[0] * shape[1]), np.inf)  # flat: ufunc.at is fastest on 1-D
    cells = index[:, 0] * shape[1] + index[:, 1]
    np.minimum.at(lowest, cells, np.maximum(height[near], 0.0).astype(np.float64))
    lowest = _min_3x3(lowest.reshape(tuple(shape)))  # no holes between a mesh's vertices
    contact = _blur(np.exp(-lowest / (_CONTACT_HEIGHT * scale)), _CONTACT_BLUR / _CELL)
    ambient = _blur(np.exp(-lowest / (_AMBIENT_HEIGHT * scale)), _AMBIENT_BLUR / _CELL)
    opacity = 1.0 - (1.0 - CONTACT_OPACITY * np.minimum(contact, 1.0)) * (
        1.0 - AMBIENT_OPACITY * np.minimum(ambient, 1.0)
    )
    return ContactShadow(opacity=opacity.astype(np.float32), origin=low, cell=cell)


def _floor_points(camera: Camera, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each pixel's ray (through its centre) meets the floor: (x [H, W], z [H, W],
    hit [H, W] bool; False for rays that never reach it)."""
    f = 1.0 / math.tan(camera.yfov / 2.0)
    cols = (np.arange(camera.width) + 0.5) / camera.width * 2.0 - 1.0
    rows = 1.0 - (np.arange(camera.height) + 0.5) / camera.height * 2.0
    rays = np.empty((camera.height, camera.width, 3))
    rays[..., 0] = cols[None, :] * camera.aspect / f
    rays[..., 1] = rows[:, None] / f
    rays[..., 2] = -1.0
    world = rays @ camera.pose[:3, :3].T  # camera -> world directions
    eye = camera.pose[:3, 3]
    down = world[..., 1]
    hit = (down < -1e-9) & (eye[1] > floor)
    t = np.where(hit, (floor - eye[1]) / np.where(hit, down, -1.0), 0.0)
    return eye[0] + t * world[..., 0], eye[2] + t * world[..., 2], hit


def paint_floor(
    camera: Camera,
    *,
    floor: float,
    tile: float = 0.5,
    shadow: ContactShadow | None = None,
    background: tuple[float, float, float] = BACKGROUND,
) -> np.ndarray:
    """float [H, W, 3] (grey levels 0..255): the checkered floor at height `floor` seen by
    `camera`, box-filtered over each pixel's footprint (far tiles blur into their mean, as
    the OpenGL floor's mipmaps do), darkened by `shadow`; `background` (RGB in [0, 1]) where
    the floor is not seen. The same tiles as the mesh renderer's floor: the light tile at
    x, z in [0, tile), light where floor(x / tile) + floor(z / tile) is even."""
    x, z, hit = _floor_points(camera, floor)
    picture = np.empty((camera.height, camera.width, 3))
    picture[:] = np.asarray(background, dtype=np.float64) * 255.0
    if not hit.any():
        return picture
    u, v = x / tile, z / tile
    # the filtered checker (a box filter of the pixel's footprint w, in tiles): the
    # integral of the square wave over [p - w/2, p + w/2] is a triangle wave's difference
    light = np.ones_like(u)
    for p in (u, v):
        w = np.maximum(np.abs(np.gradient(p, axis=0)) + np.abs(np.gradient(p, axis=1)), 1e-6)
        w = np.where(hit, np.minimum(w, 1e3), 1.0)

        def tri(s: np.ndarray) -> np.ndarray:  # integral of the +-1 square wave of period 2
            return np.abs(np.mod(s, 2.0) - 1.0)

        square = (tri(p + w / 2) - tri(p - w / 2)) / w  # mean of the square wave
        light = light * square
    mix = 0.5 + 0.5 * light  # 1 on light tiles, 0 on dark ones, 1/2 far away
    floor_colour = FLOOR_DARK + mix[..., None] * (FLOOR_LIGHT - FLOOR_DARK)
    if shadow is not None:
        floor_colour *= 1.0 - shadow.sample(x, z)[..., None]
    picture[hit] = floor_colour[hit]
    return picture
