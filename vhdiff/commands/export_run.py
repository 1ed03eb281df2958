"""What every `vhdiff *-export RUN OUT` command shares: a training run -> a pipeline folder.

RUN is the --out folder of `vhdiff train` (its newest checkpoint is used) or one of its
checkpoints/step_* folders. OUT is what the modality's command reads with --checkpoint OUT
and its pipeline's `from_pretrained(OUT)`. The EMA weights are exported unless --raw-weights
is given.

OUT must be a new or empty folder; an earlier pipeline folder (one with pipeline.json) is
replaced only with --force. Any other non-empty folder, RUN itself, a folder inside RUN or
one that contains RUN is refused before anything is read or written
(`vhdiff.atomic_io.check_replace_folder`).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="training run folder (or a checkpoints/step_* folder)")
    parser.add_argument(
        "out", metavar="OUT",
        help="pipeline folder to write: new or empty (an earlier pipeline folder with --force)",
    )  # fmt: skip
    parser.add_argument("--fp16", action="store_true", help="store the weights as float16 (half the size)")
    parser.add_argument("--raw-weights", action="store_true", help="export the live weights, not the EMA")
    parser.add_argument("--force", action="store_true", help="replace OUT if it is an earlier pipeline folder")


def export(args: argparse.Namespace, pipeline_class: Any) -> int:
    """Build `pipeline_class` from args.run and save it to args.out (the module docstring)."""
    from pathlib import Path

    from vhdiff.atomic_io import check_replace_folder, check_writable
    from vhdiff.pipelines import PIPELINE_FOLDER

    out = Path(args.out)
    check_replace_folder(out, kind=PIPELINE_FOLDER, force=args.force, protect=[args.run])
    check_writable(out.parent)
    pipe = pipeline_class.from_run(args.run, ema=not args.raw_weights)
    path = pipe.save_pretrained(out, fp16=args.fp16)
    params = sum(p.numel() for p in pipe.model.parameters())
    print(f"wrote {path} ({params / 1e6:.2f}M parameters, {'fp16' if args.fp16 else 'fp32'}; from {pipe.info['run']})")
    return 0
