"""Pictures of image samples: the x_T ... x_0 strip and nearest-neighbour enlargement.

Used by `vhdiff image --intermediates` and the demo; numpy only (and vhdiff.viz.grid). The
strip's timesteps are vhdiff.pipelines.generation.STRIP_TIMESTEPS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["STRIP_IMAGES", "STRIP_SCALE", "enlarged", "intermediate_strip"]

STRIP_IMAGES = 4  # images in the strip
STRIP_SCALE = 4  # pixels per model pixel in the strip (a 32x32 sample is drawn 128x128)


def enlarged(image: np.ndarray, scale: int = STRIP_SCALE) -> np.ndarray:
    """uint8 [H * scale, W * scale, C]: `image` [H, W, C] enlarged by pixel repetition."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def intermediate_strip(result: Any, *, rows: int = STRIP_IMAGES, scale: int = STRIP_SCALE) -> Any:
    """The x_T ... x_0 picture: per image a row of x_t and a row of x_0 estimates, each
    ending in the sample, enlarged `scale` times (nearest)."""
    from vhdiff.viz.grid import image_grid

    times = sorted(result.intermediates, reverse=True)
    tiles = []
    for k in range(min(rows, len(result))):
        tiles += [result.intermediates[t][k] for t in times] + [result.images[k]]
        tiles += [result.pred_x0[t][k] for t in times] + [result.images[k]]
    return image_grid([enlarged(tile, scale) for tile in tiles], ncols=len(times) + 1)
