"""vhdiff.diffusion's samplers against diffusers' schedulers: time, and accuracy on an exact model.

Time. The same tiny model drives both loops at the same number of model calls (NFE); each
round runs ours, diffusers' and the bare model calls once, in an order that alternates
between rounds (interleaved), and the figures are medians over the rounds. The headline is
ours / diffusers TOTAL time per round (median of the paired ratios, with its spread): both
totals hold the same model time, so the ratio never divides by a small, noisy difference.
Sampler overhead per step, (total - bare model calls) / NFE, is printed for information.

Accuracy (--accuracy). The exact denoiser of Gaussian data (std 0.5 / 1.2 / 0.25) makes a
deterministic sampler a linear map of x_T; with x_T whitened, the relative error of the
sampled spread is the solver's own (no Monte-Carlo noise). Ours per spacing and solver,
against diffusers' DPMSolverMultistepScheduler (default, use_lu_lambdas, order 3) and
UniPCMultistepScheduler, at 10 and 20 model calls on the linear and cosine schedules.

    python benchmarks/bench_diffusion.py [--rounds 15] [--steps 20] [--threads 1] [--accuracy]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from vhdiff.diffusion import SPACINGS, GaussianDiffusion, NoiseSchedule

BETAS = {"linear": "linear", "cosine": "squaredcos_cap_v2"}


class Small(nn.Module):
    """~17k params on x [256, 2]: a toy 2-D denoiser (sampler overhead dominates)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, 2))

    def forward(self, x, t, **cond):
        return self.net(torch.cat([x, t[:, None].float() / 1000], dim=1))


class Mid(nn.Module):
    """~5M params on x [4, 120, 263]: a motion-sized per-frame MLP + temporal conv."""

    def __init__(self, d=263, h=768):
        super().__init__()
        self.inp = nn.Linear(d, h)
        self.t = nn.Embedding(1000, h)
        self.conv = nn.Conv1d(h, h, 5, padding=2)
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, d))

    def forward(self, x, t, **cond):
        h = self.inp(x) + self.t(t)[:, None]
        h = h + self.conv(h.transpose(1, 2)).transpose(1, 2)
        return self.mlp(h)


def diffusers_loop(scheduler, model, x: torch.Tensor, steps: int) -> tuple[torch.Tensor, int]:
    """The standard diffusers pipeline loop; returns (x_0, model calls)."""
    scheduler.set_timesteps(steps)
    calls = 0
    for t in scheduler.timesteps:
        out = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))
        calls += 1
        x = scheduler.step(out, t, x).prev_sample
    return x, calls


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ---------------------------------------------------------------------- time
@torch.no_grad()
def bench_time(name: str, model: nn.Module, shape: tuple[int, ...], steps: int, rounds: int) -> None:
    import diffusers

    model.eval()
    diffusion = GaussianDiffusion(NoiseSchedule.linear())
    x_T = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    t_mid = torch.full((shape[0],), 500, dtype=torch.long)
    pairs = {
        "ddim": (
            lambda: diffusion.sample(model, shape, sampler="ddim", steps=steps, x_T=x_T, timestep_spacing="trailing"),
            diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", timestep_spacing="trailing",
                                    set_alpha_to_one=True, clip_sample=False),
        ),
        "dpm++": (
            lambda: diffusion.sample(model, shape, sampler="dpm++", steps=steps, x_T=x_T),
            diffusers.DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="linear",
                                                  algorithm_type="dpmsolver++", solver_order=2,
                                                  use_lu_lambdas=True, final_sigmas_type="zero"),
        ),
    }

    def bare():
        for _ in range(steps):
            model(x_T, t_mid)

    params = sum(p.numel() for p in model.parameters())
    print(f"\n{name}: {params / 1e6:.2f}M params, x {tuple(shape)}, {steps} model calls each, "
          f"{rounds} interleaved rounds, medians")
    print(f"  {'sampler':<8}{'ours ms':>10}{'diffusers ms':>14}{'bare calls ms':>15}"
          f"{'ours/diffusers':>16}{'  (min-max)':<16}{'overhead/step ms ours | diffusers':>34}")
    for label, (ours_fn, scheduler) in pairs.items():
        def theirs_fn(scheduler=scheduler):
            return diffusers_loop(scheduler, model, x_T, steps)

        for fn in (ours_fn, theirs_fn, bare):  # warm-up
            fn()
        times: dict[str, list[float]] = {"ours": [], "theirs": [], "bare": []}
        jobs = [("ours", ours_fn), ("theirs", theirs_fn), ("bare", bare)]
        for r in range(rounds):
            order = jobs if r % 2 == 0 else jobs[::-1]
            for key, fn in order:
                times[key].append(_timed(fn))
        ratios = [a / b for a, b in zip(times["ours"], times["theirs"])]
        med = {k: statistics.median(v) for k, v in times.items()}
        over = [(med[k] - med["bare"]) / steps * 1e3 for k in ("ours", "theirs")]
        print(f"  {label:<8}{med['ours'] * 1e3:>10.2f}{med['theirs'] * 1e3:>14.2f}{med['bare'] * 1e3:>15.2f}"
              f"{statistics.median(ratios):>16.3f}  ({min(ratios):.3f}-{max(ratios):.3f})"
              f"{over[0]:>20.4f} | {over[1]:.4f}")


# ---------------------------------------------------------------------- accuracy
def bench_accuracy() -> None:
    import diffusers

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.diffusion.oracle import GaussianOracle  # the exact denoiser of Gaussian data

    std = torch.tensor([0.5, 1.2, 0.25], dtype=torch.float64)
    x = torch.randn(2048, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = x - x.mean(0)
    x_T = x @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(x.T))).T  # identity sample covariance

    def error(sample: torch.Tensor) -> str:
        return f"{float((sample.std(0) / std - 1).abs().max()) * 100:6.2f}"

    theirs = {
        "diffusers dpm++2M default": ("DPMSolverMultistepScheduler", {"solver_order": 2}),
        "diffusers dpm++2M lu": ("DPMSolverMultistepScheduler", {"solver_order": 2, "use_lu_lambdas": True}),
        "diffusers dpm++3M lu": ("DPMSolverMultistepScheduler", {"solver_order": 3, "use_lu_lambdas": True}),
        "diffusers UniPC-2 default": ("UniPCMultistepScheduler", {"solver_order": 2}),
        "diffusers UniPC-3 default": ("UniPCMultistepScheduler", {"solver_order": 3}),
    }
    print("\nspread error (%), exact denoiser of N(0, diag(0.5, 1.2, 0.25)^2), max over dims; "
          "columns: linear 10 / 20, cosine 10 / 20 model calls")
    rows: dict[str, list[str]] = {}
    for schedule_name in ("linear", "cosine"):
        schedule = getattr(NoiseSchedule, schedule_name)()
        model = GaussianOracle(schedule, torch.zeros(3), torch.diag(std**2))
        diffusion = GaussianDiffusion(schedule)
        for steps in (10, 20):
            for sampler in ("dpm++", "dpm-hybrid"):
                for spacing in SPACINGS:
                    out = diffusion.sample(model, x_T.shape, sampler=sampler, steps=steps, x_T=x_T,
                                           timestep_spacing=spacing)
                    assert out.nfe == steps
                    rows.setdefault(f"vhdiff {sampler} {spacing}", []).append(error(out.sample))
            for label, (cls, kw) in theirs.items():
                extra = {"algorithm_type": "dpmsolver++"} if "DPM" in cls else {}
                scheduler = getattr(diffusers, cls)(num_train_timesteps=1000, beta_schedule=BETAS[schedule_name],
                                                    final_sigmas_type="zero", **extra, **kw)
                sample, calls = diffusers_loop(scheduler, model, x_T.clone(), steps)
                assert calls == steps
                rows.setdefault(label, []).append(error(sample))
    for label, cells in rows.items():
        print(f"  {label:<28}" + " ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: steadier when other jobs share the cores)")
    ap.add_argument("--accuracy", action="store_true", help="also print the solver-accuracy table")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}")
    bench_time("small", Small(), (256, 2), args.steps, args.rounds)
    bench_time("mid", Mid(), (4, 120, 263), args.steps, max(5, args.rounds // 2))
    if args.accuracy:
        bench_accuracy()


if __name__ == "__main__":
    main()
