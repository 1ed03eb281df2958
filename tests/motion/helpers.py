"""Small motions and dataset folders for the motion-data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.data import compute_feature_stats


def smooth_motion(frames: int = 120, *, seed: int = 0, fps: float = 20.0) -> SMPLMotion:
    """A smooth, turning, leaning motion with random joint swings (float64)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    phase = rng.uniform(0, 2 * np.pi, size=(1, 21, 3))
    amp = rng.uniform(0.05, 0.5, size=(1, 21, 3))
    body_pose = amp * np.sin(2.0 * t[:, None, None] + phase)
    global_orient = np.stack(
        (0.2 * np.sin(t + seed), 0.8 * t + rng.uniform(-3, 3), 0.1 * np.cos(2 * t)), axis=1
    )
    transl = np.stack((np.sin(0.7 * t) + seed, 0.9 + 0.05 * np.sin(3 * t), 0.6 * t), axis=1)
    return SMPLMotion(
        global_orient=global_orient, body_pose=body_pose, transl=transl,
        betas=rng.normal(size=10) * 0.5, fps=fps,
    )  # fmt: skip


def write_dataset(root: Path, splits: dict[str, int], *, frames: int = 60) -> dict[str, list[str]]:
    """Write ``splits`` (name -> clip count) of smooth motions with two captions each and
    feature stats of the train split; returns the IDs per split."""
    ids: dict[str, list[str]] = {}
    seed = 0
    for split, count in splits.items():
        ids[split] = []
        for _ in range(count):
            clip_id = f"{split}_{seed:03d}"
            smooth_motion(frames + seed, seed=seed).save(root / "motions" / f"{clip_id}.npz")
            (root / "texts").mkdir(parents=True, exist_ok=True)
            (root / "texts" / f"{clip_id}.txt").write_text(
                f"a person moves number {seed}\nsomeone does motion {seed}\n"
            )
            ids[split].append(clip_id)
            seed += 1
        (root / f"{split}.txt").write_text("\n".join(ids[split]) + "\n")
    compute_feature_stats(root).save(root / "feature_stats.npz")
    return ids
