"""A pinhole camera in OpenGL conventions, shared by the mesh and point renderers (numpy only).

World frame: vhdiff's body convention, Y up, metres, bodies face +Z. A camera pose is a
4x4 camera-to-world matrix; the camera looks down its own -Z axis with +Y up, as in
OpenGL and pyrender. Pixel (col, row) = (0, 0) is the top-left corner of the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "AZIMUTH",
    "ELEVATION",
    "YFOV",
    "Camera",
    "bounds",
    "fit_distance",
    "fit_view",
    "follow_points",
    "frame_points",
    "look_at",
    "tight_camera",
    "view_direction",
]

# the default view of every picture: degrees around / above a body facing +Z, the lens
AZIMUTH, ELEVATION = 30.0, 15.0
YFOV = math.radians(40.0)


def _flat_points(points: np.ndarray) -> np.ndarray:
    """[..., 3] -> [N, 3] floats without a copy where possible (float32 stays float32)."""
    flat = np.asarray(points).reshape(-1, 3)
    return flat if flat.dtype.kind == "f" else flat.astype(np.float64)


def bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box (low [3], high [3], float64) of points [..., 3].

    One coordinate at a time: numpy's `points.min(axis=0)` on an [N, 3] array is about 10x
    slower (a strided reduction), which matters for the ~3M vertices of a whole motion.
    """
    flat = _flat_points(points)
    low = np.array([flat[:, axis].min() for axis in range(3)], dtype=np.float64)
    high = np.array([flat[:, axis].max() for axis in range(3)], dtype=np.float64)
    return low, high


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = (0.0, 1.0, 0.0)) -> np.ndarray:
    """Camera-to-world pose [4, 4] of a camera at `eye` looking at `target`."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(right) < 1e-9:  # looking straight along `up`: pick another up
        right = np.cross(forward, np.array([0.0, 0.0, -1.0]))
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, true_up, -forward, eye
    return pose


def view_direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector from the target towards the camera.

    azimuth 0 = in front of a body facing +Z (camera on +Z), positive azimuth turns the
    camera towards the body's left (+X); elevation is the angle above the ground plane.
    """
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])


@dataclass
class Camera:
    """Perspective camera: vertical field of view `yfov` (radians), `pose` [4, 4]
    camera-to-world, image `width` x `height` pixels, clipping planes znear / zfar."""

    yfov: float
    pose: np.ndarray
    width: int
    height: int
    znear: float = 0.05
    zfar: float = 100.0

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """[..., 3] world points -> [..., 3] camera-frame points (visible ones have z < 0)."""
        inverse = np.linalg.inv(self.pose)
        return points @ inverse[:3, :3].T + inverse[:3, 3]

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points [..., 3] -> (pixels [..., 2] as (col, row) floats, depth [...]).

        The same projection as pyrender's PerspectiveCamera (OpenGL perspective matrix
        with this yfov and aspect ratio), so pixels match what the mesh renderer draws.
        depth is the distance along the viewing axis (positive in front of the camera).
        """
        cam = self.world_to_camera(np.asarray(points, dtype=np.float64))
        depth = -cam[..., 2]
        f = 1.0 / math.tan(self.yfov / 2.0)
        safe = np.where(np.abs(depth) < 1e-12, 1e-12, depth)
        x_ndc = f / self.aspect * cam[..., 0] / safe
        y_ndc = f * cam[..., 1] / safe
        cols = (x_ndc + 1.0) * 0.5 * self.width
        rows = (1.0 - y_ndc) * 0.5 * self.height
        return np.stack([cols, rows], axis=-1), depth


def fit_distance(
    points: np.ndarray,
    target: np.ndarray,
    direction: np.ndarray,
    *,
    yfov: float,
    aspect: float,
    margin: float = 1.1,
) -> float:
    """Smallest distance from `target` along `direction` (unit, target -> camera) at which a
    camera looking at `target` sees every point [..., 3], times `margin` (>= 1).

    In the camera's frame a point at lateral offsets (x, y) and height z towards the camera
    is inside the frustum when |x| <= tan(hfov / 2) (D - z) and |y| <= tan(yfov / 2) (D - z).
    """
    flat = _flat_points(points)
    pose = look_at(direction, np.zeros(3))
    axes = pose[:3, :3]  # columns: right, up, back
    # x, y, z of every point relative to the target (one [N, 3] @ [3, 3] in the points' dtype)
    local = flat @ axes.astype(flat.dtype) - (np.asarray(target, float) @ axes).astype(flat.dtype)
    x, y, z = local[:, 0], local[:, 1], local[:, 2]
    tan_v = math.tan(yfov / 2)
    tan_h = tan_v * aspect
    needed = z + np.maximum(np.abs(x) * (1 / tan_h), np.abs(y) * (1 / tan_v))
    return float(max(needed.max(), 1e-3)) * margin


def frame_points(
    points: np.ndarray,
    *,
    width: int,
    height: int,
    yfov: float = YFOV,
    azimuth: float = AZIMUTH,
    elevation: float = ELEVATION,
    margin: float = 1.1,
    target: np.ndarray | None = None,
    distance: float | None = None,
) -> Camera:
    """A camera that sees all `points` [..., 3] (e.g. every vertex of a whole motion).

    Looks at the centre of their bounding box (or `target`) from the direction given by
    `azimuth` / `elevation` (degrees, see `view_direction`), from the nearest distance at
    which every point is in view, times `margin` (or from `distance` if given).
    """
    flat = _flat_points(points)
    if flat.shape[0] == 0 or not np.all(np.isfinite(flat)):
        raise ValueError("cannot frame an empty or non-finite set of points; check the input")
    centre = np.mean(bounds(flat), axis=0) if target is None else np.asarray(target, float)
    direction = view_direction(azimuth, elevation)
    if distance is None:
        distance = fit_distance(
            flat, centre, direction, yfov=yfov, aspect=width / height, margin=margin
        )
    eye = centre + distance * direction
    squared = sum((flat[:, axis] - centre[axis]) ** 2 for axis in range(3))
    extent = float(np.sqrt(squared.max()))
    return Camera(
        yfov=yfov,
        pose=look_at(eye, centre),
        width=width,
        height=height,
        zfar=distance + 2 * extent + 10.0,
    )


def _tight_eye(local: np.ndarray, tan_h: float, tan_v: float) -> tuple[float, float, float]:
    """The eye (x, y, z) in the camera's axes nearest to points `local` [N, 3] (same axes) from
    which a camera with half-field tangents tan_h / tan_v, looking down -z, sees them all.

    Point i is in view when |x_i - x| <= tan_h (z - z_i), i.e. z >= z_i + (x_i - x) / tan_h
    and z >= z_i - (x_i - x) / tan_h. With A = max(z_i + x_i / tan_h) and
    B = max(z_i - x_i / tan_h) the nearest z over all x is (A + B) / 2, at x = tan_h (A - B) / 2
    (where the two bounds meet); the same holds for y. The eye takes the farther z of the
    two axes and each axis' centre (the middle of the x still allowed there).
    """
    x, y, z = local[:, 0], local[:, 1], local[:, 2]
    a, b = float((z + x / tan_h).max()), float((z - x / tan_h).max())
    c, d = float((z + y / tan_v).max()), float((z - y / tan_v).max())
    return tan_h * (a - b) / 2, tan_v * (c - d) / 2, max((a + b) / 2, (c + d) / 2)


def _view_axes(direction: np.ndarray) -> np.ndarray:
    """[3, 3] rotation whose columns are the camera's right, up and back (= `direction`)."""
    return look_at(np.asarray(direction, dtype=np.float64), np.zeros(3))[:3, :3]


def fit_view(
    points: np.ndarray, direction: np.ndarray, *, yfov: float, aspect: float, margin: float = 1.05
) -> np.ndarray:
    """Camera-to-world pose [4, 4] of the nearest camera looking along -`direction` (unit,
    scene -> camera) that sees every point [..., 3] inside the image shrunk by `margin`.

    Unlike `frame_points` (which aims at the box's centre), the camera is also moved
    sideways and up or down (see `_tight_eye`), so the points' picture touches two opposite
    sides of the image's margin and is centred along the other axis: no strip of the picture
    is left empty, e.g. the top third above a walk that comes towards the camera.
    """
    flat = _flat_points(points)
    axes = _view_axes(direction)
    tan_v = math.tan(yfov / 2) / margin
    eye = _tight_eye(flat @ axes.astype(flat.dtype), tan_v * aspect, tan_v)
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = axes, axes @ np.asarray(eye)
    return pose


def _extent_zfar(points: np.ndarray, eye: np.ndarray) -> float:
    """A far clipping plane beyond every point [N, 3] seen from `eye` (with room for a floor)."""
    squared = sum((points[:, axis] - eye[axis]) ** 2 for axis in range(3))
    return float(np.sqrt(squared.max())) + 10.0


def tight_camera(
    points: np.ndarray,
    *,
    width: int,
    height: int,
    yfov: float = YFOV,
    azimuth: float = AZIMUTH,
    elevation: float = ELEVATION,
    margin: float = 1.05,
) -> Camera:
    """The camera of `fit_view`: every point [..., 3] in view, as large as they can be from
    the direction given by `azimuth` / `elevation` (degrees, see `view_direction`)."""
    flat = _flat_points(points)
    if flat.shape[0] == 0 or not np.all(np.isfinite(flat)):
        raise ValueError("cannot frame an empty or non-finite set of points; check the input")
    pose = fit_view(
        flat, view_direction(azimuth, elevation), yfov=yfov, aspect=width / height, margin=margin
    )
    return Camera(yfov=yfov, pose=pose, width=width, height=height,
                  zfar=_extent_zfar(flat, pose[:3, 3]))  # fmt: skip


def _smooth(values: np.ndarray, half_window: int) -> np.ndarray:
    """values [T, K] smoothed along T by a local straight-line fit over t +- half_window
    (clipped at the ends): a constant speed passes unchanged, jitter is averaged away."""
    frames = len(values)
    t = np.arange(frames, dtype=np.float64)
    low = np.clip(t - half_window, 0, frames - 1).astype(np.int64)
    high = np.clip(t + half_window, 0, frames - 1).astype(np.int64) + 1

    def window_sum(series: np.ndarray) -> np.ndarray:
        total = np.concatenate([np.zeros((1, *series.shape[1:])), np.cumsum(series, axis=0)])
        return total[high] - total[low]

    n = (high - low).astype(np.float64)[:, None]
    s_t, s_tt = window_sum(t[:, None]), window_sum((t * t)[:, None])
    s_v, s_tv = window_sum(values), window_sum(values * t[:, None])
    mean_t, mean_v = s_t / n, s_v / n
    spread = s_tt / n - mean_t**2
    slope = np.where(spread > 1e-12, (s_tv / n - mean_t * mean_v) / np.maximum(spread, 1e-12), 0.0)
    return mean_v + slope * (t[:, None] - mean_t)


def follow_points(
    points: np.ndarray,
    *,
    width: int,
    height: int,
    yfov: float = YFOV,
    azimuth: float = AZIMUTH,
    elevation: float = ELEVATION,
    margin: float = 1.05,
    smoothing: int = 10,
) -> list[Camera]:
    """One camera per frame of points [T, N, 3] that follows them: each looks from the same
    direction (`azimuth` / `elevation`) and from one distance, the nearest at which every
    frame is wholly in view, so the subject keeps its size and fills the picture.

    The camera follows the points' box centre over the ground, smoothed over +- `smoothing`
    frames (a straight-line fit: steady walking is followed exactly, swinging arms do not
    shake the picture), at one height for all frames (no bobbing: a jump is seen rising).
    """
    points = np.asarray(points)
    if points.ndim != 3 or points.shape[-1] != 3 or not np.all(np.isfinite(points)):
        raise ValueError(f"points must be finite [T, N, 3], got shape {list(points.shape)}")
    axes = _view_axes(view_direction(azimuth, elevation))
    tan_v = math.tan(yfov / 2) / margin
    tan_h = tan_v * width / height
    centres = (points.min(1) + points.max(1)).astype(np.float64) / 2.0  # [T, 3] world
    track = _smooth(centres, smoothing)
    track[:, 1] = centres[:, 1].mean()
    track = track @ axes  # in the camera's axes: right, up, back
    local = points @ axes.astype(points.dtype)  # [T, N, 3]
    distance = max(
        _needed_depth(frame, centre[:2], tan_h, tan_v) - centre[2]
        for frame, centre in zip(local, track)
    )  # behind the track, the nearest that sees every frame
    cameras = []
    for frame, centre in zip(points, track):
        pose = np.eye(4)
        pose[:3, :3], pose[:3, 3] = axes, axes @ (centre + [0.0, 0.0, distance])
        cameras.append(Camera(yfov=yfov, pose=pose, width=width, height=height,
                              zfar=_extent_zfar(frame, pose[:3, 3])))  # fmt: skip
    return cameras


def _needed_depth(local: np.ndarray, centre: np.ndarray, tan_h: float, tan_v: float) -> float:
    """The nearest eye depth (camera axes) that sees points `local` [N, 3] from an eye at
    sideways / vertical position `centre` [2]."""
    x, y, z = local[:, 0] - centre[0], local[:, 1] - centre[1], local[:, 2]
    return float((z + np.maximum(np.abs(x) / tan_h, np.abs(y) / tan_v)).max())
