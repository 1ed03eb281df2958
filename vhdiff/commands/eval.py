"""`vhdiff eval MODALITY`: evaluate generated samples of one modality against a dataset.

    vhdiff eval motion --data DIR [--checkpoint CKPT] ...       (vhdiff.commands.eval_motion)
    vhdiff eval pointcloud --data DIR [--checkpoint DIR] ...    (vhdiff.commands.eval_pointcloud)
    vhdiff eval image --data DIR [--checkpoint DIR] ...         (vhdiff.commands.eval_image)
"""

from __future__ import annotations

import argparse

from vhdiff.commands.subcommands import add_subcommand_arguments, run_subcommand

# modality -> (module, one-line help). Add a modality by adding a line here.
EVAL_COMMANDS: dict[str, tuple[str, str]] = {
    "motion": ("vhdiff.commands.eval_motion", "text-to-motion: FID, R-precision, diversity, ... (HumanML3D's protocol)"),
    "pointcloud": ("vhdiff.commands.eval_pointcloud", "point clouds: MMD, COV, 1-NNA (CD and EMD), JSD (PointFlow's)"),
    "image": ("vhdiff.commands.eval_image", "images: bits/dim (VLB) vs PNG / WebP, FID, pose-family recognition"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_subcommand_arguments(parser, EVAL_COMMANDS, "eval")


def run(args: argparse.Namespace) -> int:
    return run_subcommand(args, EVAL_COMMANDS, "eval")
