"""`vhdiff prep`: dataset builders and model-file converters, one sub-command each.

Sub-commands are registered in PREP_COMMANDS (name -> (module, one-line help)) and
imported only when chosen. A sub-command module provides, like the top-level commands::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int | None: ...

User errors are raised as ValueError / FileNotFoundError / ... and reported by vhdiff.cli.
"""

from __future__ import annotations

import argparse
import importlib

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
    "humanml3d": (
        "vhdiff.commands.prep_humanml3d",
        "convert HumanML3D (captions, splits) + its AMASS sources to vhdiff's SMPL layout",
    ),
    "human-images": ("vhdiff.commands.prep_human_images", "render the built-in captioned human image set"),
}


def _listing() -> str:
    return "\n".join(f"  {name:<16} {help_}" for name, (_, help_) in PREP_COMMANDS.items())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (parser.description or "") + "\n\nsub-commands:\n" + _listing()
    parser.usage = "vhdiff prep SUBCOMMAND [options]   (vhdiff prep SUBCOMMAND --help)"
    parser.add_argument(
        "subcommand", metavar="SUBCOMMAND", help="one of: " + ", ".join(PREP_COMMANDS)
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    name = args.subcommand
    if name not in PREP_COMMANDS:
        raise ValueError(
            f"unknown prep sub-command {name!r}; choose one of: {', '.join(PREP_COMMANDS)}"
        )
    module_name, help_ = PREP_COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"vhdiff prep {name}", description=help_)
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(args.arguments)) or 0)
