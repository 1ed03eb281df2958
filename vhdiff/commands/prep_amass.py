"""`vhdiff prep amass AMASS_DIR OUT`: AMASS motions -> vhdiff's motion layout (vhdiff.data_prep.amass)."""

from __future__ import annotations

import argparse
from typing import Any

from vhdiff.commands.options import print_skipped
from vhdiff.data_prep.amass import AmassConversionReport, convert_amass


def print_report(report: AmassConversionReport, out: Any) -> None:
    splits = ", ".join(f"{k} {v}" for k, v in report.splits.items())
    print(
        f"converted {len(report.written)} clips to {out} ({splits}); skipped {len(report.skipped)}"
    )
    print_skipped(report.skipped)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "amass", metavar="AMASS_DIR", help="folder of AMASS .npz files (searched recursively)"
    )
    parser.add_argument("out", metavar="OUT", help="output dataset folder")
    parser.add_argument("--fps", type=float, default=20.0, help="target frame rate (default 20)")
    parser.add_argument(
        "--index", help="HumanML3D's index.csv: convert its segments, named by new_name"
    )
    parser.add_argument("--texts", help="folder of ID.txt captions to copy (HumanML3D's texts/)")
    parser.add_argument(
        "--splits", help="folder with train.txt/val.txt/test.txt (default: seeded 80/10/10)"
    )
    parser.add_argument("--mirror", action="store_true", help="also write mirrored copies M<ID>")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random split (default 0)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing dataset")


def run(args: argparse.Namespace) -> int:
    report = convert_amass(
        args.amass, args.out, fps=args.fps, index=args.index, texts=args.texts,
        splits=args.splits, mirror=args.mirror, seed=args.seed, force=args.force,
    )  # fmt: skip
    print_report(report, args.out)
    return 0
