"""The text-to-motion quality table: ground truth and our model under several samplers.

    python benchmarks/motion_quality.py --data data/motion_synthetic [--checkpoint DIR] \
        [--device cuda] [--configs ddpm:1000:1,ddpm:1000:2.5,ddim:50:1,ddim:50:2.5,dpm++:20:1,dpm++:20:2.5] \
        [--num-samples N] [--mm-texts 100] [--cleanups smoothing=0.7,lock] [--snap 0] \
        [--guidance-interval 500:999|all] [--out quality.json]

Each config is SAMPLER:STEPS:GUIDANCE[:SPACING] (guidance 1 = the conditional model without
classifier-free guidance; SPACING one of vhdiff.diffusion.SPACINGS, default: the pipeline's). Every row is scored by `vhdiff.motion.metrics.evaluate_motion`
with the dataset's trained evaluator (`vhdiff prep motion-evaluator DATA`) on the test
split, whose captions include held-out templates; the val split is the FID floor.
Prints one table and writes the rows (and timings) to --out as JSON. --cleanups scores each
row's motions again after output clean-ups (vhdiff.motion.postprocess.smoothing, vhdiff.motion.postprocess.foot_lock):
the same motions, so the rows differ by the clean-up alone. --snap 0 scores the raw model
without prompt snapping (the bundled model snaps at 0.5 by default). --guidance-interval
sets the timesteps where guidance acts (default: the pipeline's; "all" = every step).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

DEFAULT_CONFIGS = "ddpm:1000:1,ddpm:1000:2.5,ddim:50:1,ddim:50:2.5,dpm++:20:1,dpm++:20:2.5"


def parse_configs(text: str) -> list[tuple[str, int, float, str | None]]:
    """"dpm++:10:2.5:trailing,ddim:50:2.5" -> [(sampler, steps, guidance, spacing or None)]."""
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) not in (3, 4):
            raise SystemExit(f"--configs: {item!r} must read SAMPLER:STEPS:GUIDANCE[:SPACING]")
        spacing = parts[3] if len(parts) == 4 else None
        out.append((parts[0], int(parts[1]), float(parts[2]), spacing))
    return out


def parse_cleanups(text: str) -> list[tuple[float, bool]]:
    """"smoothing=0.7,lock,smoothing=0.7+lock" -> [(0.7, False), (0.0, True), (0.7, True)]."""
    out = []
    for item in text.split(","):
        smoothing, lock = 0.0, False
        for part in item.strip().split("+"):
            if part == "lock":
                lock = True
            elif part.startswith("smoothing="):
                smoothing = float(part.split("=", 1)[1])
            else:
                raise SystemExit(f"--cleanups: unknown item {part!r}; use smoothing=F, lock or both joined by +")
        out.append((smoothing, lock))
    return out


class RecordingGenerator:
    """Wraps a generate_fn: returns its outputs and keeps them, so that the same motions can be
    scored again after a clean-up (smoothing, foot lock) without generating them again."""

    def __init__(self, generate_fn) -> None:
        self.generate_fn = generate_fn
        self.calls: list[tuple[list[str], list[int], torch.Tensor]] = []

    def __call__(self, captions, lengths):
        out = self.generate_fn(captions, lengths)
        self.calls.append((list(captions), [int(n) for n in lengths], out))
        return out

    def replay(self, smoothing: float, foot_lock: bool):
        """A generate_fn giving the recorded motions, in the recorded order, cleaned up."""
        pipe, calls = self.generate_fn.pipeline, iter(self.calls)

        def generate_fn(captions, lengths):
            recorded, sizes, out = next(calls)
            if recorded != list(captions):
                raise RuntimeError("replayed in another order than recorded")
            frames = [min(n, out.shape[1]) for n in sizes]
            return pipe.renormalize(out, frames, smoothing=smoothing, foot_lock=foot_lock)

        return generate_fn


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
    parser.add_argument(
        "--cleanups", default="",
        help="also score each row's motions after these clean-ups, e.g. smoothing=0.7,lock,"
        "smoothing=0.7+lock (the raw output is always scored; nothing is generated again)",
    )  # fmt: skip
    parser.add_argument(
        "--snap", type=float, default=None, metavar="STRENGTH",
        help="prompt snapping strength in [0, 1] (0 = off: the raw model); default: the "
        "pipeline's (0.5 for the bundled model; models without a caption index never snap)",
    )  # fmt: skip
    parser.add_argument(
        "--guidance-interval", default=None, metavar="T_MIN:T_MAX",
        help="timesteps where classifier-free guidance acts, or all; default: the pipeline's",
    )
    parser.add_argument("--out", default="quality.json")
    args = parser.parse_args()
    cleanups = parse_cleanups(args.cleanups) if args.cleanups else []
    from vhdiff.motion.metrics.evaluator import EVALUATOR_DIR, load_evaluator
    from vhdiff.motion.metrics.report import evaluate_motion, format_table
    from vhdiff.motion.pipeline import load_generate_fn

    evaluator = load_evaluator(Path(args.data) / EVALUATOR_DIR, device=args.device)
    rows, notes, timings = [], [], {}
    for i, (sampler, steps, guidance, spacing) in enumerate(parse_configs(args.configs)):
        name = f"ours {sampler} {steps}" + (f" ({spacing})" if spacing else "") + f", guidance {guidance:g}"
        recorder = RecordingGenerator(load_generate_fn(
            args.checkpoint, device=args.device, seed=args.seed, steps=steps, sampler=sampler,
            guidance=guidance, timestep_spacing=spacing, snap=args.snap,
            guidance_interval=args.guidance_interval,
        ))  # fmt: skip
        active = recorder.generate_fn.config.guidance_interval
        if active is not None and guidance != 1.0:
            name += f" on t {active[0]}-{active[1]}"
        variants = [(name, recorder)] + [
            (name + (f", smoothing {s:g}" if s else "") + (", foot lock" if lock else ""),
             recorder.replay(s, lock))
            for s, lock in cleanups
        ]  # fmt: skip
        for j, (row_name, generate_fn) in enumerate(variants):
            start = time.perf_counter()
            report = evaluate_motion(
                args.data, generate_fn=generate_fn, generator_name=row_name, evaluator=evaluator,
                reference_split="val" if i == j == 0 else None, num_samples=args.num_samples,
                mm_texts=args.mm_texts, mm_repeats=args.mm_repeats, batch_size=args.batch_size,
                seed=args.seed, device=args.device,
            )
            timings[row_name] = round(time.perf_counter() - start, 1)
            rows.extend(report.rows if i == j == 0 else report.rows[-1:])
            if i == j == 0:
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
