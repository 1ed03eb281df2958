"""The text-to-motion quality table: ground truth and our model under several samplers.

    python benchmarks/motion_quality.py --data data/motion_synthetic [--checkpoint DIR] \
        [--device cuda] [--configs ddpm:1000:1,ddpm:1000:2.5,ddim:50:1,ddim:50:2.5,dpm++:20:1,dpm++:20:2.5] \
        [--num-samples N] [--mm-texts 100] [--smoothing 0.7] [--foot-lock] [--out quality.json]

Each config is SAMPLER:STEPS:GUIDANCE (guidance 1 = the conditional model without
classifier-free guidance). Every row is scored by `vhdiff.motion.metrics.evaluate_motion`
with the dataset's trained evaluator (`vhdiff prep motion-evaluator DATA`) on the test
split, whose captions include held-out templates; the val split is the FID floor.
Prints one table and writes the rows (and timings) to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

DEFAULT_CONFIGS = "ddpm:1000:1,ddpm:1000:2.5,ddim:50:1,ddim:50:2.5,dpm++:20:1,dpm++:20:2.5"


def parse_configs(text: str) -> list[tuple[str, int, float]]:
    out = []
    for item in text.split(","):
        sampler, steps, guidance = item.strip().split(":")
        out.append((sampler, int(steps), float(guidance)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", default=None, help="pipeline folder or run (default: bundled)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS)
    parser.add_argument("--num-samples", type=int, default=None)
    parser.add_argument("--mm-texts", type=int, default=100)
    parser.add_argument("--mm-repeats", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoothing", type=float, default=0.0, help="output smoothing, frames (0: raw)")
    parser.add_argument("--foot-lock", action="store_true", help="hold planted feet still (off: raw output)")
    parser.add_argument("--out", default="quality.json")
    args = parser.parse_args()

    from vhdiff.motion.evaluator import EVALUATOR_DIR, load_evaluator
    from vhdiff.motion.metrics.report import evaluate_motion, format_table
    from vhdiff.motion.pipeline import load_generate_fn

    evaluator = load_evaluator(Path(args.data) / EVALUATOR_DIR, device=args.device)
    rows, notes, timings = [], [], {}
    for i, (sampler, steps, guidance) in enumerate(parse_configs(args.configs)):
        name = f"ours {sampler} {steps}, guidance {guidance:g}"
        name += f", smoothing {args.smoothing:g}" if args.smoothing else ""
        name += ", foot lock" if args.foot_lock else ""
        generate_fn = load_generate_fn(
            args.checkpoint, device=args.device, seed=args.seed, steps=steps, sampler=sampler,
            guidance=guidance, smoothing=args.smoothing, foot_lock=args.foot_lock,
        )
        start = time.perf_counter()
        report = evaluate_motion(
            args.data, generate_fn=generate_fn, generator_name=name, evaluator=evaluator,
            reference_split="val" if i == 0 else None, num_samples=args.num_samples,
            mm_texts=args.mm_texts, mm_repeats=args.mm_repeats, batch_size=args.batch_size,
            seed=args.seed, device=args.device,
        )
        timings[name] = round(time.perf_counter() - start, 1)
        rows.extend(report.rows if i == 0 else report.rows[-1:])
        if i == 0:
            notes = report.notes[:1]
        print(format_table(rows[-1:]), flush=True)
        _write(args.out, rows, notes, timings)  # after every row: a time-limited run keeps what it measured
    machine = f"{platform.machine()}, {torch.cuda.get_device_name() if args.device.startswith('cuda') else 'CPU'}"
    notes.append(f"machine: {machine}; seconds per row (generation + scoring): {timings}")
    print()
    print(format_table(rows, notes))
    _write(args.out, rows, notes, timings)
    print(f"wrote {args.out}")


def _write(path: str, rows: list, notes: list[str], timings: dict[str, float]) -> None:
    Path(path).write_text(json.dumps(
        {"rows": [r.as_dict() for r in rows], "notes": notes, "seconds": timings}, indent=2
    ) + "\n")


if __name__ == "__main__":
    main()
