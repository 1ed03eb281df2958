"""Commands made of sub-commands (`vhdiff prep NAME`, `vhdiff eval MODALITY`): one table each,
name -> (module, one-line help); a sub-command module provides `add_arguments(parser)` and
`run(args)` like a top-level command and is imported only when chosen."""

from __future__ import annotations

import argparse
import importlib

__all__ = ["add_subcommand_arguments", "run_subcommand"]


def add_subcommand_arguments(parser: argparse.ArgumentParser, table: dict[str, tuple[str, str]], command: str) -> None:
    """The parser of `vhdiff COMMAND SUBCOMMAND [options]`, listing `table` in its help."""
    listing = "\n".join(f"  {name:<18} {help_}" for name, (_, help_) in table.items())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (parser.description or "") + "\n\nsub-commands:\n" + listing
    parser.usage = f"vhdiff {command} SUBCOMMAND [options]   (vhdiff {command} SUBCOMMAND --help)"
    parser.add_argument("subcommand", metavar="SUBCOMMAND", help="one of: " + ", ".join(table))
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run_subcommand(args: argparse.Namespace, table: dict[str, tuple[str, str]], command: str) -> int:
    """Parse the rest of the command line with the chosen sub-command's parser and run it."""
    name = args.subcommand
    if name not in table:
        raise ValueError(f"unknown {command} sub-command {name!r}; choose one of: {', '.join(table)}")
    module_name, help_ = table[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"vhdiff {command} {name}", description=help_)
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(args.arguments)) or 0)
