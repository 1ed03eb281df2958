"""Motion generation on a CPU that other processes keep busy: OpenMP's wait policy.

    python benchmarks/bench_busy_cpu.py [--runs 3] [--hogs N (default: one per core)]

One 6-second motion (DDIM 50, guidance 2.5, bundled model), generated in a fresh process
per setting, first on the machine as it is, then with N busy-looping processes beside it.
Settings: OMP_WAIT_POLICY unset (OpenMP's default: idle threads spin for a while) and
PASSIVE (idle threads sleep; what `vhdiff` sets unless the environment says otherwise).
Prints the seconds per motion of every run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time

CHILD = """
import time
from vhdiff.motion.pipeline import MotionPipeline
pipe = MotionPipeline.from_pretrained()
pipe(["a person walks"], seconds=1.0, steps=2, seed=0)  # warm-up
for i in range({runs}):
    t = time.perf_counter()
    pipe(["a person walks forward and waves"], seconds=6.0, steps=50, guidance=2.5, seed=i)
    print(round(time.perf_counter() - t, 2), flush=True)
"""


def _hog(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _timings(policy: str | None, runs: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(runs=runs)], env=env, check=True, capture_output=True, text=True,
    )
    return [float(line) for line in out.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}")
    for label, hogs in (("as it is", 0), (f"{args.hogs} busy processes beside it", args.hogs)):
        stop = multiprocessing.Event()
        workers = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(hogs)]
        for w in workers:
            w.start()
        time.sleep(1.0 if hogs else 0.0)
        try:
            for policy in (None, "PASSIVE"):
                name = "OMP_WAIT_POLICY unset" if policy is None else f"OMP_WAIT_POLICY={policy}"
                print(f"{label:32s} {name:24s} s per motion: {_timings(policy, args.runs)}", flush=True)
        finally:
            stop.set()
            for w in workers:
                w.join()


if __name__ == "__main__":
    main()
