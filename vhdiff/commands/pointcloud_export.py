"""`vhdiff pointcloud-export RUN OUT [--fp16] [--raw-weights] [--force]`: a point-cloud run -> a pipeline folder.

RUN: the --out folder of `vhdiff train configs/pointcloud_*.yaml`. OUT is what `vhdiff
pointcloud --checkpoint OUT` and `PointCloudPipeline.from_pretrained(OUT)` read: pipeline.json
(with the training set's normalization) and model/. The rules for RUN and OUT:
vhdiff.commands.export_run.
"""

from __future__ import annotations

import argparse

from vhdiff.commands.export_run import add_arguments, export

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from vhdiff.pointcloud.pipeline import PointCloudPipeline

    return export(args, PointCloudPipeline)
