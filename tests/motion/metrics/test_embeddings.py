"""FID, R-precision, MM-Dist, Diversity, MultiModality against direct computations."""

import numpy as np
import pytest
import torch

from vhdiff.motion.metrics import (
    diversity,
    embedding_statistics,
    fid,
    frechet_distance,
    mm_dist,
    multimodality,
    r_precision,
)


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---- FID --------------------------------------------------------------------------------------


def test_fid_of_a_set_with_itself_is_zero_and_of_two_draws_is_small():
    a = _rng(0).normal(size=(4000, 8))
    b = _rng(1).normal(size=(4000, 8))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-8)
    assert fid(a, b) < 0.05  # sampling noise only: ~ D^2 / N scale


def test_fid_of_shifted_identity_gaussians_is_the_squared_mean_shift():
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    eye = np.eye(4)
    assert frechet_distance(np.zeros(4), eye, shift, eye) == pytest.approx(5.25, abs=1e-9)
    # and from samples: whitened draws, so the sample covariances are exactly the identity
    x = _rng(2).normal(size=(500, 4))
    x = (x - x.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    assert fid(x, x + shift) == pytest.approx(5.25, abs=1e-8)


def test_fid_of_diagonal_covariances_matches_closed_form():
    # commuting covariances: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 0.25, 0.0]), np.array([9.0, 1.0, 0.25, 2.0])
    mu1, mu2 = np.array([0.0, 1.0, 0.0, 0.0]), np.array([3.0, 1.0, 0.0, -1.0])
    expected = 9.0 + 1.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-9)


def test_fid_matches_scipy_sqrtm_formula_on_full_covariances():
    linalg = pytest.importorskip("scipy.linalg")
    rng = _rng(3)
    m1, m2 = rng.normal(size=(2, 6))
    q1, q2 = rng.normal(size=(2, 6, 6))
    s1, s2 = q1 @ q1.T + 0.1 * np.eye(6), q2 @ q2.T + 0.1 * np.eye(6)
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(m2, s2, m1, s1) == pytest.approx(expected, rel=1e-8)


def test_fid_is_real_and_finite_with_fewer_samples_than_dimensions():
    a, b = _rng(4).normal(size=(20, 64)), _rng(5).normal(size=(20, 64)) + 0.3
    value = fid(a, b)
    assert np.isfinite(value) and value > 0
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)  # singular covariances, still ~0


def test_fid_accepts_torch_and_reports_bad_input():
    x = torch.randn(50, 3)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)
    stats = embedding_statistics(x)
    assert np.allclose(stats.mu, x.double().mean(0).numpy())
    assert np.allclose(stats.sigma, np.cov(x.double().numpy(), rowvar=False))
    flipped = _rng(6).normal(size=(40, 3))[::-1]  # a non-contiguous view is fine
    assert fid(flipped, flipped) == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="different widths"):
        fid(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        fid(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        fid(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        fid(np.full((5, 3), np.nan), np.zeros((5, 3)))


# ---- R-precision and MM-Dist ------------------------------------------------------------------


def test_r_precision_is_one_for_matching_embeddings():
    x = _rng(6).normal(size=(96, 16))
    result = r_precision(x, x)
    assert result.top_k == (1.0, 1.0, 1.0) and result.num_batches == 3


def test_r_precision_of_random_embeddings_is_chance():
    text, motion = _rng(7).normal(size=(2, 32 * 300, 8))
    result = r_precision(text, motion)
    for k, value in enumerate(result.top_k, start=1):
        assert value == pytest.approx(k / 32, abs=0.012)


def test_r_precision_matches_brute_force_ranking_and_drops_the_last_partial_batch():
    rng = _rng(8)
    motion = rng.normal(size=(11, 3))
    text = motion + rng.normal(scale=0.9, size=(11, 3))
    result = r_precision(text, motion, batch_size=4, top_k=3, seed=None)
    hits = np.zeros(3)
    for start in (0, 4):  # 11 pairs -> two full batches of 4, the last 3 dropped
        for i in range(start, start + 4):
            d = [np.linalg.norm(text[i] - motion[j]) for j in range(start, start + 4)]
            rank = sum(dj < d[i - start] for dj in d)
            hits += [rank < k for k in (1, 2, 3)]
    assert result.num_batches == 2
    assert result.top_k == pytest.approx(tuple(hits / 8))
    assert result.top1 <= result.top2 <= result.top3


def test_r_precision_motion_query_ranks_captions():
    rng = _rng(14)
    text = rng.normal(size=(64, 4))
    motion = text + rng.normal(scale=0.8, size=(64, 4))
    by_motion = r_precision(text, motion, query="motion")
    assert by_motion == r_precision(motion, text, query="text")
    assert by_motion != r_precision(text, motion)  # a different ranking in general
    with pytest.raises(ValueError, match="query must be"):
        r_precision(text, motion, query="both")


def test_r_precision_shuffle_is_seeded():
    text, motion = _rng(9).normal(size=(2, 100, 4))
    assert r_precision(text, motion, seed=1) == r_precision(text, motion, seed=1)


def test_r_precision_bad_input():
    x = np.zeros((40, 4))
    with pytest.raises(ValueError, match="at least 32"):
        r_precision(x[:10], x[:10])
    with pytest.raises(ValueError, match="paired row by row"):
        r_precision(x, np.zeros((40, 5)))
    with pytest.raises(ValueError, match="top_k"):
        r_precision(x, x, top_k=40)


def test_mm_dist_is_the_mean_pair_distance():
    text = np.array([[0.0, 0.0], [1.0, 1.0]])
    motion = np.array([[3.0, 4.0], [1.0, 1.0]])
    assert mm_dist(text, motion) == pytest.approx(2.5)
    assert mm_dist(motion, motion) == 0.0


# ---- Diversity and MultiModality --------------------------------------------------------------


def test_diversity_of_a_constant_set_is_zero_and_matches_direct_computation():
    assert diversity(np.ones((400, 5))) == 0.0
    x = _rng(10).normal(size=(400, 5))
    rng = np.random.default_rng(123)
    first, second = rng.choice(400, 300, replace=False), rng.choice(400, 300, replace=False)
    expected = np.mean([np.linalg.norm(x[i] - x[j]) for i, j in zip(first, second)])
    assert diversity(x, seed=123) == pytest.approx(expected)
    assert diversity(2 * x, seed=123) == pytest.approx(2 * expected)
    # two standard normals in D dims: E||x - y|| ~ sqrt(2 D)
    big = _rng(11).normal(size=(5000, 64))
    assert diversity(big) == pytest.approx(np.sqrt(128), rel=0.03)


def test_diversity_bad_input():
    with pytest.raises(ValueError, match="at least 300"):
        diversity(np.zeros((100, 3)))
    assert diversity(np.zeros((100, 3)), times=100) == 0.0


def test_multimodality_is_zero_for_identical_motions_and_matches_direct_computation():
    same = np.repeat(_rng(12).normal(size=(7, 1, 4)), 10, axis=1)
    assert multimodality(same) == 0.0
    x = _rng(13).normal(size=(7, 10, 4))
    rng = np.random.default_rng(5)
    first, second = rng.choice(10, 10, replace=False), rng.choice(10, 10, replace=False)
    expected = np.mean(
        [np.linalg.norm(x[n, i] - x[n, j]) for n in range(7) for i, j in zip(first, second)]
    )
    assert multimodality(x, seed=5) == pytest.approx(expected)
    with pytest.raises(ValueError, match="at least 10 motions per caption"):
        multimodality(x[:, :5])
    with pytest.raises(ValueError, match=r"\[N captions, R motions each, D\]"):
        multimodality(x[0])
