"""Bits per dimension of lossless codecs: what PNG and WebP need for a set of 8-bit images.

A likelihood model's NLL in bits/dim (vhdiff.diffusion's VLB on the 8-bit grid) is worth
comparing with what a general-purpose lossless codec spends on the same images:

    bits/dim = total compressed bytes * 8 / (N * H * W * 3)

Each image is encoded on its own (file headers included, as files on disk would be):
"png" at zlib's maximum compression (compress_level 9), "webp" lossless at its slowest,
densest effort (method 6, quality 100), both through Pillow.
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np

__all__ = ["CODECS", "Codec", "codec_bits_per_dim", "encode_lossless"]

Codec = Literal["png", "webp"]
CODECS: tuple[str, ...] = ("png", "webp")


def encode_lossless(image: np.ndarray, codec: Codec) -> bytes:
    """One uint8 [H, W, 3] image as the bytes of a lossless PNG or WebP file."""
    from vhdiff.image.data import pil

    Image = pil()

    picture = Image.fromarray(image, mode="RGB")
    stream = io.BytesIO()
    if codec == "png":
        picture.save(stream, format="PNG", compress_level=9)
    else:
        picture.save(stream, format="WEBP", lossless=True, quality=100, method=6)
    return stream.getvalue()


def codec_bits_per_dim(images: np.ndarray, codec: Codec) -> float:
    """Bits per dimension that `codec` ("png" or "webp", lossless) spends on `images`,
    uint8 [N, H, W, 3]: total bytes * 8 / (N * H * W * 3) (module docstring)."""
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or 0 in images.shape:
        raise ValueError(
            f"images must be a uint8 array [N, H, W, 3] with N, H, W >= 1, got {images.dtype} "
            f"{list(images.shape)}; convert with (x + 1) * 127.5 rounded for images in [-1, 1]"
        )
    total = sum(len(encode_lossless(np.ascontiguousarray(image), codec)) for image in images)
    return total * 8.0 / images.size
