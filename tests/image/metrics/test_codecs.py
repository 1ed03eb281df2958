"""Lossless codec bits/dim: structure is cheap, noise costs about 8 bits/dim."""

import io

import numpy as np
import pytest
from PIL import Image

from vhdiff.image.metrics.codecs import codec_bits_per_dim, encode_lossless


@pytest.mark.parametrize("codec", ["png", "webp"])
def test_constant_images_cost_far_less_than_noise(codec):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    constant = np.full((4, 32, 32, 3), 77, np.uint8)
    noisy_bits = codec_bits_per_dim(noise, codec)
    assert 7.5 < noisy_bits < 9.0  # incompressible: 8 bits plus the file's overhead
    assert codec_bits_per_dim(constant, codec) < 0.1 * noisy_bits
    decoded = np.asarray(Image.open(io.BytesIO(encode_lossless(noise[0], codec))).convert("RGB"))
    np.testing.assert_array_equal(decoded, noise[0])  # lossless


def test_bits_per_dim_is_total_bytes_over_dimensions():
    images = np.random.default_rng(1).integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    total = sum(len(encode_lossless(image, "png")) for image in images)
    assert codec_bits_per_dim(images, "png") == pytest.approx(total * 8 / images.size)


def test_bad_input_is_a_one_line_error():
    with pytest.raises(ValueError, match="codec must be one of png, webp"):
        codec_bits_per_dim(np.zeros((1, 4, 4, 3), np.uint8), "jpeg")
    with pytest.raises(ValueError, match=r"uint8 array \[N, H, W, 3\]"):
        codec_bits_per_dim(np.zeros((1, 4, 4, 3), np.float32), "png")
    with pytest.raises(ValueError, match=r"uint8 array \[N, H, W, 3\]"):
        codec_bits_per_dim(np.zeros((4, 4, 3), np.uint8), "png")
