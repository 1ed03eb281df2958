"""`vhdiff prep pose-classifier DATA`: train the pose-family classifier on a human-images set.

    vhdiff prep pose-classifier DATA [--steps 1500] [--seed 0] [--out DATA/pose_classifier]

(vhdiff.image.metrics.classifier.build_pose_classifier does the work; `vhdiff eval image`
uses the result to score text-conditional samples.)
"""

from __future__ import annotations

import argparse

from vhdiff.image.metrics.classifier import CLASSIFIER_DIR, DEFAULT_STEPS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DATA", help="a human-images set (vhdiff prep human-images OUT)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"training steps (default {DEFAULT_STEPS})")
    parser.add_argument("--seed", type=int, default=0, help="initial weights, batches (default 0)")
    parser.add_argument("--out", default=None, help=f"output folder (default DATA/{CLASSIFIER_DIR})")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')


def run(args: argparse.Namespace) -> int:
    from vhdiff.image.metrics.classifier import build_pose_classifier

    record = build_pose_classifier(
        args.data, steps=args.steps, seed=args.seed, out=args.out, device=args.device,
        log=lambda line: print(line, flush=True),
    )
    scores = ", ".join(f"{split} {100 * acc:.1f}%" for split, acc in record.accuracy.items())
    print(f"saved the pose classifier ({len(record.families)} families) to {record.out} after "
          f"{record.seconds:.0f} s of training; accuracy on real renders: {scores}")
    return 0
