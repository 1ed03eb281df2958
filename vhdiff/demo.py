"""`vhdiff demo`: the main job until the text-to-motion demo lands.

Trains the 2-D toy denoiser (vhdiff.toy) with the diffusion core for a short while, samples it
with DDPM, DDIM and DPM-Solver++, and writes a scatter picture of data vs samples to --out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="outputs/demo", help="output folder")
    parser.add_argument("--steps", type=int, default=1500, help="training steps")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from vhdiff.toy import ToyMLP, Toy2D

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = torch.stack([torch.as_tensor(Toy2D(4096, args.seed)[i]) for i in range(4096)]).float()
    model = ToyMLP(dim=2, hidden=256, layers=4)
    diffusion = GaussianDiffusion(NoiseSchedule.cosine(T=100), prediction="x0")
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for step in range(args.steps):
        batch = data[torch.randint(0, len(data), (256,), generator=g)]
        loss = diffusion.training_losses(model, batch, generator=g).loss.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"trained {args.steps} steps in {time.time() - t0:.1f} s (final loss {loss.item():.4f})")
    model.eval()
    samples = {}
    for sampler, steps in (("ddpm", None), ("ddim", 50), ("dpm++", 20)):
        samples[sampler] = diffusion.sample(model, (2000, 2), sampler=sampler, steps=steps,
                                            generator=torch.Generator().manual_seed(1)).sample
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    for ax, (name, pts) in zip(axes, [("data", data[:2000]), *samples.items()]):
        ax.scatter(pts[:, 0], pts[:, 1], s=2)
        ax.set_title(name)
        ax.set_aspect("equal")
    path = out / "toy2d_samples.png"
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")
    return 0
