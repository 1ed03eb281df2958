"""vhdiff.viz: pictures and videos of bodies, motions, point clouds and images.

Modules (each imports its heavy dependencies only when used):

- `gl`: the one place that sets up OpenGL for pyrender (PYOPENGL_PLATFORM, default egl).
- `camera`: pinhole camera, look-at, automatic framing (numpy only).
- `mesh_renderer`: `MeshRenderer`, pyrender offscreen body meshes over a ground plane.
- `skeleton`: `render_skeleton`, matplotlib stick figures (no OpenGL).
- `points`: `render_point_cloud`, `render_point_cloud_grid` (numpy splats, no OpenGL).
- `grid`: `image_grid`, `to_uint8`.
- `writers`: MP4, GIF, PNG sequences, OBJ/PLY per frame; all atomic.
- `render_command`: `vhdiff render motion.npz --out x.mp4`.

This package may import `vhdiff.body` and nothing else of vhdiff.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "MeshRenderer",
    "image_grid",
    "render_point_cloud",
    "render_point_cloud_grid",
    "render_skeleton",
    "write_frames",
    "write_gif",
    "write_mesh_sequence",
    "write_mp4",
    "write_png_sequence",
]

_WHERE = {
    "MeshRenderer": "mesh_renderer",
    "image_grid": "grid",
    "render_point_cloud": "points",
    "render_point_cloud_grid": "points",
    "render_skeleton": "skeleton",
    "write_frames": "writers",
    "write_gif": "writers",
    "write_mesh_sequence": "writers",
    "write_mp4": "writers",
    "write_png_sequence": "writers",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
