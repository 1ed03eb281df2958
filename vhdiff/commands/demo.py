"""`vhdiff demo`: the main job - text to SMPL motion with the bundled model, offline.

Writes to --out, for each demo prompt, NAME.mp4 (the mannequin body, 512x512), NAME.npz
(SMPL parameters) and NAME.bvh, through the library the `vhdiff motion` command uses
(`vhdiff.motion.demo`); then an edit: the legs and path of the first motion kept, the upper
body regenerated from another prompt; and overview.png, four frames of every motion.
`--toy` runs the 2-D toy of the diffusion core instead (trains a small denoiser, samples
DDPM / DDIM / DPM-Solver++).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="outputs/demo", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=512, help="video size in pixels")
    parser.add_argument("--toy", action="store_true", help="run the 2-D toy of the diffusion core instead")
    parser.add_argument("--steps", type=int, default=1500, help="--toy: training steps")


def run(args: argparse.Namespace) -> int:
    if args.toy:
        return run_toy(args)
    from vhdiff.motion.demo import run_motion_demo

    if not 16 <= args.size <= 4096:
        raise ValueError(f"--size must be between 16 and 4096 pixels, got {args.size}")
    result = run_motion_demo(Path(args.out), seed=args.seed, size=args.size, log=print)
    print(f"demo done in {result.seconds:.1f} s: {args.out}/ (MP4 + SMPL .npz + BVH per prompt, overview.png)")
    return 0


def run_toy(args: argparse.Namespace) -> int:
    """The 2-D toy: the core trains and samples a ring of Gaussians (toy2d_samples.png)."""
    from vhdiff.toy import plot_toy_samples, train_toy_demo

    result = train_toy_demo(steps=args.steps, seed=args.seed)
    print(f"trained {args.steps} steps in {result.seconds:.1f} s (final loss {result.loss:.4f})")
    path = plot_toy_samples(result, Path(args.out) / "toy2d_samples.png")
    print(f"wrote {path}")
    return 0
