"""Denoising backbones, each importable on its own (torch + safetensors only).

    from vhdiff.backbones import UNet, MotionTransformer, PointNetDenoiser
    from vhdiff.backbones import PointCloudAutoencoder, LatentMLPDenoiser   # two-stage point clouds

All follow the model contract `model(x_t, t, **cond) -> Tensor` with x_t's shape (or the pair
(prediction, v) when built with learn_variance=True); see each class for its conditions.
"""

from .embeddings import ConditionEmbedding, TimestepEmbedding, sinusoidal_embedding
from .latent_mlp import LatentMLPDenoiser
from .motion_transformer import MotionTransformer
from .point_autoencoder import PointCloudAutoencoder, PointNetEncoder
from .pointnet import PointNetDenoiser
from .pretrained import PretrainedMixin
from .unet import UNet

__all__ = [
    "ConditionEmbedding",
    "LatentMLPDenoiser",
    "MotionTransformer",
    "PointCloudAutoencoder",
    "PointNetDenoiser",
    "PointNetEncoder",
    "PretrainedMixin",
    "TimestepEmbedding",
    "UNet",
    "sinusoidal_embedding",
]
