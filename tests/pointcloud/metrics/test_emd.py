import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from vhdiff.pointcloud.metrics import emd_approx, emd_exact, pairwise_emd

from .clouds import blob_clouds


def _emd_by_assignment(x: np.ndarray, y: np.ndarray) -> float:
    cost = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def test_exact_emd_is_the_best_of_all_matchings_on_tiny_clouds():
    x, y = (
        blob_clouds(1, 6, seed=0)[0].double().numpy(),
        blob_clouds(1, 6, seed=1)[0].double().numpy(),
    )
    brute = min(
        np.mean([np.linalg.norm(x[i] - y[p[i]]) for i in range(6)])
        for p in itertools.permutations(range(6))
    )
    got = emd_exact(torch.from_numpy(x)[None], torch.from_numpy(y)[None])
    assert got.item() == pytest.approx(brute, rel=1e-12)


def test_pairwise_exact_emd_matches_an_independent_assignment():
    a, b = blob_clouds(6, 64, seed=2), blob_clouds(5, 64, seed=3)
    got = pairwise_emd(a, b, method="exact").numpy()
    want = np.array(
        [[_emd_by_assignment(x, y) for y in b.double().numpy()] for x in a.double().numpy()]
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_approx_emd_is_an_upper_bound_within_its_measured_error():
    a, b = blob_clouds(6, 256, seed=4), blob_clouds(6, 256, seed=5)
    exact, approx = emd_exact(a, b), emd_approx(a, b)
    relative = (approx - exact) / exact
    assert torch.all(relative >= -1e-9)  # a feasible matching: never below the optimum
    assert relative.max() < 0.2, relative


def test_approx_with_one_block_is_exact_and_with_unit_blocks_still_bounded():
    a, b = blob_clouds(3, 64, seed=6), blob_clouds(3, 64, seed=7)
    exact = emd_exact(a, b)
    torch.testing.assert_close(emd_approx(a, b, block_size=64), exact)
    assert torch.all(emd_approx(a, b, block_size=1) >= exact - 1e-9)


def test_approx_orders_pairs_like_the_exact_emd():
    a = blob_clouds(1, 128, seed=8).expand(6, -1, -1)
    b = a + torch.linspace(0.02, 0.4, 6)[:, None, None] * torch.tensor([1.0, 0.0, 0.0])
    b = b + 0.01 * torch.randn(b.shape, generator=torch.Generator().manual_seed(0))
    approx = emd_approx(a, b)
    assert torch.all(approx.diff() > 0)
    assert torch.all(emd_exact(a, b).diff() > 0)


@pytest.mark.parametrize("emd", [emd_exact, emd_approx])
def test_emd_is_invariant_to_point_order(emd):
    a, b = blob_clouds(2, 64, seed=9), blob_clouds(2, 64, seed=10)
    order = torch.randperm(64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(emd(a[:, order], b), emd(a, b))
    torch.testing.assert_close(emd(a, b[:, order]), emd(a, b))


@pytest.mark.parametrize("emd", [emd_exact, emd_approx])
def test_unequal_sizes_are_a_one_line_error(emd):
    with pytest.raises(ValueError, match="equal size") as info:
        emd(blob_clouds(2, 64, seed=0), blob_clouds(2, 32, seed=1))
    assert "\n" not in str(info.value)


def test_bad_method_and_block_size():
    a = blob_clouds(2, 16, seed=0)
    with pytest.raises(ValueError, match="approx, exact"):
        pairwise_emd(a, method="sinkhorn")
    with pytest.raises(ValueError, match="block_size"):
        emd_approx(a, a, block_size=0)


def test_approx_on_a_size_that_does_not_halve_evenly():
    a, b = blob_clouds(2, 101, seed=11), blob_clouds(2, 101, seed=12)  # cells of 25 and 26
    exact, approx = emd_exact(a, b), emd_approx(a, b)
    assert torch.all(approx >= exact - 1e-9)
    assert torch.all((approx - exact) / exact < 0.2)
