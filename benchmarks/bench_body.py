"""Body-model forward time per frame: smplx path (synthetic SMPL-layout file) and mannequin.

Run: python benchmarks/bench_body.py [--repeats 5] [--threads N]
Prints milliseconds per call and per frame for batch 1 and 120 frames, float32, CPU.
The synthetic SMPL file has the real SMPL sizes (6890 vertices, 24 joints, 207 pose
blend shapes), so the smplx figures stand for a real SMPL file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from vhdiff.body import load_body_model
from vhdiff.body.synthetic import write_synthetic_model


def _time(model, batch: int, repeats: int) -> float:
    g = torch.Generator().manual_seed(0)
    go = torch.randn(batch, 3, generator=g) * 0.3
    bp = torch.randn(batch, 21, 3, generator=g) * 0.3
    transl = torch.randn(batch, 3, generator=g)
    with torch.no_grad():
        model(go, bp, transl=transl)  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            model(go, bp, transl=transl)
            best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        smpl_file = write_synthetic_model(Path(folder) / "SMPL_NEUTRAL.npz", "smpl")
        models = {
            "smplx (synthetic SMPL)": load_body_model(smpl_file),
            "mannequin (wooden)": load_body_model(kind="mannequin"),
        }
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, best of {args.repeats}"
        )
        print(f"{'body':<24}{'vertices':>9}{'batch':>7}{'ms/call':>10}{'ms/frame':>10}")
        for name, model in models.items():
            for batch in (1, 120):
                seconds = _time(model, batch, args.repeats)
                print(
                    f"{name:<24}{model.num_vertices:>9}{batch:>7}"
                    f"{1000 * seconds:>10.2f}{1000 * seconds / batch:>10.2f}"
                )


if __name__ == "__main__":
    main()
