import numpy as np
import pytest
import torch

from vhdiff.pointcloud.metrics import coverage, minimum_matching_distance, one_nn_accuracy


def _loops(sr: np.ndarray, ss: np.ndarray, rr: np.ndarray) -> tuple[float, float, float]:
    """MMD, COV and 1-NNA written as plain loops over the matrices."""
    s, r = sr.shape
    mmd = np.mean([min(sr[i, j] for i in range(s)) for j in range(r)])
    nearest_refs = {min(range(r), key=lambda j: sr[i, j]) for i in range(s)}
    cov = len(nearest_refs) / r
    right = 0
    for j in range(r):  # a reference's nearest other cloud
        others = [(rr[j, k], 1) for k in range(r) if k != j] + [(sr[i, j], 0) for i in range(s)]
        right += min(others, key=lambda t: t[0])[1] == 1
    for i in range(s):
        others = [(sr[i, j], 1) for j in range(r)] + [(ss[i, k], 0) for k in range(s) if k != i]
        right += min(others, key=lambda t: t[0])[1] == 0
    return mmd, cov, right / (s + r)


def _symmetric(n: int, g: np.random.Generator) -> np.ndarray:
    m = g.random((n, n))
    m = m + m.T
    np.fill_diagonal(m, 0.0)
    return m


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_metrics_match_plain_loops(seed):
    g = np.random.default_rng(seed)
    sr, ss, rr = g.random((6, 5)), _symmetric(6, g), _symmetric(5, g)
    mmd, cov, nna = _loops(sr, ss, rr)
    t = torch.from_numpy
    assert minimum_matching_distance(t(sr)) == pytest.approx(mmd)
    assert coverage(t(sr)) == pytest.approx(cov)
    assert one_nn_accuracy(t(sr), t(ss), t(rr)) == pytest.approx(nna)


def test_identical_sets_give_zero_mmd_full_coverage_and_zero_nna():
    points = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    d = torch.cdist(points, points)
    assert minimum_matching_distance(d) == 0.0
    assert coverage(d) == 1.0
    assert one_nn_accuracy(d, d, d) == 0.0  # every cloud's nearest is its copy in the other set


def test_a_tie_goes_to_the_first_cloud_in_the_order_references_then_samples():
    rr = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    sr = torch.tensor(
        [[1.0, 1.0]]
    )  # the sample is as near to both references as they are to each other
    assert one_nn_accuracy(sr, torch.zeros(1, 1), rr) == pytest.approx(2 / 3)


def test_same_distribution_gives_about_half_and_separate_ones_give_one():
    g = torch.Generator().manual_seed(0)
    samples, references = torch.randn(300, 3, generator=g), torch.randn(300, 3, generator=g)
    d = torch.cdist
    assert one_nn_accuracy(
        d(samples, references), d(samples, samples), d(references, references)
    ) == pytest.approx(0.5, abs=0.06)
    shifted = samples + 10.0
    assert (
        one_nn_accuracy(d(shifted, references), d(shifted, shifted), d(references, references))
        == 1.0
    )


def test_bad_matrices_are_one_line_errors():
    with pytest.raises(ValueError, match="shape"):
        one_nn_accuracy(torch.zeros(3, 2), torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="NaN"):
        coverage(torch.full((2, 2), float("nan")))
    with pytest.raises(ValueError, match="non-empty"):
        minimum_matching_distance(torch.zeros(0, 3))
