"""Generator factories for `vhdiff eval motion --generator tests.motion.metrics.toy_generators:NAME`.

Each follows the factory signature of `vhdiff.commands.eval_motion` and returns a
`generate_fn(captions, lengths) -> Tensor[B, T, D]` of normalised features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch


def retrieval(
    checkpoint: str | None, *, data: Path, stats: Any, fps: float, device: str, seed: int
) -> Any:
    """A "perfect" generator: for each caption, a random real TRAIN clip with that caption."""
    from vhdiff.motion.data import MotionTextDataset

    train = MotionTextDataset(data, "train", stats=stats)
    by_caption: dict[str, list[torch.Tensor]] = {}
    for i in range(len(train)):
        item = train[i]
        for caption in item["captions"]:
            by_caption.setdefault(caption, []).append(item["features"])
    rng = np.random.default_rng(seed)

    def generate_fn(captions: list[str], lengths: list[int]) -> torch.Tensor:
        total = max(lengths)
        out = torch.zeros(len(captions), total, stats.dim)
        for row, caption in enumerate(captions):
            options = by_caption[caption]
            clip = options[int(rng.integers(len(options)))]
            out[row] = torch.cat([clip] * -(-total // len(clip)))[:total]  # looped to length
        return out

    return generate_fn


def noise(
    checkpoint: str | None, *, data: Path, stats: Any, fps: float, device: str, seed: int
) -> Any:
    """A useless generator: small random features (the normalised mean motion plus noise)."""
    generator = torch.Generator().manual_seed(seed)

    def generate_fn(captions: list[str], lengths: list[int]) -> torch.Tensor:
        return 0.3 * torch.randn(len(captions), max(lengths), stats.dim, generator=generator)

    return generate_fn
