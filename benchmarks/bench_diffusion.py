"""Sampler overhead of vhdiff.diffusion vs diffusers' DDIMScheduler on the same model.

Per-step overhead = (sampling time - NFE x model forward time) / NFE. Prints, for a small
and a mid-size model, our DDIM / DPM-Solver++ / DDPM overhead, diffusers' DDIM overhead in
the same process, the ratio ours/diffusers, and total / (NFE x forward).

    python benchmarks/bench_diffusion.py [--repeats 5] [--steps 50]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from torch import nn

from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule


class Small(nn.Module):
    """~17k params on x [256, 2]: a toy 2-D denoiser (overhead dominates)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, 2))

    def forward(self, x, t, **cond):
        return self.net(torch.cat([x, t[:, None].float() / 1000], dim=1))


class Mid(nn.Module):
    """~6M params on x [8, 120, 263]: a motion-sized per-frame MLP + temporal conv."""

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


def _time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.no_grad()
def bench(name, model, shape, steps, repeats):
    model.eval()
    schedule = NoiseSchedule.linear()
    diffusion = GaussianDiffusion(schedule)
    x_T = torch.randn(shape)
    t = torch.full((shape[0],), 500, dtype=torch.long)

    def forwards():
        for _ in range(steps):
            model(x_T, t)

    fwd = _time(forwards, repeats) / steps
    ours = {
        "ddim": _time(lambda: diffusion.sample(model, shape, sampler="ddim", steps=steps, x_T=x_T), repeats),
        "dpm++": _time(lambda: diffusion.sample(model, shape, sampler="dpm++", steps=steps, x_T=x_T), repeats),
        "ddpm": _time(lambda: diffusion.sample(model, shape, sampler="ddpm", steps=steps, x_T=x_T,
                                               generator=torch.Generator().manual_seed(0)), repeats),
    }
    theirs = None
    try:
        from diffusers import DDIMScheduler

        sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", timestep_spacing="trailing",
                              set_alpha_to_one=True, clip_sample=False)

        def their_loop():
            sched.set_timesteps(steps)
            x = x_T
            for tt in sched.timesteps:
                x = sched.step(model(x, tt.expand(shape[0])), tt, x).prev_sample

        theirs = _time(their_loop, repeats)
    except ImportError:
        pass
    params = sum(p.numel() for p in model.parameters())
    print(f"\n{name}: {params / 1e6:.2f}M params, x {tuple(shape)}, {steps} steps, forward {fwd * 1e3:.3f} ms")
    print(f"  {'sampler':<16}{'total ms':>10}{'overhead/step ms':>18}{'total/(NFE*fwd)':>17}")
    rows = [(f"vhdiff {k}", v) for k, v in ours.items()]
    if theirs is not None:
        rows.append(("diffusers ddim", theirs))
    for label, total in rows:
        over = (total - steps * fwd) / steps
        print(f"  {label:<16}{total * 1e3:>10.2f}{over * 1e3:>18.4f}{total / (steps * fwd):>17.3f}")
    if theirs is not None:
        ratio = (ours["ddim"] - steps * fwd) / max(theirs - steps * fwd, 1e-9)
        print(f"  overhead ratio ours/diffusers (DDIM): {ratio:.2f}   (goal <= 1.0)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    bench("small", Small(), (256, 2), args.steps, args.repeats)
    bench("mid", Mid(), (8, 120, 263), args.steps, args.repeats)


if __name__ == "__main__":
    main()
