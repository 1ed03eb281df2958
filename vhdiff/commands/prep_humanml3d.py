"""`vhdiff prep humanml3d HML_DIR OUT --amass DIR`: HumanML3D + its AMASS sources -> vhdiff's SMPL layout (vhdiff.data_prep.humanml3d)."""

from __future__ import annotations

import argparse

from vhdiff.commands.prep_amass import print_report
from vhdiff.data_prep.amass import convert_amass
from vhdiff.data_prep.humanml3d import HumanML3DFolder, index_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("humanml3d", metavar="HML_DIR", help="the HumanML3D/ folder")
    parser.add_argument("out", metavar="OUT", help="output dataset folder (vhdiff layout)")
    parser.add_argument(
        "--amass", required=True, help="AMASS root (the SMPL-H G files index.csv points to)"
    )
    parser.add_argument("--index", help="HumanML3D's index.csv (default: HML_DIR/ or its parent)")
    parser.add_argument("--fps", type=float, default=20.0, help="target frame rate (default 20)")
    parser.add_argument("--no-mirror", action="store_true", help="skip the mirrored M<ID> copies")
    parser.add_argument("--force", action="store_true", help="overwrite an existing dataset")


def run(args: argparse.Namespace) -> int:
    folder = HumanML3DFolder(args.humanml3d)
    report = convert_amass(
        args.amass, args.out, fps=args.fps, index=index_path(folder.root, args.index),
        texts=folder.root / "texts", splits=folder.root, mirror=not args.no_mirror,
        force=args.force,
    )  # fmt: skip
    print_report(report, args.out)
    return 0
