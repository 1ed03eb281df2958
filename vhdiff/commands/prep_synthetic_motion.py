"""`vhdiff prep synthetic-motion OUT`: the built-in labelled text-motion set (vhdiff.data_prep.synthetic_motion)."""

from __future__ import annotations

import argparse

from vhdiff.data_prep.synthetic_motion import write_synthetic_set


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="output folder")
    parser.add_argument("--clips", type=int, default=4000, help="number of clips (default 4000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--fps", type=float, default=20.0, help="frame rate (default 20)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing set")


def run(args: argparse.Namespace) -> int:
    report = write_synthetic_set(
        args.out, clips=args.clips, seed=args.seed, fps=args.fps, force=args.force, progress=True
    )
    splits = ", ".join(f"{k} {v}" for k, v in report["splits"].items())
    print(
        f"wrote {report['clips']} clips ({report['frames'] / report['fps'] / 60:.1f} min of "
        f"motion; {splits}) to {args.out} in {report['seconds']:.1f} s "
        f"({report['clips_per_second']} clips/s)"
    )
    return 0
