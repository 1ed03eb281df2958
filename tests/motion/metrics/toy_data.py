"""A tiny labelled text-motion set in the on-disk layout, and helpers for the tests.

Eight procedural actions on the SMPL skeleton (walk, raise left/right arm, squat, turn,
jump, kick, stand), random amplitude / speed / duration per clip, two captions each.
Stands in for `vhdiff prep synthetic-motion` so these tests only depend on the layout.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from vhdiff.body.smpl_motion import SMPLMotion

FPS = 20.0
STAND_HEIGHT = 1.17  # transl_y that puts the neutral skeleton's feet just above y = 0

ACTIONS: dict[str, tuple[str, str]] = {
    "walk": ("a person walks forward", "someone walks straight ahead"),
    "raise_left": ("a person raises the left arm", "someone lifts their left hand up"),
    "raise_right": ("a person raises the right arm", "someone lifts their right hand up"),
    "squat": ("a person squats down", "someone bends the knees and squats"),
    "turn": ("a person turns around to the left", "someone spins to the left"),
    "jump": ("a person jumps in place", "someone hops up and down"),
    "kick": ("a person kicks with the right leg", "someone kicks forward with the right foot"),
    "stand": ("a person stands still", "someone stays in place"),
}


def toy_motion(action: str, rng: np.random.Generator) -> SMPLMotion:
    """One clip of `action` ([T] frames at FPS, 45..100 frames)."""
    frames = int(rng.integers(45, 100))
    t = np.arange(frames) / FPS
    amp = rng.uniform(0.7, 1.3)
    phase = np.clip(t / t[-1], 0, 1)
    orient = np.zeros((frames, 3))
    pose = np.zeros((frames, 21, 3)) + rng.normal(scale=0.02, size=(1, 21, 3))
    transl = np.zeros((frames, 3))
    transl[:, 1] = STAND_HEIGHT
    if action == "walk":
        swing = 0.5 * amp * np.sin(2 * np.pi * 1.8 * t)
        pose[:, 0, 0], pose[:, 1, 0] = swing, -swing  # hips
        transl[:, 2] = amp * 1.2 * t
    elif action in ("raise_left", "raise_right"):
        side = 1.0 if action == "raise_left" else -1.0
        shoulder = 15 if action == "raise_left" else 16
        pose[:, shoulder, 2] = side * 1.4 * amp * np.sin(np.pi * phase)
    elif action == "squat":
        bend = 1.2 * amp * np.sin(np.pi * phase)
        pose[:, 0, 0] = pose[:, 1, 0] = -bend
        pose[:, 3, 0] = pose[:, 4, 0] = 2 * bend
        pose[:, 6, 0] = pose[:, 7, 0] = -bend
        transl[:, 1] -= 0.35 * bend / 1.2
    elif action == "turn":
        orient[:, 1] = 2.5 * amp * phase
    elif action == "jump":
        transl[:, 1] += 0.25 * amp * np.abs(np.sin(2 * np.pi * 1.2 * t))
    elif action == "kick":
        pose[:, 1, 0] = -1.3 * amp * np.sin(np.pi * phase) ** 2
    return SMPLMotion(
        global_orient=orient, body_pose=pose, transl=transl, betas=np.zeros(10), fps=FPS
    )


def make_toy_dataset(root: Path, *, clips: dict[str, int] | None = None, seed: int = 0) -> Path:
    """Write motions/, texts/, train/val/test.txt and feature_stats.npz under `root`."""
    from vhdiff.motion.data import compute_feature_stats

    clips = clips or {"train": 160, "val": 48, "test": 48}
    rng = np.random.default_rng(seed)
    names = list(ACTIONS)
    root.mkdir(parents=True, exist_ok=True)
    (root / "texts").mkdir(exist_ok=True)
    for split, count in clips.items():
        ids = []
        for i in range(count):
            action = names[i % len(names)]
            clip_id = f"{split}_{i:04d}_{action}"
            toy_motion(action, rng).save(root / "motions" / f"{clip_id}.npz")
            (root / "texts" / f"{clip_id}.txt").write_text("\n".join(ACTIONS[action]) + "\n")
            ids.append(clip_id)
        (root / f"{split}.txt").write_text("\n".join(ids) + "\n")
    compute_feature_stats(root).save(root / "feature_stats.npz")
    return root


class HashTextEncoder:
    """A stand-in sentence encoder: a fixed random unit vector per distinct text (dim 384)."""

    dim = 384
    device = torch.device("cpu")

    def encode(self, texts: list[str]) -> torch.Tensor:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            rows.append(torch.randn(self.dim, generator=torch.Generator().manual_seed(seed)))
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1)
