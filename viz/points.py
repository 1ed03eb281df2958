"""Point clouds as pictures: every point a small shaded sphere, drawn with a z-buffer in numpy.

    from vhdiff.viz.points import render_point_cloud, render_point_cloud_grid
    image = render_point_cloud(points)                 # points [N, 3] -> uint8 [H, W, 3]
    grid = render_point_cloud_grid(samples, ncols=4)   # K clouds -> one tiled picture

No OpenGL: points are projected with the same pinhole camera as the mesh renderer
(vhdiff.viz.camera), each covers the disc of its sphere's projection, and for every pixel
the nearest sphere surface wins. Y is up, as in vhdiff.body.

The look is the mesh renderer's (vhdiff.viz.ground): the cloud stands on a checkered floor
at its ground (y = 0 for vhdiff's clouds, else its lowest point) with a soft contact shadow
under it, on the floor's far grey. Painter's order: the floor first, then the spheres over
it. `ground=False, background=(1, 1, 1)` gives the plain white picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from vhdiff.extras import require

from .camera import AZIMUTH, ELEVATION, Camera, frame_points
from .grid import image_grid
from .ground import BACKGROUND, HUMAN_HEIGHT, FloorLevel, contact_shadow, floor_level, paint_floor

__all__ = ["DEFAULT_POINT_COLOR", "render_point_cloud", "render_point_cloud_grid"]

DEFAULT_POINT_COLOR = (0.30, 0.45, 0.69)
GROUND_TILE = 0.5  # metres: the checker's side, as the mesh renderer's (times the ground scale)
METRIC_HEIGHT = 3.0  # metres: a cloud on y = 0 at most this tall is taken to be in metres
FOOT_MARGIN = 0.08  # metres: the floor in view around the points this close to it
_LIGHT = np.array([-0.4, 0.6, 0.7]) / np.linalg.norm([-0.4, 0.6, 0.7])  # camera frame
_MAX_SPLAT_RADIUS = 16  # pixels


def _as_points(points: Any) -> np.ndarray:
    if hasattr(points, "detach"):
        points = points.detach().cpu().numpy()
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] == 0:
        raise ValueError(f"points must have shape [N, 3] with N >= 1, got {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError("points contain NaN or infinite values")
    return array


def _point_colors(colors: Any, points: np.ndarray) -> np.ndarray:
    """-> [N, 3] floats in [0, 1]."""
    n = len(points)
    if colors is None:
        return np.tile(DEFAULT_POINT_COLOR, (n, 1))
    if isinstance(colors, str):
        if colors != "height":
            raise ValueError(
                f"colors must be None, 'height', an RGB triple or [N, 3], got {colors!r}"
            )
        colormaps = require("matplotlib", needed_for="point-cloud pictures").colormaps

        heights = points[:, 1]
        span = max(float(np.ptp(heights)), 1e-9)
        return colormaps["viridis"]((heights - heights.min()) / span)[:, :3]
    if hasattr(colors, "detach"):
        colors = colors.detach().cpu().numpy()
    array = np.asarray(colors)
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    array = array.astype(np.float64) / scale
    if array.shape == (3,):
        return np.tile(array, (n, 1))
    if array.shape != (n, 3):
        raise ValueError(
            f"colors must be an RGB triple or have shape [{n}, 3], got {list(array.shape)}"
        )
    return np.clip(array, 0.0, 1.0)


def _ground_scale(points: np.ndarray, floor: float) -> float:
    """The floor's and shadow's lengths relative to a human in metres (vhdiff.viz.ground's
    `scale`): 1 for a cloud in metres, vhdiff's convention (standing on y = 0, at most
    METRIC_HEIGHT tall); otherwise (e.g. a normalised cloud in [-1, 1], noise) its height
    over HUMAN_HEIGHT."""
    tall = float(np.ptp(points[:, 1]))
    if floor == 0.0 and tall <= METRIC_HEIGHT:
        return 1.0
    return max(tall, 1e-6) / HUMAN_HEIGHT


def _framed(points: np.ndarray, floor: float, scale: float) -> np.ndarray:
    """What the automatic camera frames over a floor: the points [N, 3] and the floor just
    around those touching it (FOOT_MARGIN), so the feet's contact shadow is in the picture."""
    low = points[points[:, 1] - floor < FOOT_MARGIN * scale]
    if len(low) == 0:
        return points
    pad = FOOT_MARGIN * scale
    x0, x1 = low[:, 0].min() - pad, low[:, 0].max() + pad
    z0, z1 = low[:, 2].min() - pad, low[:, 2].max() + pad
    corners = np.array([[x, floor, z] for x in (x0, x1) for z in (z0, z1)])
    return np.concatenate([points, corners])


def render_point_cloud(
    points: Any,
    *,
    size: int = 256,
    height: int | None = None,
    colors: Any = None,
    point_radius: float | None = None,
    azimuth: float = AZIMUTH,
    elevation: float = ELEVATION,
    yfov_deg: float = 40.0,
    background: Sequence[float] = BACKGROUND,
    camera: Camera | None = None,
    ground: bool = True,
    floor: FloorLevel = "auto",
    ground_scale: float | None = None,
) -> np.ndarray:
    """Draw a point cloud as shaded spheres over the checkered floor and its contact shadow.

    Args:
        points: [N, 3] numpy array or tensor (Y up).
        size: image width (and height unless `height` is given) in pixels.
        colors: None (one blue), "height" (viridis by Y), an RGB triple, or [N, 3]
            (floats in [0, 1] or uint8).
        point_radius: sphere radius in scene units; default 0.6 % of the cloud's extent.
            On screen a sphere covers at most 16 pixels of radius.
        azimuth, elevation, yfov_deg: the automatic camera (see vhdiff.viz.camera), which
            frames all points; or pass `camera` (its size must match).
        background: RGB in [0, 1] where no floor and no point is seen (default: the
            floor's far grey, vhdiff.viz.ground.BACKGROUND).
        ground: draw the checkered floor with the cloud's contact shadow under the points.
        floor: the floor's height: "auto" (y = 0, vhdiff's ground, unless the cloud's lowest
            point is far from it: then that point; see vhdiff.viz.ground.floor_level),
            "lowest" or a number.
        ground_scale: the tiles' (GROUND_TILE) and the shadow's lengths relative to a human
            in metres; None: 1 for a cloud in metres (on y = 0, at most METRIC_HEIGHT tall),
            else the cloud's height / HUMAN_HEIGHT (a normalised cloud, noise).

    Returns:
        uint8 [H, W, 3].
    """
    xyz = _as_points(points)
    rgb = _point_colors(colors, xyz)
    width, height = int(size), int(height or size)
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width} x {height}")
    extent = float(np.linalg.norm(np.ptp(xyz, axis=0)))
    radius = point_radius if point_radius is not None else 0.006 * max(extent, 1e-6)
    if radius <= 0:
        raise ValueError(f"point_radius must be > 0, got {radius}")
    level = floor_level(xyz, floor)  # a ValueError for an unknown floor, with or without one
    scale = _ground_scale(xyz, level) if ground_scale is None else float(ground_scale)
    if not scale > 0:
        raise ValueError(f"ground_scale must be > 0, got {ground_scale}")
    if camera is None:
        camera = frame_points(
            _framed(xyz, level, scale) if ground else xyz,
            width=width,
            height=height,
            yfov=math.radians(yfov_deg),
            azimuth=azimuth,
            elevation=elevation,
            margin=1.05,
        )
    elif (camera.width, camera.height) != (width, height):
        raise ValueError(
            f"camera size {camera.width}x{camera.height} differs from the image size {width}x{height}"
        )
    if ground:
        shadow = contact_shadow(xyz, floor=level, scale=scale)
        floor_rgb = tuple(float(c) for c in background)
        tile = GROUND_TILE * scale
        image = paint_floor(camera, floor=level, tile=tile, shadow=shadow, background=floor_rgb)
        image /= 255.0
    else:
        image = np.empty((height, width, 3))
        image[:] = np.asarray(background, dtype=np.float64)

    pixels, depth = camera.project(xyz)
    visible = depth > camera.znear
    pixels, depth, rgb = pixels[visible], depth[visible], rgb[visible]
    if len(depth) == 0:
        return np.round(image * 255).astype(np.uint8)
    focal = height / (2.0 * math.tan(camera.yfov / 2.0))
    r_px = np.clip(radius * focal / depth, 0.5, _MAX_SPLAT_RADIUS)  # [N] sphere radius on screen
    reach = math.ceil(r_px.max())
    offsets = np.arange(-reach, reach + 1)
    oy, ox = np.meshgrid(offsets, offsets, indexing="ij")
    # candidate pixels [N, K] around each point's pixel
    cols = np.floor(pixels[:, 0])[:, None].astype(int) + ox.ravel()[None]
    rows = np.floor(pixels[:, 1])[:, None].astype(int) + oy.ravel()[None]
    dx = (cols + 0.5 - pixels[:, :1]) / r_px[:, None]
    dy = (rows + 0.5 - pixels[:, 1:]) / r_px[:, None]
    inside = (dx**2 + dy**2 <= 1.0) & (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    n_idx, k_idx = np.nonzero(inside)
    dx, dy = dx[n_idx, k_idx], dy[n_idx, k_idx]
    nz = np.sqrt(np.clip(1.0 - dx**2 - dy**2, 0.0, 1.0))
    surface = depth[n_idx] - radius * nz  # the sphere's front surface at this pixel
    flat = rows[n_idx, k_idx] * width + cols[n_idx, k_idx]
    order = np.lexsort((surface, flat))  # by pixel, nearest first
    flat, first = np.unique(flat[order], return_index=True)
    chosen = order[first]
    normal = np.stack([dx[chosen], -dy[chosen], nz[chosen]], axis=1)  # camera frame
    shade = 0.35 + 0.65 * np.clip(normal @ _LIGHT, 0.0, 1.0)
    image.reshape(-1, 3)[flat] = np.clip(rgb[n_idx[chosen]] * shade[:, None], 0.0, 1.0)
    return np.round(image * 255).astype(np.uint8)


def render_point_cloud_grid(
    clouds: Sequence[Any] | np.ndarray,
    *,
    ncols: int | None = None,
    size: int = 256,
    colors: Any = None,
    shared_camera: bool = False,
    pad: int = 2,
    **kwargs: Any,
) -> np.ndarray:
    """Draw K clouds (a list of [N_k, 3] or an array [K, N, 3]) and tile them.

    With `shared_camera` every cloud is seen from one camera framing all of them, with one
    sphere size, one floor and one ground scale (sizes comparable); otherwise each is framed
    on its own. Other keywords go to `render_point_cloud`; the gaps have the background's
    grey (vhdiff.viz.grid). Returns uint8 [rows*size + pads, ncols*size + pads, 3].
    """
    clouds = [_as_points(cloud) for cloud in clouds]
    if not clouds:
        raise ValueError("no point clouds to draw; pass a non-empty list")
    camera = None
    if shared_camera:
        everything = np.concatenate(clouds)
        ground = kwargs.get("ground", True)
        if ground:  # one floor and one ground scale under all of them
            kwargs["floor"] = floor_level(everything, kwargs.get("floor", "auto"))
            if kwargs.get("ground_scale") is None:
                kwargs["ground_scale"] = _ground_scale(everything, kwargs["floor"])
        camera = frame_points(
            _framed(everything, kwargs["floor"], kwargs["ground_scale"]) if ground else everything,
            width=size,
            height=kwargs.get("height") or size,
            yfov=math.radians(kwargs.get("yfov_deg", 40.0)),
            azimuth=kwargs.get("azimuth", 30.0),
            elevation=kwargs.get("elevation", 15.0),
            margin=1.05,
        )
        if kwargs.get("point_radius") is None:  # one sphere size too, from all clouds
            kwargs["point_radius"] = 0.006 * float(np.linalg.norm(np.ptp(everything, axis=0)))
    images = [
        render_point_cloud(cloud, size=size, colors=colors, camera=camera, **kwargs)
        for cloud in clouds
    ]
    grey = round(255 * float(np.mean(kwargs.get("background", BACKGROUND))))
    return image_grid(images, ncols=ncols, pad=pad, pad_value=min(max(grey, 0), 255))
