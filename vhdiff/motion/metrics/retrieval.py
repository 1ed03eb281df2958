"""Text-motion retrieval metrics of Guo et al. 2022 (T2M): R-precision and MM-Dist.

Both work on paired embeddings in the evaluator's shared space: row i of `text_emb` is
the caption of the motion in row i of `motion_emb`.

R-precision (T2M `calculate_R_precision`, as in MDM's `eval_humanml.py`): the pairs are
shuffled (fixed seed) and cut into batches of `batch_size` = 32; a final batch with fewer
pairs is dropped, as T2M's evaluation loader does (`drop_last=True`). In each batch,
every caption ranks the batch's 32 motions by Euclidean distance; top-k is the fraction
of captions whose own motion is among the k nearest. With unrelated embeddings the
expected top-k is k / 32; ties are broken by position (stable sort), as in T2M.
`query="motion"` ranks the other way (each motion ranks the batch's 32 captions).

MM-Dist (T2M's "matching score"): the mean Euclidean distance between each caption and
its own motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from vhdiff.metrics.inputs import as_embeddings

__all__ = ["RPrecision", "euclidean_distance_matrix", "mm_dist", "r_precision"]


@dataclass(frozen=True)
class RPrecision:
    """Top-k retrieval accuracies: `top_k[k - 1]` is top-k (k = 1 .. len(top_k)).

    num_batches: how many full batches of `batch_size` pairs were ranked.
    """

    top_k: tuple[float, ...]
    batch_size: int
    num_batches: int

    @property
    def top1(self) -> float:
        return self.top_k[0]

    @property
    def top2(self) -> float:
        return self.top_k[1]

    @property
    def top3(self) -> float:
        return self.top_k[2]


def euclidean_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances [N, M] between rows of a [N, D] and b [M, D]."""
    squared = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return np.sqrt(np.clip(squared, 0.0, None))


def _paired(text_emb: object, motion_emb: object, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    text = as_embeddings(text_emb, name="text_emb", min_rows=min_rows)
    motion = as_embeddings(motion_emb, name="motion_emb", min_rows=min_rows)
    if text.shape != motion.shape:
        raise ValueError(
            f"text_emb {text.shape} and motion_emb {motion.shape} must be paired row by row "
            "with the same shape (row i = a caption and its motion)"
        )
    return text, motion


def r_precision(
    text_emb: object,
    motion_emb: object,
    *,
    batch_size: int = 32,
    top_k: int = 3,
    seed: int | None = 0,
    query: Literal["text", "motion"] = "text",
) -> RPrecision:
    """R-precision top-1 .. top-`top_k` of paired [N, D] embeddings (module docstring).

    seed: the shuffle before batching (None keeps the given order). Needs N >= batch_size.
    query: "text" (T2M: each caption ranks the motions) or "motion" (each motion ranks
    the captions).
    """
    if query not in ("text", "motion"):
        raise ValueError(f"query must be 'text' or 'motion', got {query!r}")
    if batch_size < 2 or not 1 <= top_k <= batch_size:
        raise ValueError(
            f"r_precision needs batch_size >= 2 and 1 <= top_k <= batch_size; "
            f"got batch_size={batch_size}, top_k={top_k}"
        )
    text, motion = _paired(text_emb, motion_emb, min_rows=batch_size)
    if query == "motion":
        text, motion = motion, text
    order = np.arange(len(text))
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(text))
    num_batches = len(text) // batch_size
    hits = np.zeros(top_k)
    for b in range(num_batches):
        index = order[b * batch_size : (b + 1) * batch_size]
        distances = euclidean_distance_matrix(text[index], motion[index])
        ranking = np.argsort(distances, axis=1, kind="stable")
        # rank of the true motion for each caption (0 = nearest)
        rank = np.argmax(ranking == np.arange(batch_size)[:, None], axis=1)
        hits += [(rank < k).sum() for k in range(1, top_k + 1)]
    total = num_batches * batch_size
    return RPrecision(
        top_k=tuple(float(h / total) for h in hits), batch_size=batch_size, num_batches=num_batches
    )


def mm_dist(text_emb: object, motion_emb: object) -> float:
    """Mean Euclidean distance between each caption embedding and its motion's (MM-Dist)."""
    text, motion = _paired(text_emb, motion_emb, min_rows=1)
    return float(np.linalg.norm(text - motion, axis=1).mean())
