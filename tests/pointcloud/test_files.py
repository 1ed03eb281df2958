"""PLY / NPY / XYZ point files and surface sampling."""

import numpy as np
import pytest

from vhdiff.pointcloud.files import read_mesh, read_points, sample_surface, write_ply


def test_ply_round_trip_is_exact_and_trimesh_reads_it(tmp_path):
    import trimesh

    points = np.random.default_rng(0).normal(size=(37, 3)).astype(np.float32)
    path = write_ply(tmp_path / "c.ply", points)
    np.testing.assert_array_equal(read_points(path), points)
    loaded = trimesh.load(path)
    np.testing.assert_array_equal(np.asarray(loaded.vertices, dtype=np.float32), points)


def test_npy_and_xyz(tmp_path):
    points = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "a.npy", points)
    np.savetxt(tmp_path / "a.xyz", points)
    np.testing.assert_array_equal(read_points(tmp_path / "a.npy"), points)
    np.testing.assert_allclose(read_points(tmp_path / "a.xyz"), points)


@pytest.mark.parametrize("content, message", [
    (np.zeros((0, 3)), "no \\[P, 3\\] points"),
    (np.full((3, 3), np.nan), "NaN"),
    (np.zeros((4, 2)), "no \\[P, 3\\] points"),
])
def test_bad_point_files_are_one_line_errors(tmp_path, content, message):
    np.save(tmp_path / "bad.npy", content)
    with pytest.raises(ValueError, match=message):
        read_points(tmp_path / "bad.npy")


def test_unreadable_file(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="cannot read points"):
        read_points(tmp_path / "x.npy")


def test_surface_samples_are_area_weighted_and_on_the_surface():
    # two triangles in the plane z = 0: areas 1/2 and 4 * 1/2 -> 1 : 4 of the points
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 0, 0], [7, 0, 0], [5, 2, 0]], float)
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    points = sample_surface(vertices, faces, 20000, np.random.default_rng(0))
    assert points.shape == (20000, 3) and points.dtype == np.float32
    assert np.all(points[:, 2] == 0)
    small = (points[:, 0] <= 1) & (points[:, 1] <= 1 - points[:, 0] + 1e-6)
    big = (points[:, 0] >= 5) & (points[:, 1] <= 2 - (points[:, 0] - 5) + 1e-6)
    assert np.all(small | big)
    assert abs(small.mean() - 0.2) < 0.01
    # uniform inside a triangle: the mean is the centroid
    np.testing.assert_allclose(points[big].mean(0)[:2], [17 / 3, 2 / 3], atol=0.02)


def test_degenerate_mesh_is_refused():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], float)
    with pytest.raises(ValueError, match="zero surface area"):
        sample_surface(vertices, np.array([[0, 1, 2]]), 10, np.random.default_rng(0))


def test_read_mesh_through_trimesh(tmp_path):
    import trimesh

    trimesh.creation.box().export(tmp_path / "box.obj")
    vertices, faces = read_mesh(tmp_path / "box.obj")
    assert vertices.shape == (8, 3) and faces.shape == (12, 3)
    (tmp_path / "bad.obj").write_text("garbage\n")
    with pytest.raises(ValueError, match="bad.obj"):
        read_mesh(tmp_path / "bad.obj")
