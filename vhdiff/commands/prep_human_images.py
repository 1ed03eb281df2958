"""`vhdiff prep human-images OUT`: rendered, captioned human images (vhdiff.data_prep.human_images)."""

from __future__ import annotations

import argparse
import sys

from vhdiff.data_prep.human_images import SIZES, write_human_images


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "out", metavar="OUT", help="output folder (missing, empty, or an earlier set with --force)"
    )
    parser.add_argument("--num", type=int, default=2000, help="number of images (default 2000)")
    parser.add_argument(
        "--size",
        type=int,
        default=64,
        help=f"image side in pixels: {' or '.join(map(str, SIZES))} (default 64)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--force", action="store_true", help="replace an earlier human-images set at OUT"
    )


def _progress(done: int, total: int) -> None:
    if done % 500 == 0 or done == total:
        print(f"  {done}/{total} images", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    summary = write_human_images(
        args.out, num=args.num, size=args.size, seed=args.seed, force=args.force, progress=_progress
    )
    splits = ", ".join(f"{name} {count}" for name, count in summary.splits.items())
    print(
        f"wrote {summary.num} images of {summary.size}x{summary.size} ({splits}; "
        f"{len(summary.families)} pose families) to {args.out} in {summary.seconds:.1f} s "
        f"({summary.images_per_second:.1f} images/s)"
    )
    return 0
