"""`vhdiff prep`: dataset builders and model-file converters, one sub-command each.

Sub-commands are registered in PREP_COMMANDS (name -> (module, one-line help)) and
imported only when chosen. A sub-command module provides, like the top-level commands::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int | None: ...

User errors are raised as ValueError / FileNotFoundError / ... and reported by vhdiff.cli.
"""

from __future__ import annotations

import argparse

from vhdiff.commands.subcommands import add_subcommand_arguments, run_subcommand

# name -> (module, one-line help). Add a sub-command by adding a line here.
PREP_COMMANDS: dict[str, tuple[str, str]] = {
    "smpl-model": (
        "vhdiff.commands.prep_smpl_model",
        "convert an official SMPL/SMPL-H .pkl to a plain .npz (no chumpy, no unsafe unpickling)",
    ),
    "motion-evaluator": (
        "vhdiff.commands.prep_motion_evaluator",
        "train the text-motion evaluator on a motion dataset (saved in DATA/evaluator)",
    ),
    "synthetic-motion": (
        "vhdiff.commands.prep_synthetic_motion",
        "write the built-in labelled text-motion set (procedural SMPL motions + captions)",
    ),
    "amass": (
        "vhdiff.commands.prep_amass",
        "convert AMASS .npz motions (optionally HumanML3D's index.csv segments) to vhdiff's layout",
    ),
    "bvh-motion": (
        "vhdiff.commands.prep_bvh_motion",
        "convert BVH mocap (CMU, Mixamo, Biovision names or --mapping) to vhdiff's layout",
    ),
    "human-pointclouds": (
        "vhdiff.commands.prep_human_pointclouds",
        "human point clouds from posed bodies (built-in motions or --motion DIR) or --from a mesh folder",
    ),
    "humanml3d": (
        "vhdiff.commands.prep_humanml3d",
        "convert HumanML3D (captions, splits) + its AMASS sources to vhdiff's SMPL layout",
    ),
    "human-images": ("vhdiff.commands.prep_human_images", "render the built-in captioned human image set"),
    "pose-classifier": (
        "vhdiff.commands.prep_pose_classifier",
        "train the pose-family classifier on a human-images set (saved in DATA/pose_classifier)",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_subcommand_arguments(parser, PREP_COMMANDS, "prep")


def run(args: argparse.Namespace) -> int:
    return run_subcommand(args, PREP_COMMANDS, "prep")
