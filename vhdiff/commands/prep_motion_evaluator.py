"""`vhdiff prep motion-evaluator DATA`: train the text-motion evaluator on a motion dataset.

    vhdiff prep motion-evaluator DATA [--steps 2000] [--batch-size 64] [--out DATA/evaluator]

(vhdiff.motion.metrics.evaluator_training.build_dataset_evaluator does the work.)
"""

from __future__ import annotations

import argparse

from vhdiff.motion.metrics.evaluator import EVALUATOR_DIR
from vhdiff.motion.metrics.evaluator_training import DEFAULT_STEPS, build_dataset_evaluator
from vhdiff.training.distributed import DEVICE_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data", metavar="DATA", help="dataset folder (vhdiff prep synthetic-motion OUT)"
    )
    parser.add_argument(
        "--steps", type=int, default=DEFAULT_STEPS, help=f"training steps (default {DEFAULT_STEPS})"
    )
    parser.add_argument("--batch-size", type=int, default=64, help="clips per step (default 64)")
    parser.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (default 3e-4)")
    parser.add_argument("--seed", type=int, default=0, help="initial weights, batches (default 0)")
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto",
        help="auto (CUDA if present), cpu, cuda",
    )  # fmt: skip
    parser.add_argument("--out", default=None, help=f"output folder (default DATA/{EVALUATOR_DIR})")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    import torch

    from vhdiff.training.distributed import resolve_device

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    record = build_dataset_evaluator(
        args.data, out=args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, device=resolve_device(args.device),
        log=None if args.quiet else (lambda line: print(line, flush=True)),
    )  # fmt: skip
    print(f"saved the evaluator to {record['out']} ({record['seconds']:.0f} s of training)")
    for split, score in record["ground_truth"].items():
        rp = score.get("r_precision")
        if rp:
            print(
                f"  ground truth {split:<5} ({score['num_samples']} clips): R-precision "
                f"top1 {rp[0]:.3f}  top2 {rp[1]:.3f}  top3 {rp[2]:.3f}  "
                f"MM-Dist {score['mm_dist']:.3f}  (chance: 0.031 0.062 0.094)"
            )
        else:
            print(
                f"  ground truth {split}: not measured ({score.get('error', 'fewer than 32 clips')})"
            )
    return 0
