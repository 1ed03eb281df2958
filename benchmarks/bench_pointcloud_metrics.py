"""Point-cloud metrics on human-like clouds: compute_metrics time, Chamfer vs cKDTree, EMD error.

Run: python benchmarks/bench_pointcloud_metrics.py [--clouds 100] [--points 2048] [--threads N]
Prints
- compute_metrics on `clouds` samples x `clouds` references of `points` points (approximate
  EMD, JSD after fitting the references into the unit ball): seconds of the Chamfer part,
  the EMD part, the JSD part and the whole call (one run: it is the long part);
- our pairwise Chamfer against a straightforward scipy cKDTree one (a tree per cloud, two
  queries per pair) on the same `block` x `block` sample/reference pairs, `repeats`
  interleaved rounds, medians;
- the approximate EMD against the exact one (linear_sum_assignment) on `exact_pairs`
  sample/reference pairs (different poses) and as many near pairs (a reference and a copy
  jittered by 1 cm): relative error (mean, min, max) and the share of pairs of pairs whose
  order the approximation keeps.
The clouds are capsule bodies (torso, head, arms, legs) in random poses, in metres, with
points spread by area: human-like, not uniform.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch
from scipy.spatial import cKDTree

from vhdiff.pointcloud.metrics import compute_metrics, emd_approx, emd_exact, pairwise_chamfer


def _capsule(a: torch.Tensor, b: torch.Tensor, radius: float, n: int, g: torch.Generator):
    """n points on the side of the cylinder of `radius` around segment a-b."""
    axis = (b - a) / (b - a).norm()
    radial = torch.randn(n, 3, generator=g, dtype=torch.float64)
    radial = radial - (radial @ axis)[:, None] * axis
    radial = radial / radial.norm(dim=1, keepdim=True).clamp_min(1e-9)
    t = torch.rand(n, 1, generator=g, dtype=torch.float64)
    return a + t * (b - a) + radius * radial


def human_like_clouds(count: int, points: int, *, seed: int) -> torch.Tensor:
    """[count, points, 3] float32 capsule bodies (about 1.9 m tall) in random poses, metres."""
    g = torch.Generator().manual_seed(seed)

    def u(scale: float) -> float:  # uniform in [-scale, scale]
        return (2 * torch.rand(1, generator=g, dtype=torch.float64).item() - 1) * scale

    def v(*xyz: float) -> torch.Tensor:
        return torch.tensor(xyz, dtype=torch.float64)

    clouds = []
    for _ in range(count):
        height = 1.0 + u(0.1)
        pelvis = v(u(0.05), 0.95 * height, u(0.05))
        neck = pelvis + v(u(0.05), 0.5 * height, u(0.05))
        parts = [(pelvis, neck, 0.15), (neck + v(0, 0.12, 0), neck + v(0, 0.2, 0), 0.1)]
        for side in (-1, 1):
            hip, shoulder = pelvis + v(side * 0.1, 0, 0), neck + v(side * 0.2, -0.05, 0)
            leg = u(0.6)
            foot = hip + 0.9 * height * v(0.5 * side * math.sin(leg), -math.cos(leg), math.sin(leg))
            arm = u(1.5)
            hand = shoulder + 0.6 * height * v(side * math.cos(arm), -0.9 * math.sin(arm), u(0.5))
            parts += [(hip, foot, 0.07), (shoulder, hand, 0.05)]
        area = torch.tensor([float((b - a).norm()) * r for a, b, r in parts])
        counts = torch.multinomial(area / area.sum(), points, replacement=True, generator=g)
        counts = counts.bincount(minlength=len(parts))
        cloud = [_capsule(a, b, r, int(n), g) for (a, b, r), n in zip(parts, counts, strict=True)]
        clouds.append(torch.cat(cloud))
    return torch.stack(clouds).float()


def _kdtree_chamfer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    trees_a, trees_b = [cKDTree(x) for x in a], [cKDTree(y) for y in b]
    out = np.zeros((len(a), len(b)))
    for i, (x, tx) in enumerate(zip(a, trees_a, strict=True)):
        for j, (y, ty) in enumerate(zip(b, trees_b, strict=True)):
            out[i, j] = (ty.query(x)[0] ** 2).mean() + (tx.query(y)[0] ** 2).mean()
    return out


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clouds", type=int, default=100)
    parser.add_argument("--points", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--block", type=int, default=20)
    parser.add_argument("--exact-pairs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    samples = human_like_clouds(args.clouds, args.points, seed=1)
    references = human_like_clouds(args.clouds, args.points, seed=2)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
        f"{args.clouds} x {args.clouds} clouds of {args.points} points"
    )

    m, whole = _timed(
        lambda: compute_metrics(samples, references, jsd_normalization="fit_references")
    )
    print(
        f"compute_metrics ({m.emd_method}): CD {m.seconds_cd:.1f} s, EMD {m.seconds_emd:.1f} s, "
        f"JSD {m.seconds_jsd:.1f} s, whole {whole:.1f} s"
    )
    print("  " + ", ".join(f"{k} {getattr(m, k):.4g}" for k in ("mmd_cd", "cov_cd", "nna_cd")))
    print("  " + ", ".join(f"{k} {getattr(m, k):.4g}" for k in ("mmd_emd", "cov_emd", "nna_emd")))
    print(f"  jsd {m.jsd:.4g} (samples' points outside the ball: {m.jsd_samples_outside})")

    a, b = samples[: args.block], references[: args.block]
    ours, theirs = [], []
    for _ in range(args.repeats):
        mine, seconds = _timed(lambda: pairwise_chamfer(a, b))
        ours.append(seconds)
        kd, seconds = _timed(lambda: _kdtree_chamfer(a.double().numpy(), b.double().numpy()))
        theirs.append(seconds)
    gap = float(np.abs(mine.numpy() - kd).max() / kd.max())
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    pairs = args.block**2
    print(
        f"pairwise Chamfer, {pairs} pairs, median of {args.repeats} interleaved rounds: ours "
        f"{1000 * ours_s / pairs:.2f} ms/pair, scipy cKDTree "
        f"{1000 * theirs_s / pairs:.2f} ms/pair, "
        f"ours/cKDTree {ours_s / theirs_s:.2f} (max relative difference {gap:.1e})"
    )

    k = args.exact_pairs
    g = torch.Generator().manual_seed(3)
    near = references[:k] + 0.01 * torch.randn(references[:k].shape, generator=g)
    x, y = torch.cat([samples[:k], references[:k]]), torch.cat([references[:k], near])
    exact, exact_s = _timed(lambda: emd_exact(x, y))
    approx, approx_s = _timed(lambda: emd_approx(x, y))
    rel = ((approx - exact) / exact).numpy()
    i, j = np.triu_indices(len(rel), 1)
    same = np.sign((approx[i] - approx[j]).numpy()) == np.sign((exact[i] - exact[j]).numpy())
    for name, part in (("different poses", slice(0, k)), ("1 cm jitter", slice(k, 2 * k))):
        print(
            f"approximate EMD, {name} ({k} pairs, exact {exact[part].mean():.4f} m on average): "
            f"relative error mean {rel[part].mean():+.3f}, min {rel[part].min():+.3f}, "
            f"max {rel[part].max():+.3f}"
        )
    within = (i < k) == (j < k)  # both pairs of one kind: the harder comparisons
    print(
        f"  pair orders kept: {same.mean():.3f} of {len(same)} ({same[within].mean():.3f} of the "
        f"{int(within.sum())} within one kind); time per pair: exact {exact_s / len(x):.2f} s, "
        f"approx {1000 * approx_s / len(x):.1f} ms"
    )


if __name__ == "__main__":
    main()
