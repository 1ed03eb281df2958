"""`vhdiff motion-export RUN OUT [--fp16] [--raw-weights] [--force]`: a text-to-motion run -> a pipeline folder.

RUN: the --out folder of `vhdiff train configs/motion_*.yaml`. OUT is what `vhdiff motion
--checkpoint OUT` and `MotionPipeline.from_pretrained(OUT)` read: pipeline.json, model/,
feature_stats.npz. The rules for RUN and OUT: vhdiff.commands.export_run.
"""

from __future__ import annotations

import argparse

from vhdiff.commands.export_run import add_arguments, export

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from vhdiff.motion.pipeline import MotionPipeline

    return export(args, MotionPipeline)
