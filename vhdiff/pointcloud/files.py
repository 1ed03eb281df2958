"""Point and mesh files: PLY / NPY / XYZ point clouds in and out, meshes sampled to points.

    write_ply("cloud.ply", points)                 # [P, 3] float -> binary little-endian PLY
    points = read_points("cloud.ply")              # .ply .npy .xyz -> float32 [P, 3]
    points = sample_surface(vertices, faces, 2048, rng)   # area-weighted, exactly 2048

PLY files are written by hand (a 3-float vertex element, no faces), so writing needs no
extra package (the plain format Open3D and MeshLab read; tested with trimesh). Meshes (.obj .ply .off .stl .glb) are
read through trimesh, imported only when a mesh is read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vhdiff.atomic_io import atomic_path
from vhdiff.extras import require

__all__ = ["MESH_SUFFIXES", "POINT_SUFFIXES", "read_mesh", "read_points", "sample_surface", "write_ply"]

POINT_SUFFIXES = (".npy", ".xyz", ".ply")  # point files (a .ply with faces is read as a mesh)
MESH_SUFFIXES = (".obj", ".ply", ".off", ".stl", ".glb")


def write_ply(path: str | os.PathLike, points: np.ndarray) -> Path:
    """Write points [P, 3] (metres) as a binary little-endian PLY, atomically."""
    array = np.ascontiguousarray(np.asarray(points, dtype="<f4"))
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"points must have shape [P, 3], got {list(array.shape)}")
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment written by vhdiff\n"
        f"element vertex {len(array)}\nproperty float x\nproperty float y\nproperty float z\n"
        "end_header\n"
    ).encode("ascii")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(header + array.tobytes())
    return path


def _check_cloud(array: np.ndarray, path: Path) -> np.ndarray:
    if array.ndim != 2 or array.shape[1] < 3 or len(array) == 0:
        raise ValueError(f"{str(path)!r} holds no [P, 3] points (shape {list(array.shape)})")
    array = np.asarray(array[:, :3], dtype=np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{str(path)!r} holds NaN or infinite coordinates")
    return array


def read_points(path: str | os.PathLike) -> np.ndarray:
    """The points of a .npy ([P, 3+]), .xyz (text, x y z per line) or .ply file, float32 [P, 3].

    ValueError (one line, naming the file) for an empty, NaN or unreadable file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".xyz":
            array = np.loadtxt(path, dtype=np.float64, ndmin=2)
        elif suffix == ".ply":
            array = _read_ply_vertices(path)
        else:
            raise ValueError(f"{str(path)!r} is not a point file; use one of {', '.join(POINT_SUFFIXES)}")
    except (OSError, ValueError, EOFError) as exc:
        if isinstance(exc, ValueError) and str(path) in str(exc):
            raise
        raise ValueError(f"cannot read points from {str(path)!r}: {exc}") from None
    return _check_cloud(np.asarray(array), path)


def _read_ply_vertices(path: Path) -> np.ndarray:
    trimesh = require("trimesh", needed_for="mesh and PLY files")

    loaded = trimesh.load(path, process=False)
    vertices = getattr(loaded, "vertices", None)
    if vertices is None:
        raise ValueError(f"{str(path)!r} has no vertex element")
    return np.asarray(vertices)


def read_mesh(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(vertices [V, 3] float64, faces [F, 3] int64) of a mesh file through trimesh (a scene's
    meshes are concatenated). ValueError for a file with no triangles or NaN vertices."""
    trimesh = require("trimesh", needed_for="mesh and PLY files")

    path = Path(path)
    try:
        loaded = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many kinds for a bad file
        raise ValueError(f"cannot read a mesh from {str(path)!r}: {exc}") from None
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3))), dtype=np.int64)
    if len(faces) == 0 or len(vertices) == 0:
        raise ValueError(f"{str(path)!r} holds no triangles")
    if not np.isfinite(vertices).all():
        raise ValueError(f"{str(path)!r} holds NaN or infinite vertices")
    return vertices, faces


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """`count` points uniformly on the surface (area-weighted faces, uniform barycentric
    coordinates), float32 [count, 3]. ValueError for a mesh of zero area."""
    v = np.asarray(vertices, dtype=np.float64)
    tri = v[np.asarray(faces)]  # [F, 3, 3]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = float(area.sum())
    if not np.isfinite(total) or total <= 0:
        raise ValueError("the mesh has zero surface area (degenerate triangles); nothing to sample")
    face = rng.choice(len(tri), size=count, p=area / total)
    # uniform on a triangle: sqrt-warped barycentrics (Osada et al. 2002, eq. 1)
    r1 = np.sqrt(rng.random(count))[:, None]
    r2 = rng.random(count)[:, None]
    a, b, c = tri[face, 0], tri[face, 1], tri[face, 2]
    return ((1 - r1) * a + r1 * (1 - r2) * b + r1 * r2 * c).astype(np.float32)
