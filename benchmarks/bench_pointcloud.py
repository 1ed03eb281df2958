"""Point-cloud sampling speed: 16 clouds x 2048 points with the model's own settings.

Run: python benchmarks/bench_pointcloud.py [--checkpoint DIR] [--runs 5] [--num 16] [--points 2048]

Prints, for the bundled model (or --checkpoint):

1. cold, model load included: `PointCloudPipeline.from_pretrained()` + one call of --num
   clouds, in a fresh subprocess (so imports and the first call's allocations count), and
   `vhdiff pointcloud --num N --out DIR` end to end in a fresh subprocess (+ PLY files and
   the grid picture), both as wall time of the child (interpreter start included);
2. warm: the model's settings against reference settings (DDIM 50 and DDIM 100 on the
   model's grid), --runs interleaved rounds, medians, and each one's ratio to the model's;
3. the machine (CPU count, torch threads).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from vhdiff.pointcloud.pipeline import PointCloudPipeline

REFERENCES = {"ddim 50": {"sampler": "ddim", "steps": 50}, "ddim 100": {"sampler": "ddim", "steps": 100}}


def _child(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="pipeline folder (default: bundled)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--points", type=int, default=2048)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    folder = repr(args.checkpoint)
    cold = _child(
        "import time; t=time.perf_counter(); from vhdiff.pointcloud.pipeline import PointCloudPipeline; "
        f"p=PointCloudPipeline.from_pretrained({folder}); p({args.num}, seed=0, points={args.points})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        command = ["pointcloud", "--num", str(args.num), "--points", str(args.points), "--seed", "0",
                   "--out", f"{tmp}/out"] + (["--checkpoint", args.checkpoint] if args.checkpoint else [])
        cli = _child(f"from vhdiff.cli import main; main({command!r})")
    pipe = PointCloudPipeline.from_pretrained(args.checkpoint)
    config = pipe.generation
    print(f"model settings: {config.sampler} {config.resolved_steps} steps, {config.resolved_spacing} grid, "
          f"guidance {config.guidance}")
    print(f"1. cold (fresh process, model load included): load + {args.num} x {args.points} points "
          f"{cold:.2f} s; `vhdiff pointcloud` with PLY + grid {cli:.2f} s")
    settings = {"model": {}, **REFERENCES}
    times: dict[str, list[float]] = {name: [] for name in settings}
    pipe(2, seed=0, points=64)  # warm-up
    for _ in range(args.runs):
        for name, overrides in settings.items():
            start = time.perf_counter()
            pipe(args.num, seed=0, points=args.points, **overrides)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["model"])
    print(f"2. warm, median of {args.runs} interleaved rounds:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"   {name:<10} {median:6.2f} s  ({median / base:.2f}x the model's settings)")


if __name__ == "__main__":
    main()
