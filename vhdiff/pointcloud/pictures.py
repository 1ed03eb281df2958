"""Pictures of sampled point clouds: the x_T ... x_0 strip.

Used by `vhdiff pointcloud --intermediates` and the demo (the strip's timesteps are
vhdiff.pipelines.generation.STRIP_TIMESTEPS).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["STRIP_CLOUDS", "intermediate_strip"]

STRIP_CLOUDS = 4  # rows of the strip


def intermediate_strip(result: Any, *, rows: int = STRIP_CLOUDS) -> np.ndarray:
    """uint8 picture: per cloud a row of x_t and a row of the model's x_0 estimates there,
    each ending in the sample (`result`: vhdiff.pointcloud.pipeline's output with
    intermediates)."""
    from vhdiff.viz.points import render_point_cloud_grid

    times = sorted(result.intermediates, reverse=True)
    clouds = []
    for k in range(min(rows, len(result))):
        clouds += [result.intermediates[t][k] for t in times] + [result.points[k]]
        clouds += [result.pred_x0[t][k] for t in times] + [result.points[k]]
    return render_point_cloud_grid(np.stack(clouds), ncols=len(times) + 1, size=160, colors="height")
