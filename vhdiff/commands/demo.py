"""`vhdiff demo`: the main job - every part of the toolkit, with the bundled models, offline.

    vhdiff demo [--out outputs/demo] [--parts motion,pointcloud,image] [--seed 0] [--force]

Writes into --out (`vhdiff.motion.demo`, `vhdiff.pointcloud.demo`, `vhdiff.image.demo`):
motion: for each demo prompt NAME.mp4 (the mannequin body), NAME.npz (SMPL parameters) and
NAME.bvh, a body-part edit and an in-betweening of the first motion, side_by_side.mp4 and
overview.png; pointclouds/: 16 clouds as PLY, their picture and the x_T ... x_0 strip;
images/: 16 samples, an SDEdit edit, an inpainting and the strip; then demo.json (prompts,
settings and timings) and index.html, a page that shows all of it and opens from disk with
no server and no network. The folder is built under a temporary name and renamed when
complete: --out must be new or empty, or an earlier demo's output (replaced with --force).
`--toy` runs the 2-D toy of the diffusion core instead (trains a small denoiser, samples
DDPM / DDIM / DPM-Solver++).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from vhdiff.atomic_io import (
    FolderKind,
    atomic_folder,
    check_replace_folder,
    check_writable,
    write_text_atomic,
)

__all__ = ["DEMO_FOLDER", "PARTS", "add_arguments", "run"]

PAGE = "index.html"  # written last: it marks a complete demo folder
DEMO_FOLDER = FolderKind.with_file("demo output folder", PAGE)
PARTS = ("motion", "pointcloud", "image")  # in the order they run and appear on the page
PART_FOLDERS = {"motion": "", "pointcloud": "pointclouds", "image": "images"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="outputs/demo", help="output folder")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated parts to run (default all: {','.join(PARTS)})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=512, help="video size in pixels")
    parser.add_argument("--force", action="store_true", help="replace --out if it is an earlier demo's output")
    parser.add_argument("--toy", action="store_true", help="run the 2-D toy of the diffusion core instead")
    parser.add_argument("--steps", type=int, default=1500, help="--toy: training steps")


def parse_parts(text: str) -> list[str]:
    """The --parts list, in PARTS order; a one-line error for an unknown or empty one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PARTS]
    if unknown or not names:
        raise ValueError(f"--parts: unknown or empty {', '.join(unknown) or repr(text)}; "
                         f"choose from {', '.join(PARTS)}, comma-separated")
    return [part for part in PARTS if part in names]


def _run_part(part: str, folder: Path, args: argparse.Namespace):
    if part == "motion":
        from vhdiff.motion.demo import run_motion_demo

        return run_motion_demo(folder, seed=args.seed, size=args.size).section
    if part == "pointcloud":
        from vhdiff.pointcloud.demo import run_pointcloud_demo

        return run_pointcloud_demo(folder, seed=args.seed)
    from vhdiff.image.demo import run_image_demo

    return run_image_demo(folder, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    if args.toy:
        return run_toy(args)
    from vhdiff.viz.demo_page import write_demo_page

    if not 16 <= args.size <= 4096:
        raise ValueError(f"--size must be between 16 and 4096 pixels, got {args.size}")
    parts = parse_parts(args.parts)
    out = Path(args.out)
    check_replace_folder(out, kind=DEMO_FOLDER, force=args.force)
    check_writable(out if out.is_dir() else out.parent)
    start = time.perf_counter()
    sections = []
    with atomic_folder(out, kind=DEMO_FOLDER, force=args.force) as tmp:
        for part in parts:
            section = _run_part(part, tmp / PART_FOLDERS[part], args)
            sections.append(section)
            print(f"{part}: {len(section.items)} items in {section.seconds:.1f} s")
        seconds = time.perf_counter() - start
        record = {"seed": args.seed, "parts": parts, "seconds": round(seconds, 2),
                  "sections": [dataclasses.asdict(section) for section in sections]}
        text = json.dumps(record, indent=2, default=str).replace(str(tmp.resolve()) + "/", "")  # paths relative to --out
        write_text_atomic(tmp / "demo.json", text + "\n")
        write_demo_page(tmp / PAGE, sections, title="vhdiff demo",
                        intro=f"Made by `vhdiff demo` (seed {args.seed}) in {seconds:.0f} s, offline, with the bundled models.")
    print(f"demo done in {time.perf_counter() - start:.1f} s: open {out / PAGE} (every output, with prompts, settings and timings)")
    return 0


def run_toy(args: argparse.Namespace) -> int:
    """The 2-D toy: the core trains and samples a ring of Gaussians (toy2d_samples.png)."""
    from vhdiff.toy import plot_toy_samples, train_toy_demo

    result = train_toy_demo(steps=args.steps, seed=args.seed)
    print(f"trained {args.steps} steps in {result.seconds:.1f} s (final loss {result.loss:.4f})")
    path = plot_toy_samples(result, Path(args.out) / "toy2d_samples.png")
    print(f"wrote {path}")
    return 0
