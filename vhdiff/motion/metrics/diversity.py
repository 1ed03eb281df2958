"""Diversity and MultiModality of Guo et al. 2022 (T2M), on evaluator embeddings.

Diversity (T2M `calculate_diversity`): draw `times` = 300 indices twice, each time
without replacement, and average the Euclidean distance between the paired embeddings.
It measures the spread of a set of motions; the generated value should be close to
the ground truth's.

MultiModality (T2M `calculate_multimodality`): for each caption, R motions generated
from it ([N, R, D]); draw `times` = 10 index pairs (two draws of `times` indices out of
R without replacement, shared by all captions) and average the distances between the
two motions of each pair. It measures how different the motions of one caption are.

Both use `numpy.random.default_rng(seed)`, so a seed gives the same pairs every time.
"""

from __future__ import annotations

import numpy as np

from vhdiff.metrics.inputs import as_embeddings, as_float64

__all__ = ["diversity", "multimodality"]


def diversity(embeddings: object, *, times: int = 300, seed: int = 0) -> float:
    """Mean distance between `times` random pairs of rows of [N, D] embeddings (N >= times)."""
    if times < 1:
        raise ValueError(f"diversity: times must be >= 1, got {times}")
    x = as_embeddings(embeddings, name="embeddings")
    if len(x) < times:
        raise ValueError(
            f"diversity draws {times} samples without replacement but got only {len(x)}; "
            f"evaluate at least {times} motions or pass times <= {len(x)}"
        )
    rng = np.random.default_rng(seed)
    first = rng.choice(len(x), times, replace=False)
    second = rng.choice(len(x), times, replace=False)
    return float(np.linalg.norm(x[first] - x[second], axis=1).mean())


def multimodality(embeddings: object, *, times: int = 10, seed: int = 0) -> float:
    """Mean distance between `times` pairs of motions of the same caption.

    embeddings: [N, R, D], R >= times motions generated for each of N captions.
    """
    x = as_float64(embeddings, name="embeddings")
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(
            "multimodality needs embeddings of shape [N captions, R motions each, D], "
            f"got {tuple(x.shape)}"
        )
    if times < 1 or x.shape[1] < times:
        raise ValueError(
            f"multimodality draws {times} motions per caption without replacement but got "
            f"R = {x.shape[1]}; generate at least {times} motions per caption or lower times"
        )
    rng = np.random.default_rng(seed)
    first = rng.choice(x.shape[1], times, replace=False)
    second = rng.choice(x.shape[1], times, replace=False)
    return float(np.linalg.norm(x[:, first] - x[:, second], axis=2).mean())
