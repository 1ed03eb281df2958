"""Denoising backbones, each importable on its own (torch + safetensors only).

    from vhdiff.backbones import UNet, MotionTransformer, PointNetDenoiser

All follow the model contract `model(x_t, t, **cond) -> Tensor` with x_t's shape (or the pair
(prediction, v) when built with learn_variance=True); see each class for its conditions.
"""

from .embeddings import ConditionEmbedding, TimestepEmbedding, sinusoidal_embedding
from .motion_transformer import MotionTransformer
from .pointnet import PointNetDenoiser
from .pretrained import PretrainedMixin
from .unet import UNet

__all__ = [
    "ConditionEmbedding",
    "MotionTransformer",
    "PointNetDenoiser",
    "PretrainedMixin",
    "TimestepEmbedding",
    "UNet",
    "sinusoidal_embedding",
]
