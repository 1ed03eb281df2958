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
    from vhdiff.toy import plot_toy_samples, train_toy_demo

    result = train_toy_demo(steps=args.steps, seed=args.seed)
    print(f"trained {args.steps} steps in {result.seconds:.1f} s (final loss {result.loss:.4f})")
    path = plot_toy_samples(result, Path(args.out) / "toy2d_samples.png")
    print(f"wrote {path}")
    return 0
