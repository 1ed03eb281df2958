"""Image grids: many pictures (or videos) tiled into one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .ground import BACKGROUND

__all__ = ["PAD_GREY", "image_grid", "to_uint8"]

PAD_GREY = round(255 * sum(BACKGROUND) / 3)  # the gaps: the pictures' background grey


def to_uint8(image: Any) -> np.ndarray:
    """An image as uint8 [..., H, W, 3].

    Accepts uint8 arrays, floats in [0, 1] (clipped), torch tensors (channels-first
    [..., 3, H, W] tensors are moved to channels-last), and grey [..., H, W] / [..., H, W, 1]
    images (repeated to RGB). RGBA loses its alpha.
    """
    if hasattr(image, "detach"):
        image = image.detach().cpu()
        if image.ndim >= 3 and image.shape[-3] in (1, 3) and image.shape[-1] not in (1, 3, 4):
            image = image.movedim(-3, -1)
        image = image.numpy()
    array = np.asarray(image)
    if array.dtype.kind == "f":
        array = np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 or floats in [0, 1], got {array.dtype}; convert them first"
        )
    if array.ndim >= 3 and array.shape[-1] == 4:
        array = array[..., :3]
    elif array.ndim >= 3 and array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    elif array.ndim >= 2 and array.shape[-1] != 3:
        array = np.repeat(array[..., None], 3, axis=-1)
    return array


def image_grid(
    images: Sequence[Any] | np.ndarray,
    *,
    ncols: int | None = None,
    pad: int = 2,
    pad_value: int = PAD_GREY,
) -> np.ndarray:
    """Tile K images of one size into a grid.

    Args:
        images: K images [H, W, 3] (or a [K, H, W, 3] array; see `to_uint8` for other
            formats), or K videos [T, H, W, 3] of one length T for a grid video.
        ncols: images per row (default: ceil(sqrt(K))).
        pad: pixels between (and around) tiles, filled with `pad_value` (a grey level;
            default the floor's far grey, vhdiff.viz.ground.BACKGROUND, 255 for white).

    Returns:
        uint8 [rows*H + (rows+1)*pad, ncols*W + (ncols+1)*pad, 3], or [T, ...] for videos.
        Empty cells of the last row are filled with `pad_value`.
    """
    tiles = [to_uint8(image) for image in images]
    if not tiles:
        raise ValueError("no images to tile; pass a non-empty list")
    shapes = {tile.shape for tile in tiles}
    if len(shapes) != 1:
        raise ValueError(f"all images must have one shape, got {sorted(shapes)}; resize them first")
    shape = tiles[0].shape
    if len(shape) not in (3, 4):
        raise ValueError(f"images must be [H, W, 3] or videos [T, H, W, 3], got {list(shape)}")
    count = len(tiles)
    ncols = ncols or math.ceil(math.sqrt(count))
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    if pad < 0 or not 0 <= pad_value <= 255:
        raise ValueError(f"pad must be >= 0 and pad_value in [0, 255], got {pad}, {pad_value}")
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    lead, (h, w) = shape[:-3], shape[-3:-1]
    grid = np.full(
        (*lead, nrows * h + (nrows + 1) * pad, ncols * w + (ncols + 1) * pad, 3),
        pad_value,
        dtype=np.uint8,
    )
    for k, tile in enumerate(tiles):
        row, col = divmod(k, ncols)
        top, left = pad + row * (h + pad), pad + col * (w + pad)
        grid[..., top : top + h, left : left + w, :] = tile
    return grid
