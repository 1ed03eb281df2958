import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from vhdiff.pointcloud.metrics import chamfer_distance, distances, pairwise_chamfer

from .clouds import blob_clouds


def _chamfer_kdtree(x: np.ndarray, y: np.ndarray) -> float:
    to_y = cKDTree(y).query(x)[0]
    to_x = cKDTree(x).query(y)[0]
    return float((to_y**2).mean() + (to_x**2).mean())


def test_pairwise_chamfer_matches_kdtree():
    a, b = blob_clouds(6, 64, seed=0), blob_clouds(5, 48, seed=1)
    got = pairwise_chamfer(a, b).numpy()
    want = np.array(
        [[_chamfer_kdtree(x, y) for y in b.double().numpy()] for x in a.double().numpy()]
    )
    assert got.shape == (6, 5)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


def test_row_chunks_give_the_same_values(monkeypatch):
    a, b = blob_clouds(3, 64, seed=2), blob_clouds(3, 64, seed=3)
    whole = chamfer_distance(a, b)
    monkeypatch.setattr(distances, "_CPU_ELEMENTS", 100)  # one row per chunk
    torch.testing.assert_close(chamfer_distance(a, b), whole)


def test_a_set_against_itself_is_symmetric_with_a_zero_diagonal():
    a = blob_clouds(5, 32, seed=4)
    self_matrix = pairwise_chamfer(a)
    torch.testing.assert_close(self_matrix, self_matrix.T)
    assert torch.all(self_matrix.diagonal() == 0)
    off = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(self_matrix[off], pairwise_chamfer(a, a)[off])


def test_chamfer_is_invariant_to_point_order():
    a, b = blob_clouds(2, 64, seed=5), blob_clouds(2, 40, seed=6)
    shuffled = b[:, torch.randperm(40, generator=torch.Generator().manual_seed(0))]
    torch.testing.assert_close(chamfer_distance(a, b), chamfer_distance(a, shuffled))


@pytest.mark.parametrize(
    ("clouds", "message"),
    [
        (torch.full((2, 8, 3), float("nan")), "NaN"),
        (torch.zeros(2, 8, 2), r"\[K, N, 3\]"),
        (torch.zeros(8, 3), r"\[K, N, 3\]"),
        (torch.zeros(0, 8, 3), "empty"),
        (torch.zeros(2, 0, 3), "empty"),
    ],
)
def test_bad_clouds_are_one_line_errors(clouds, message):
    with pytest.raises(ValueError, match=message) as info:
        pairwise_chamfer(clouds, blob_clouds(2, 8, seed=0))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("x", "y"), [((2, 8, 3), (3, 8, 3)), ((2, 8, 3), (2, 8, 2)), ((8, 3), (8, 3))]
)
def test_unpaired_clouds_are_an_error(x, y):
    with pytest.raises(ValueError, match=r"paired clouds"):
        chamfer_distance(torch.zeros(x), torch.zeros(y))
