"""The evaluation protocol: real clips of a split, a generator, the evaluator -> metric rows.

A text-to-motion model is evaluated through one function (the interface the eval code
calls, so any model plugs in):

    generate_fn(captions: list[str], lengths: list[int]) -> Tensor[B, T, D]

which returns, for each caption, a motion of (at least) `lengths[i]` frames as NORMALISED
features (the dataset's representation, normalised with its FeatureStats), T >= max(lengths);
frames past `lengths[i]` are ignored. The MotionPipeline provides one; so can any code.

Protocol (Guo et al. 2022, T2M, as run by MDM), per row:
- one caption per clip, drawn with a fixed seed from the clip's captions;
- FID between the row's motion embeddings and the reference split's (the test split);
- R-precision top-1/2/3 (batches of 32) and MM-Dist of the captions vs the row's motions;
- Diversity over 300 random pairs (or all N when N < 300; recorded);
- MultiModality (generated rows only): for `mm_texts` captions, `mm_repeats` = 10
  motions each, 10 pairs;
- physical metrics on the joints recovered from the (denormalised) features.

Differences from T2M, stated: one replication (T2M averages 20 with a 95% interval);
`mm_repeats` = 10 (T2M generates 30 and draws 10 pairs; here the 10 pairs are a
permutation of the 10 motions, so some pairs may repeat a motion with itself only when
the two draws coincide); embeddings are unit vectors (see `vhdiff.motion.metrics.evaluator`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vhdiff.metrics.frechet import fid

from .diversity import diversity, multimodality
from .physical import physical_metrics
from .retrieval import mm_dist, r_precision

__all__ = [
    "MM_PAIRS",
    "GenerateFn",
    "MotionEvalRow",
    "MotionSet",
    "generate_motion_set",
    "joints_of",
    "motion_set_from_dataset",
    "score_motion_set",
]

GenerateFn = Callable[[list[str], list[int]], Tensor]
MM_PAIRS = 10  # MultiModality's pairs per caption (T2M's mm_num_times)


@dataclass
class MotionSet:
    """Motions with one caption each: features [N, T, D] normalised, mask [N, T] (True = real),
    lengths [N], captions (N strings), ids (N names, "" for generated motions)."""

    features: Tensor
    mask: Tensor
    lengths: list[int]
    captions: list[str]
    ids: list[str]

    def __len__(self) -> int:
        return len(self.captions)


@dataclass
class MotionEvalRow:
    """One row of the table. None = not computed for this row (see `note`).

    fid: vs the reference split; r_precision: (top1, top2, top3); skating_ratio in [0, 1],
    penetration in m, jitter in m/s^3; diversity_times: pairs actually drawn.
    """

    name: str
    num_samples: int
    fid: float | None
    r_precision: tuple[float, float, float]
    mm_dist: float
    diversity: float
    diversity_times: int
    multimodality: float | None
    skating_ratio: float
    penetration: float
    jitter: float
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["r_precision"] = list(self.r_precision)
        return out


def motion_set_from_dataset(
    dataset: Any, *, num_samples: int | None = None, seed: int = 0
) -> MotionSet:
    """The clips of a `MotionTextDataset` (its first `max_frames` frames outside "train"), one
    caption each drawn with `seed`; `num_samples` < len(dataset) takes a seeded random subset."""
    from vhdiff.motion.data import collate_motion

    rng = np.random.default_rng(seed)
    order = np.arange(len(dataset))
    if num_samples is not None:
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        if num_samples < len(dataset):
            order = np.sort(rng.permutation(len(dataset))[:num_samples])
    batch = collate_motion([dataset[int(i)] for i in order], rng=rng)
    return MotionSet(
        features=batch["x"],
        mask=batch["mask"],
        lengths=[int(n) for n in batch["lengths"]],
        captions=list(batch["captions"]),
        ids=list(batch["ids"]),
    )


def _check_generated(out: Any, captions: Sequence[str], lengths: Sequence[int], dim: int) -> Tensor:
    if not isinstance(out, Tensor) or out.ndim != 3:
        raise ValueError(
            "generate_fn must return a tensor [B, T, D] of normalised features, got "
            f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}"
        )
    if out.shape[0] != len(captions) or out.shape[1] < max(lengths) or out.shape[2] != dim:
        raise ValueError(
            f"generate_fn returned {tuple(out.shape)} for {len(captions)} captions of up to "
            f"{max(lengths)} frames; it must return [B={len(captions)}, T>={max(lengths)}, D={dim}]"
        )
    if not torch.isfinite(out).all():
        raise ValueError("generate_fn returned NaN or infinite features")
    return out.detach().float().cpu()


def generate_motion_set(
    generate_fn: GenerateFn,
    captions: Sequence[str],
    lengths: Sequence[int],
    *,
    feature_dim: int,
    batch_size: int = 64,
) -> MotionSet:
    """Call `generate_fn` on `captions` / `lengths`, `batch_size` at a time; padded MotionSet.

    Batches are formed in order of length (longest first; a stable sort), so each call pads to
    a similar length: on the built-in test split (45-195 frames) that is 35% fewer padded
    frames at batch 128 than in caption order. The rows come back in the captions' order.
    """
    captions, lengths = list(captions), [int(n) for n in lengths]
    if len(captions) != len(lengths) or not captions:
        raise ValueError("generate_motion_set needs one length per caption (and >= 1 caption)")
    total = max(lengths)
    features = torch.zeros(len(captions), total, feature_dim)
    order = sorted(range(len(captions)), key=lambda i: -lengths[i])
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        chunk, sizes = [captions[i] for i in rows], [lengths[i] for i in rows]
        out = _check_generated(generate_fn(chunk, sizes), chunk, sizes, feature_dim)
        for j, (i, n) in enumerate(zip(rows, sizes)):
            features[i, :n] = out[j, :n]
    mask = torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]
    return MotionSet(features, mask, lengths, captions, [""] * len(captions))


def joints_of(motions: MotionSet, *, stats: Any, fps: float) -> np.ndarray:
    """Joint positions [N, T, 22, 3] (zeros past each length) of normalised features."""
    from vhdiff.motion.representation.smpl import joints_from_features

    joints = np.zeros((len(motions), motions.features.shape[1], 22, 3), dtype=np.float64)
    raw = stats.denormalize(motions.features)
    for i, n in enumerate(motions.lengths):
        joints[i, :n] = joints_from_features(raw[i, :n], fps=fps)
    return joints


def score_motion_set(
    name: str,
    motions: MotionSet,
    *,
    evaluator: Any,
    stats: Any,
    fps: float,
    reference_emb: Tensor | None,
    mm_emb: Tensor | None = None,
    seed: int = 0,
    note: str = "",
) -> tuple[MotionEvalRow, Tensor]:
    """Score one set of captioned motions; returns the row and the motion embeddings [N, E].

    reference_emb: motion embeddings of the reference split for FID (None: no FID).
    mm_emb: [n, R, E] embeddings of R motions per caption for MultiModality (None: no MM).
    """
    if len(motions) < 32:
        raise ValueError(
            f"{name}: {len(motions)} motions, but R-precision ranks batches of 32; "
            "evaluate at least 32 clips (--num-samples >= 32, a larger split)"
        )
    motion_emb = evaluator.embed_motions(motions.features, motions.mask)
    text_emb = evaluator.embed_texts(motions.captions)
    times = min(300, len(motions))
    joints = joints_of(motions, stats=stats, fps=fps)
    physical = physical_metrics(joints, fps=fps, lengths=motions.lengths)
    rp = r_precision(text_emb, motion_emb, seed=seed)
    row = MotionEvalRow(
        name=name,
        num_samples=len(motions),
        fid=None if reference_emb is None else fid(motion_emb, reference_emb),
        r_precision=(rp.top1, rp.top2, rp.top3),
        mm_dist=mm_dist(text_emb, motion_emb),
        diversity=diversity(motion_emb, times=times, seed=seed),
        diversity_times=times,
        multimodality=None if mm_emb is None else multimodality(mm_emb, times=MM_PAIRS, seed=seed),
        skating_ratio=physical.skating_ratio,
        penetration=physical.penetration,
        jitter=physical.jitter,
        note=note,
    )
    return row, motion_emb
