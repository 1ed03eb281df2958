"""`vhdiff motion-export RUN OUT [--fp16] [--raw-weights]`: a training run -> a pipeline folder.

RUN is the --out folder of `vhdiff train configs/motion_*.yaml` (its newest checkpoint is
used) or one of its checkpoints/step_* folders. OUT is what `vhdiff motion --checkpoint OUT`
and `MotionPipeline.from_pretrained(OUT)` read: pipeline.json, model/, feature_stats.npz.
The EMA weights are exported unless --raw-weights is given.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="training run folder (or a checkpoints/step_* folder)")
    parser.add_argument("out", metavar="OUT", help="pipeline folder to write (replaced if it exists)")
    parser.add_argument("--fp16", action="store_true", help="store the weights as float16 (half the size)")
    parser.add_argument("--raw-weights", action="store_true", help="export the live weights, not the EMA")


def run(args: argparse.Namespace) -> int:
    from vhdiff.motion.pipeline import MotionPipeline

    pipe = MotionPipeline.from_run(args.run, ema=not args.raw_weights)
    path = pipe.save_pretrained(args.out, fp16=args.fp16)
    params = sum(p.numel() for p in pipe.model.parameters())
    print(f"wrote {path} ({params / 1e6:.2f}M parameters, {'fp16' if args.fp16 else 'fp32'}; from {pipe.info['run']})")
    return 0
