"""`vhdiff prep bvh-motion IN OUT`: BVH motion capture -> vhdiff's motion layout
(vhdiff.data_prep.bvh_motion)."""

from __future__ import annotations

import argparse

from vhdiff.commands.options import print_skipped
from vhdiff.data_prep.bvh_motion import BVHConversionReport, convert_bvh


def print_report(report: BVHConversionReport, out: str) -> None:
    splits = ", ".join(f"{k} {v}" for k, v in report.splits.items())
    reasons = sorted({reason.split(": ", 1)[-1] for _, reason in report.skipped})
    why = f" ({'; '.join(reasons[:3])}{'; ...' if len(reasons) > 3 else ''})" if reasons else ""
    print(
        f"converted {len(report.written)}, skipped {len(report.skipped)}{why} -> {out} ({splits})"
    )
    if report.uncaptioned:
        print(f"  {report.uncaptioned} clips without a caption file got a placeholder caption")
    print_skipped(report.skipped)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", metavar="IN", help="a .bvh file or a folder of them (searched recursively)"
    )
    parser.add_argument("out", metavar="OUT", help="output dataset folder")
    parser.add_argument("--fps", type=float, default=20.0, help="target frame rate (default 20)")
    parser.add_argument(
        "--captions",
        metavar="DIR",
        help="folder of ID.txt captions (ID: the file's name without .bvh)",
    )
    parser.add_argument(
        "--mapping", metavar="FILE",
        help='JSON joint mapping {"BVH joint": "SMPL joint"} (names the built-in tables miss)',
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the 80/10/10 split (default 0)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an earlier output of this command"
    )


def run(args: argparse.Namespace) -> int:
    report = convert_bvh(
        args.source, args.out, fps=args.fps, captions=args.captions, mapping=args.mapping,
        seed=args.seed, force=args.force,
    )  # fmt: skip
    print_report(report, args.out)
    return 0
