"""`vhdiff prep smpl-model SOURCE.pkl OUT.npz`: official SMPL / SMPL-H pickles -> plain .npz (vhdiff.data_prep.smpl_model)."""

from __future__ import annotations

import argparse

from vhdiff.data_prep.smpl_model import convert_smpl_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", help="official SMPL / SMPL-H .pkl (or an .npz with pickled entries)"
    )
    parser.add_argument("output", help="the .npz to write, e.g. $VHDIFF_SMPL_DIR/SMPL_NEUTRAL.npz")
    parser.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")


def run(args: argparse.Namespace) -> int:
    report = convert_smpl_model(args.source, args.output, overwrite=args.force)
    print(report.summary())
    return 0
