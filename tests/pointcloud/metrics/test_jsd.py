import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree
from scipy.spatial.distance import jensenshannon

from vhdiff.pointcloud.metrics import jsd_between_sets, unit_ball_transform

from .clouds import blob_clouds


def _jsd_numpy(samples: np.ndarray, references: np.ndarray, resolution: int, sphere: bool) -> float:
    """PointFlow's recipe written directly: grid points, nearest-grid-point counts, JS in bits."""
    axis = np.linspace(-0.5, 0.5, resolution)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    if sphere:
        grid = grid[np.linalg.norm(grid, axis=1) <= 0.5]
    tree = cKDTree(grid)
    counts = [
        np.bincount(tree.query(s.reshape(-1, 3))[1], minlength=len(grid))
        for s in (samples, references)
    ]
    return float(jensenshannon(counts[0], counts[1], base=2) ** 2)  # scipy gives the square root


@pytest.mark.parametrize(("region", "resolution"), [("sphere", 28), ("cube", 28), ("sphere", 9)])
def test_jsd_matches_a_direct_histogram(region, resolution):
    # spread wide enough that many points fall near or beyond the ball's surface
    samples, references = (
        blob_clouds(4, 200, seed=0, spread=0.25),
        blob_clouds(5, 150, seed=1, spread=0.2),
    )
    got = jsd_between_sets(samples, references, resolution=resolution, region=region)
    want = _jsd_numpy(
        samples.double().numpy(), references.double().numpy(), resolution, region == "sphere"
    )
    assert got.jsd == pytest.approx(want, abs=1e-9)
    assert got.samples_outside > 0  # the test does reach the outside-the-ball path


def test_identical_sets_give_zero_and_disjoint_sets_give_one_bit():
    a = blob_clouds(3, 100, seed=2, spread=0.1)
    assert jsd_between_sets(a, a).jsd == pytest.approx(0.0, abs=1e-12)
    left, right = a * 0.3 - torch.tensor([0.3, 0, 0]), a * 0.3 + torch.tensor([0.3, 0, 0])
    assert jsd_between_sets(left, right).jsd == pytest.approx(1.0, abs=1e-9)


def test_points_outside_are_counted():
    inside = torch.zeros(2, 10, 3)
    outside = inside.clone()
    outside[0, :3] = torch.tensor([0.6, 0.0, 0.0])
    outside[1, 0] = torch.tensor([0.3, 0.3, 0.3])  # norm 0.52: outside the ball, inside the cube
    result = jsd_between_sets(outside, inside)
    assert (result.samples_outside, result.references_outside) == (4, 0)
    assert jsd_between_sets(outside, inside, region="cube").samples_outside == 3


def test_unit_ball_transform_fits_the_references():
    references = blob_clouds(4, 50, seed=3, centre=1.5) * 2.0
    centre, scale = unit_ball_transform(references)
    scaled = (references - centre) * scale
    assert scaled.reshape(-1, 3).norm(dim=1).max().item() == pytest.approx(0.5, rel=1e-5)
    assert jsd_between_sets(scaled, scaled).references_outside == 0


def test_bad_arguments():
    a = blob_clouds(2, 10, seed=0)
    with pytest.raises(ValueError, match="sphere, cube"):
        jsd_between_sets(a, a, region="ball")
    with pytest.raises(ValueError, match="NaN"):
        jsd_between_sets(a, a * float("nan"))
