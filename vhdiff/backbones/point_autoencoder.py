"""A point-cloud diffusion autoencoder: a PointNet encoder -> a shape code -> a point denoiser.

The encoder turns a clean cloud into a deterministic code z (Preechakul et al. 2022,
"Diffusion Autoencoders", the "semantic encoder"); the decoder is a `PointNetDenoiser`
conditioned on z, so every point is denoised as a sample of that shape's surface (Luo & Hu
2021, "Diffusion Probabilistic Models for 3D Point Cloud Generation", eq. 3: p(X | z) =
prod_i p(x_i | z)). Both are trained together by the plain diffusion loss on the points;
new shapes then come from a second diffusion over the codes
(vhdiff.backbones.latent_mlp: DiffAE's latent DDIM, LION's latent prior).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch.nn.functional as F
from torch import Tensor, nn

from .pointnet import PointNetDenoiser
from .pretrained import PretrainedMixin, register_config
from .validation import check_floating, check_tensor

__all__ = ["PointCloudAutoencoder", "PointNetEncoder"]


class PointNetEncoder(nn.Module):
    """Clean cloud [B, M, point_dim] -> code [B, latent_dim], for any M >= 1 (Qi et al.
    2017: shared per-point layers, a max over the points, then an MLP)."""

    def __init__(self, *, point_dim: int, point_dims: Sequence[int], head_dims: Sequence[int],
                 latent_dim: int) -> None:
        super().__init__()
        widths = (point_dim, *point_dims)
        self.points = nn.ModuleList(nn.Linear(i, o) for i, o in pairwise(widths))
        widths = (widths[-1], *head_dims)
        self.head = nn.ModuleList(nn.Linear(i, o) for i, o in pairwise(widths))
        self.out = nn.Linear(widths[-1], latent_dim)

    def forward(self, points: Tensor) -> Tensor:
        h = points
        for layer in self.points:
            h = F.relu(layer(h))
        h = h.amax(dim=1)  # the symmetric pool: [B, C]
        for layer in self.head:
            h = F.relu(layer(h))
        return self.out(h)


class PointCloudAutoencoder(PretrainedMixin, nn.Module):
    """Denoiser of point clouds conditioned on the code of a clean cloud of the same shape.

    Args (keyword-only; they are the saved config):
        point_dim: coordinates per point.
        latent_dim: width of the shape code z.
        encoder_dims: the encoder's per-point widths (the last is the pooled feature's).
        head_dims: the encoder's widths after the pool.
        denoiser_encoder_dims / denoiser_decoder_dims / context_dim: the decoder's
            `PointNetDenoiser` widths (its encoder_dims / decoder_dims / context_dim).
        learn_variance: the decoder also returns v (improved-DDPM "learned_range").

    Call (the model contract): x_t [B, N, point_dim], t LongTensor [B], and either
    shape [B, M, point_dim] (a clean cloud of the shape, encoded here: training) or latent
    [B, latent_dim] (a code, e.g. from the latent prior: sampling). Returns [B, N, point_dim]
    (or (prediction, v)). `encode(points)` gives the code alone.

    Defaults: 3-D points, a 128-wide code: 0.99 M parameters.
    """

    @register_config
    def __init__(
        self,
        *,
        point_dim: int = 3,
        latent_dim: int = 128,
        encoder_dims: Sequence[int] = (128, 128, 256, 512),
        head_dims: Sequence[int] = (256,),
        denoiser_encoder_dims: Sequence[int] = (128, 256),
        denoiser_decoder_dims: Sequence[int] = (256, 128, 64),
        context_dim: int = 256,
        learn_variance: bool = False,
    ) -> None:
        super().__init__()
        self.point_dim = point_dim
        self.latent_dim = latent_dim
        self.learn_variance = learn_variance
        self.encoder = PointNetEncoder(point_dim=point_dim, point_dims=tuple(encoder_dims),
                                       head_dims=tuple(head_dims), latent_dim=latent_dim)
        self.decoder = PointNetDenoiser(
            point_dim=point_dim, encoder_dims=tuple(denoiser_encoder_dims),
            decoder_dims=tuple(denoiser_decoder_dims), context_dim=context_dim, latent_dim=latent_dim,
            learn_variance=learn_variance,
        )

    def encode(self, points: Tensor) -> Tensor:
        """points [B, M, point_dim] (clean, normalised as in training) -> z [B, latent_dim]."""
        owner = "PointCloudAutoencoder"
        check_tensor(owner, "shape", points, ("B", "M", self.point_dim),
                     f"Pass clean clouds of {self.point_dim} coordinates per point.")
        check_floating(owner, "shape", points)
        if points.shape[1] < 1:
            raise ValueError(f"{owner}: the cloud to encode has no points; pass at least one")
        return self.encoder(points)

    def forward(self, x_t: Tensor, t: Tensor, *, shape: Tensor | None = None, latent: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        if (shape is None) == (latent is None):
            raise ValueError(
                "PointCloudAutoencoder: pass exactly one of shape (a clean cloud to encode) and "
                "latent (its code)"
            )
        if latent is None:
            latent = self.encode(shape)
        return self.decoder(x_t, t, latent=latent, mask=mask)
