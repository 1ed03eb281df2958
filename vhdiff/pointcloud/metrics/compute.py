"""All point-cloud generation metrics in one call: `compute_metrics` -> `PointCloudMetrics`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import Tensor

from .distances import pairwise_chamfer
from .emd import EMD_METHODS, pairwise_emd
from .generative import coverage, minimum_matching_distance, one_nn_accuracy
from .inputs import check_clouds
from .jsd import jsd_between_sets, unit_ball_transform

__all__ = [
    "JSD_NORMALIZATIONS",
    "METRIC_DEFINITIONS",
    "METRIC_NAMES",
    "PointCloudMetrics",
    "compute_metrics",
]

# The one place the columns are defined (units: Chamfer in squared cloud units, EMD in
# cloud units; published tables often scale them by 10^3 or 10^2).
METRIC_DEFINITIONS: dict[str, str] = {
    "mmd_cd": "MMD-CD: mean over references of the Chamfer distance (mean squared "
    "nearest-neighbour distance each way, summed) to the nearest sample; lower is better",
    "cov_cd": "COV-CD: share of references that are some sample's Chamfer-nearest reference; "
    "higher is better",
    "nna_cd": "1-NNA-CD: leave-one-out 1-NN accuracy on samples and references under Chamfer; "
    "0.5 is ideal",
    "mmd_emd": "MMD-EMD: mean over references of the EMD (mean Euclidean distance under the "
    "optimal one-to-one matching) to the nearest sample; lower is better",
    "cov_emd": "COV-EMD: share of references that are some sample's EMD-nearest reference; "
    "higher is better",
    "nna_emd": "1-NNA-EMD: leave-one-out 1-NN accuracy on samples and references under EMD; "
    "0.5 is ideal",
    "jsd": "JSD: Jensen-Shannon divergence (bits) between the sets' occupancy of a 28^3 grid in "
    "the ball of radius 0.5 (PointFlow); lower is better",
}
METRIC_NAMES: tuple[str, ...] = tuple(METRIC_DEFINITIONS)

JSD_NORMALIZATIONS: tuple[str, ...] = ("as_given", "fit_references")


@dataclass(frozen=True)
class PointCloudMetrics:
    """The metrics of METRIC_DEFINITIONS (None where not computed) and how they were computed.

    emd_method: "exact", "approx(block_size=B)" or "none". jsd_normalization: "as_given",
    "fit_references" or "none". jsd_*_outside: points outside the JSD grid's ball after the
    normalisation (counted, assigned to the nearest grid point). seconds: wall time of the
    Chamfer, EMD and JSD parts.
    """

    mmd_cd: float
    cov_cd: float
    nna_cd: float
    mmd_emd: float | None
    cov_emd: float | None
    nna_emd: float | None
    jsd: float | None
    emd_method: str
    jsd_normalization: str
    num_samples: int
    num_references: int
    jsd_samples_outside: int
    jsd_references_outside: int
    seconds_cd: float
    seconds_emd: float
    seconds_jsd: float

    def to_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


def _generative(sr: Tensor, ss: Tensor, rr: Tensor) -> tuple[float, float, float]:
    return minimum_matching_distance(sr), coverage(sr), one_nn_accuracy(sr, ss, rr)


def compute_metrics(
    samples: Tensor,
    references: Tensor,
    *,
    jsd_normalization: Literal["as_given", "fit_references"] | None,
    emd: Literal["approx", "exact", "none"] = "approx",
    emd_block_size: int = 16,
    batch_size: int = 64,
    device: torch.device | str | None = None,
) -> PointCloudMetrics:
    """MMD, COV, 1-NNA (Chamfer and EMD) and JSD of samples [S, N, 3] against references [R, M, 3].

    jsd_normalization (required: human clouds in metres are not in PointFlow's frame):
      "as_given": the clouds are already centred in the ball of radius 0.5;
      "fit_references": `unit_ball_transform(references)` is applied to both sets;
      None: no JSD.
    emd: "approx" (`emd_approx`, an upper bound of the exact EMD; see its module for the
    measured error), "exact" (linear_sum_assignment, slow) or "none". EMD needs N == M.
    batch_size: pairs of clouds per chunk. device: where to compute (default: samples').
    """
    if emd not in (*EMD_METHODS, "none"):
        raise ValueError(f"emd must be one of {', '.join((*EMD_METHODS, 'none'))}; got {emd!r}")
    if jsd_normalization is not None and jsd_normalization not in JSD_NORMALIZATIONS:
        raise ValueError(
            f"jsd_normalization must be one of {', '.join(JSD_NORMALIZATIONS)} or None; "
            f"got {jsd_normalization!r}"
        )
    samples = check_clouds(samples, name="samples")
    references = check_clouds(references, name="references")
    if emd != "none" and samples.shape[1] != references.shape[1]:
        raise ValueError(
            f"EMD needs clouds of equal size; samples have {samples.shape[1]} points and "
            f"references {references.shape[1]}: resample them, or pass emd='none'"
        )
    device = samples.device if device is None else torch.device(device)
    samples = samples.to(device)
    references = references.to(device=device, dtype=samples.dtype)

    start = time.perf_counter()
    cd = _generative(
        pairwise_chamfer(samples, references, batch_size=batch_size),
        pairwise_chamfer(samples, batch_size=batch_size),
        pairwise_chamfer(references, batch_size=batch_size),
    )
    seconds_cd = time.perf_counter() - start

    start = time.perf_counter()
    emd_values: tuple[float | None, ...] = (None, None, None)
    if emd != "none":
        kwargs = {"method": emd, "block_size": emd_block_size, "batch_size": batch_size}
        emd_values = _generative(
            pairwise_emd(samples, references, **kwargs),
            pairwise_emd(samples, **kwargs),
            pairwise_emd(references, **kwargs),
        )
    seconds_emd = time.perf_counter() - start

    start = time.perf_counter()
    jsd, outside = None, (0, 0)
    if jsd_normalization is not None:
        scaled_samples, scaled_references = samples, references
        if jsd_normalization == "fit_references":
            centre, scale = unit_ball_transform(references)
            scaled_samples, scaled_references = (
                (samples - centre) * scale,
                (references - centre) * scale,
            )
        result = jsd_between_sets(scaled_samples, scaled_references)
        jsd, outside = result.jsd, (result.samples_outside, result.references_outside)
    seconds_jsd = time.perf_counter() - start

    return PointCloudMetrics(
        mmd_cd=cd[0],
        cov_cd=cd[1],
        nna_cd=cd[2],
        mmd_emd=emd_values[0],
        cov_emd=emd_values[1],
        nna_emd=emd_values[2],
        jsd=jsd,
        emd_method={"approx": f"approx(block_size={emd_block_size})"}.get(emd, emd),
        jsd_normalization=jsd_normalization or "none",
        num_samples=samples.shape[0],
        num_references=references.shape[0],
        jsd_samples_outside=outside[0],
        jsd_references_outside=outside[1],
        seconds_cd=seconds_cd,
        seconds_emd=seconds_emd,
        seconds_jsd=seconds_jsd,
    )
