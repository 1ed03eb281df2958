"""Motion metrics with the protocol of Guo et al. 2022 (T2M, as used by MDM), plus physics.

    from vhdiff.motion.metrics import fid, r_precision, mm_dist, diversity, multimodality
    from vhdiff.motion.metrics import physical_metrics

Distribution and retrieval metrics take embeddings from a text-motion evaluator
(`vhdiff.motion.metrics.evaluator.TextMotionEvaluator`); physical metrics take joint positions
[T, 22, 3] in metres. Everything is computed in float64 numpy; torch tensors are accepted.
"""

from vhdiff.metrics.frechet import GaussianStatistics, embedding_statistics, fid, frechet_distance

from .diversity import diversity, multimodality
from .physical import (
    FOOT_CONTACT_JOINTS,
    PhysicalMetrics,
    foot_skating_ratio,
    ground_penetration,
    jitter,
    physical_metrics,
)
from .retrieval import RPrecision, euclidean_distance_matrix, mm_dist, r_precision

__all__ = [
    "FOOT_CONTACT_JOINTS",
    "GaussianStatistics",
    "PhysicalMetrics",
    "RPrecision",
    "diversity",
    "embedding_statistics",
    "euclidean_distance_matrix",
    "fid",
    "foot_skating_ratio",
    "frechet_distance",
    "ground_penetration",
    "jitter",
    "mm_dist",
    "multimodality",
    "physical_metrics",
    "r_precision",
]
