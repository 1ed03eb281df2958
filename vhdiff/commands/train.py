"""`vhdiff train CONFIG [key=value ...] [--resume] [--device auto|cpu|cuda] [--seed S] [--out DIR]`.

Builds the model, diffusion, dataset and (optional) text encoder a YAML config names
(`vhdiff.config.build_trainer`) and runs `vhdiff.training.Trainer`. CONFIG is a bundled
config's name (``vhdiff train --list``) or a YAML file. Overrides use dotted keys:
``vhdiff train toy2d trainer.max_steps=100 trainer.lr=1e-3``. ``--print`` writes the resolved
config (overrides applied) to stdout instead of training: a file to copy and edit.

On many GPUs or nodes, launch the same command with torchrun, e.g.
``torchrun --nproc_per_node 4 --no-python vhdiff train configs/motion.yaml``;
see `vhdiff.training.distributed` for multi-node rendezvous flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vhdiff.training.distributed import DEVICE_CHOICES

if TYPE_CHECKING:
    from vhdiff.training import Trainer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config", nargs="?",
        help="a bundled config's name (see --list), e.g. motion_synthetic, or a YAML file path",
    )
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value",
        help="dotted overrides of config values, e.g. trainer.max_steps=100",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue from the newest complete checkpoint in the output directory",
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="default: auto")
    parser.add_argument("--seed", type=int, default=None, help="overrides trainer.seed (0 .. 2**32 - 1)")
    parser.add_argument("--out", default=None, help="output directory (overrides trainer.out_dir)")
    parser.add_argument("--list", action="store_true", help="list the bundled configs and exit")
    parser.add_argument(
        "--print", action="store_true",
        help="write the resolved config (overrides applied) to stdout and exit; relative paths "
        "in it are relative to the working directory",
    )
    # key=value overrides may come before or after the options (`... a=1 --resume b=2`)
    parser.parse_args = parser.parse_intermixed_args  # type: ignore[method-assign]


def resume(trainer: Trainer, checkpoints: Path, *, main: bool) -> None:
    """Load the newest complete checkpoint (every rank calls it); rank 0 says which one, and
    warns about each step folder it skipped (one without meta.json, which is kept)."""
    from vhdiff.training.checkpoint import skipped_checkpoints

    if main:
        for folder in skipped_checkpoints(checkpoints):
            print(
                f"vhdiff train: warning: skipping {folder}: it has no meta.json (an incomplete or "
                "damaged checkpoint that no save finished); it is kept, nothing is deleted (a save "
                "at its step renames it to NAME.incomplete first)",
                file=sys.stderr,
            )
    found = trainer.resume_latest()
    if not main:
        return
    if found is None:
        print(f"vhdiff train: no checkpoint in {checkpoints} yet; starting fresh", file=sys.stderr)
    else:
        print(f"resumed from step {trainer.step} ({found})")


def print_bundled_configs() -> None:
    """One line per bundled config: its name and the first line of its comment."""
    from vhdiff.bundled_configs import bundled_configs, config_summary

    configs = bundled_configs()
    width = max((len(name) for name in configs), default=0)
    for name, path in configs.items():
        print(f"{name:<{width}}  {config_summary(path)}")


def run(args: argparse.Namespace) -> int:
    from vhdiff.atomic_io import check_writable
    from vhdiff.config import build_trainer, config_to_yaml, import_config_modules, load_config
    from vhdiff.training import cleanup_distributed, init_distributed, latest_checkpoint

    if args.list:
        print_bundled_configs()
        return 0
    if args.config is None:
        raise ValueError(
            "name a config: a bundled one (`vhdiff train --list` shows them) or a YAML file path"
        )
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"trainer.seed={args.seed}")
    if args.out is not None:
        overrides.append(f"trainer.out_dir={args.out}")
    cfg = load_config(args.config, overrides)
    if args.print:
        sys.stdout.write(config_to_yaml(cfg))
        return 0
    import_config_modules(cfg)
    checkpoints = Path(cfg.trainer.out_dir) / "checkpoints"
    if not args.resume and latest_checkpoint(checkpoints) is not None:
        raise FileExistsError(
            f"{checkpoints} already holds checkpoints; pass --resume to continue that run "
            "or choose another --out"
        )
    check_writable(cfg.trainer.out_dir)  # a real write, before any model is built
    ctx = init_distributed(args.device)
    try:
        trainer = build_trainer(cfg, context=ctx)
        if args.resume:
            resume(trainer, checkpoints, main=ctx.is_main)
        result = trainer.fit()
        if ctx.is_main:
            loss = "n/a" if result.last_loss is None else f"{result.last_loss:.4g}"
            print(f"trained to step {result.step} (loss {loss}); checkpoint: {result.checkpoint}")
    finally:
        cleanup_distributed()
    return 0
