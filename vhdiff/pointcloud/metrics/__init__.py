"""Point-cloud generation metrics as PointFlow defines them (also used by PVD and LION).

    from vhdiff.pointcloud.metrics import compute_metrics
    metrics = compute_metrics(samples, references, jsd_normalization="fit_references")
    metrics.to_dict()   # mmd_cd, cov_cd, nna_cd, mmd_emd, cov_emd, nna_emd, jsd, ...

Clouds are tensors [K, N, 3]; everything runs batched in torch on the input's device
(the exact EMD and the approximate EMD's block matchings on the CPU through scipy).
Definitions: METRIC_DEFINITIONS; EMD: `vhdiff.pointcloud.metrics.emd`; JSD's contract:
`vhdiff.pointcloud.metrics.jsd`.
"""

from .compute import (
    JSD_NORMALIZATIONS,
    METRIC_DEFINITIONS,
    METRIC_NAMES,
    PointCloudMetrics,
    compute_metrics,
)
from .distances import chamfer_distance, pairwise_chamfer, pairwise_distances
from .emd import EMD_METHODS, emd_approx, emd_exact, pairwise_emd
from .generative import coverage, minimum_matching_distance, one_nn_accuracy
from .jsd import JSD_REGIONS, JSDResult, jsd_between_sets, occupancy_counts, unit_ball_transform

__all__ = [
    "EMD_METHODS",
    "JSD_NORMALIZATIONS",
    "JSD_REGIONS",
    "METRIC_DEFINITIONS",
    "METRIC_NAMES",
    "JSDResult",
    "PointCloudMetrics",
    "chamfer_distance",
    "compute_metrics",
    "coverage",
    "emd_approx",
    "emd_exact",
    "jsd_between_sets",
    "minimum_matching_distance",
    "occupancy_counts",
    "one_nn_accuracy",
    "pairwise_chamfer",
    "pairwise_distances",
    "pairwise_emd",
    "unit_ball_transform",
]
