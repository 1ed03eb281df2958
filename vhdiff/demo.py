"""`vhdiff demo`: the main job - text to SMPL motion with the bundled model, offline.

Writes to --out, for each demo prompt, NAME.mp4 (the mannequin body, 512x512), NAME.npz
(SMPL parameters) and NAME.bvh, through the same code as `vhdiff motion`; then an edit:
the legs and path of the first motion kept, the upper body regenerated from another
prompt (`vhdiff motion --edit ... --keep lower`). `--toy` runs the 2-D toy of the
diffusion core instead (trains a small denoiser, samples DDPM / DDIM / DPM-Solver++).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule

DEMO_PROMPTS = {
    "walk_wave": "a person walks forward and waves",
    "jump": "someone jumps up and down on the spot",
    "turn": "a person walks in a circle turning left",
}
EDIT_PROMPT = "a person raises both arms above the head"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="outputs/demo", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=512, help="video size in pixels")
    parser.add_argument("--toy", action="store_true", help="run the 2-D toy of the diffusion core instead")
    parser.add_argument("--steps", type=int, default=1500, help="--toy: training steps")


def run(args: argparse.Namespace) -> int:
    if args.toy:
        return run_toy(args)
    from vhdiff.cli import main

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name, prompt in DEMO_PROMPTS.items():
        code = main(["motion", prompt, "--length", "6", "--seed", str(args.seed), "--bvh",
                     "--size", str(args.size), "--out", str(out / f"{name}.mp4")])
        if code:
            return code
    first = next(iter(DEMO_PROMPTS))
    code = main(["motion", EDIT_PROMPT, "--edit", str(out / f"{first}.npz"), "--keep", "lower",
                 "--seed", str(args.seed), "--size", str(args.size),
                 "--out", str(out / f"{first}_edit_upper.mp4")])
    if code:
        return code
    print(f"demo done in {time.perf_counter() - start:.1f} s: {out}/ (MP4 + SMPL .npz + BVH per prompt)")
    return 0


def run_toy(args: argparse.Namespace) -> int:
    """The 2-D toy: the core trains and samples a ring of Gaussians (toy2d_samples.png)."""
    from vhdiff.toy import Toy2D, ToyMLP

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
