"""Text-motion evaluator: training time per step, and evaluation time for 1,000 clips.

Run: python benchmarks/bench_motion_eval.py [--data DIR] [--steps 30] [--clips 1000] [--threads N]

1. Training: `train_evaluator` with the default model (batch 64) for --steps steps; prints
   seconds per step and the projection for the default number of steps. With --data (a
   dataset folder, e.g. from `vhdiff prep synthetic-motion`) it trains on its train split
   and includes the one-off MiniLM encoding of all captions; without, on random features
   of 40-196 frames with 500 distinct captions written in memory as a dataset.
2. Evaluation of --clips clips (random normalised features, 40-196 frames, distinct
   captions) with the default-size evaluator: motion embeddings, caption embeddings
   (MiniLM + head), joints from features (FK), physical metrics, then FID / R-precision /
   MM-Dist / Diversity, and the whole `score_motion_set` row.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


class _RandomDataset:
    """Stands in for MotionTextDataset: random normalised features, one caption per clip."""

    def __init__(self, clips: int, dim: int = 140, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.feature_dim = dim
        self.items = [
            {
                "features": torch.from_numpy(rng.normal(size=(int(n), dim)).astype(np.float32)),
                "length": int(n),
                "captions": [_caption(i)],
                "id": f"clip{i:05d}",
            }
            for i, n in enumerate(rng.integers(40, 197, size=clips))
        ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


def _caption(i: int) -> str:
    verbs = ("walks", "runs", "jumps", "waves", "squats", "turns", "kicks", "bows")
    return f"a person {verbs[i % 8]} {['slowly', 'quickly', 'twice'][i % 3]} for {i % 97} seconds"


def _timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"  {label:<50}{time.perf_counter() - start:>9.2f} s")
    return out


def bench_training(data: str | None, steps: int) -> None:
    from vhdiff.motion.metrics.evaluator_training import DEFAULT_STEPS, train_evaluator

    if data:
        from vhdiff.motion.data import MotionTextDataset

        dataset = MotionTextDataset(data, "train")
        source = f"{data} train split ({len(dataset)} clips)"
    else:
        dataset = _RandomDataset(500)
        source = "random features, 500 clips / captions"
    print(f"training, default model, batch 64, {steps} steps on {source}")
    result = train_evaluator(dataset, steps=steps, batch_size=64)
    per_step = (result.seconds - result.text_seconds) / steps
    params = sum(p.numel() for p in result.evaluator.parameters())
    print(f"  parameters                                        {params / 1e6:>9.2f} M")
    print(f"  caption encoding (MiniLM, once)                   {result.text_seconds:>9.2f} s")
    print(f"  seconds per step                                  {per_step:>9.3f} s")
    print(f"  projected {DEFAULT_STEPS} steps{'':<34}{DEFAULT_STEPS * per_step / 60:>9.1f} min")


def bench_evaluation(clips: int) -> None:
    from vhdiff.motion.metrics import diversity, fid, mm_dist, physical_metrics, r_precision
    from vhdiff.motion.metrics.evaluator import TextMotionEvaluator
    from vhdiff.motion.metrics.protocol import joints_of, motion_set_from_dataset, score_motion_set
    from vhdiff.motion.representation.stats import FeatureStats

    dataset = _RandomDataset(clips, seed=1)
    motions = motion_set_from_dataset(dataset)
    stats = FeatureStats(mean=np.zeros(140), std=np.ones(140))
    evaluator = TextMotionEvaluator().eval()
    print(f"evaluation of {clips} clips (40-196 frames, mean {np.mean(motions.lengths):.0f})")
    _timed("load MiniLM", lambda: evaluator.text_encoder)
    motion_emb = _timed(
        "motion embeddings", evaluator.embed_motions, motions.features, motions.mask
    )
    text_emb = _timed("caption embeddings (MiniLM + head)", evaluator.embed_texts, motions.captions)
    joints = _timed("joints from features (FK)", joints_of, motions, stats=stats, fps=20.0)
    _timed("physical metrics", physical_metrics, joints, fps=20.0, lengths=motions.lengths)

    def statistics():
        fid(motion_emb, motion_emb.flip(0))
        r_precision(text_emb, motion_emb)
        mm_dist(text_emb, motion_emb)
        diversity(motion_emb)

    _timed("FID + R-precision + MM-Dist + Diversity", statistics)
    evaluator.text_encoder.clear_memory_cache()
    for label in (
        "whole row: score_motion_set (captions uncached)",
        "whole row again (captions in the LRU cache)",
    ):
        _timed(
            label, score_motion_set, "bench", motions, evaluator=evaluator, stats=stats,
            fps=20.0, reference_emb=motion_emb,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="dataset folder to train on")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    if not args.skip_training:
        bench_training(args.data, args.steps)
    bench_evaluation(args.clips)


if __name__ == "__main__":
    main()
