"""`vhdiff image-export RUN OUT [--fp16] [--raw-weights] [--force]`: an image run -> a pipeline folder.

RUN: the --out folder of `vhdiff train configs/image_humans*.yaml`. OUT is what `vhdiff
image --checkpoint OUT`, `vhdiff edit --checkpoint OUT` and `ImagePipeline.from_pretrained(OUT)`
read: pipeline.json and model/. The rules for RUN and OUT: vhdiff.commands.export_run.
"""

from __future__ import annotations

import argparse

from vhdiff.commands.export_run import add_arguments, export

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from vhdiff.image.pipeline import ImagePipeline

    return export(args, ImagePipeline)
