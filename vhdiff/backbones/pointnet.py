"""Point-cloud denoiser: concat-squash per-point layers + a PointNet global feature."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .embeddings import ConditionEmbedding, TimestepEmbedding
from .pretrained import PretrainedMixin, register_config
from .validation import (
    check_cond_drop,
    check_floating,
    check_sequence_mask,
    check_tensor,
    check_text_emb,
    check_timesteps,
)
from .voxel_branch import VoxelBranch

__all__ = ["ConcatSquashLinear", "PointNetDenoiser"]


class ConcatSquashLinear(nn.Module):
    """Per-point linear layer gated and shifted by a context vector (Grathwohl et al. 2019,
    FFJORD; used for point clouds by Luo & Hu 2021):

        out = (W h + b) * sigmoid(W_g c + b_g) + W_b c

    h [B, N, in_dim], context [B, ctx_dim] -> [B, N, out_dim].
    """

    def __init__(self, *, in_dim: int, out_dim: int, ctx_dim: int) -> None:
        super().__init__()
        self.layer = nn.Linear(in_dim, out_dim)
        self.gate = nn.Linear(ctx_dim, out_dim)
        self.bias = nn.Linear(ctx_dim, out_dim, bias=False)

    def forward(self, h: Tensor, context: Tensor) -> Tensor:
        gate = torch.sigmoid(self.gate(context))[:, None]
        return torch.addcmul(self.bias(context)[:, None], self.layer(h), gate)


def _check_vector(owner: str, name: str, value: Tensor | None, width: int | None, batch: int, *,
                  what: str, unit: str, hint: str) -> None:
    """A per-sample vector condition `name` [B, width]; None passes. A model built without it
    (width None) refuses it, naming the constructor argument `<name>_dim` to set."""
    if value is None:
        return
    if width is None:
        raise ValueError(
            f"{owner}: this model was built without {what} ({name}_dim=None) but got {name}; "
            f"build it with {name}_dim={hint} or leave {name} out"
        )
    check_tensor(owner, name, value, (batch, width),
                 f"The model was built with {name}_dim={width}; pass {unit} of that width.")


class PointNetDenoiser(PretrainedMixin, nn.Module):
    """Denoiser for point clouds x_t [B, N, point_dim]; exactly permutation-equivariant.

    Every point goes through the same concat-squash layers conditioned on a context vector
    c = MLP(sinusoids(t)) + condition embedding (or its learned null). After the encoder
    layers, the point features are max-pooled over the points into a PointNet global
    feature (Qi et al. 2017) that is concatenated back onto every point, so each point's
    prediction sees the whole shape. Only per-point maps and a symmetric pool are used, so
    permuting the points permutes the output the same way, for any N.

    Args (keyword-only; they are the saved config):
        point_dim: coordinates per point (3 for xyz; more for extra attributes).
        encoder_dims: widths of the per-point layers before the pool (the last one is the
            global feature's width).
        decoder_dims: widths of the per-point layers after the global feature is joined.
        context_dim: width of the time/condition context.
        cond_dim: width of a pooled condition (`text_emb`); None =
            no text condition. (Per-token `text_tokens` are not taken: a shape-level condition
            reaches every point through the context.)
        pose_dim: width of a pose condition (`pose`, e.g. the 22 SMPL joint rotations in 6D
            = 132); None = no pose condition.
        latent_dim: width of a shape latent (`latent`, the code of
            vhdiff.backbones.point_autoencoder's encoder); None = none. Any of the three
            conditions may be set; each has its own learned null, and `cond_drop` drops all.
        voxel_resolution: R > 0 adds a voxel branch (vhdiff.backbones.voxel_branch: the
            encoder's features averaged into an R^3 grid over each cloud, two 3-D
            convolutions, read back trilinearly and joined to every point's features):
            local context for sharper surfaces; 0 = the plain PointNet.
        voxel_channels: width of that branch.
        learn_variance: also return v (improved-DDPM "learned_range" interpolation weights).

    Call:
        x_t [B, N, point_dim]; t LongTensor [B] (training-schedule index, embedded as a
        number); optional text_emb [B, cond_dim], pose [B, pose_dim], latent [B, latent_dim],
        cond_drop bool [B],
        mask [B, N] (1 = real point; padded points are left out of the pool and get output 0).
        Returns [B, N, point_dim], or the pair (prediction, v) with learn_variance.

    Defaults: point_dim 3, encoder (128, 256), decoder (512, 256, 128), context 256,
    cond_dim None: 1,250,566 parameters.
    """

    @register_config
    def __init__(
        self,
        *,
        point_dim: int = 3,
        encoder_dims: Sequence[int] = (128, 256),
        decoder_dims: Sequence[int] = (512, 256, 128),
        context_dim: int = 256,
        cond_dim: int | None = None,
        pose_dim: int | None = None,
        latent_dim: int | None = None,
        voxel_resolution: int = 0,
        voxel_channels: int = 32,
        learn_variance: bool = False,
    ) -> None:
        super().__init__()
        enc = tuple(int(d) for d in encoder_dims)
        dec = tuple(int(d) for d in decoder_dims)
        if not enc:
            raise ValueError("PointNetDenoiser: encoder_dims needs at least one width")
        self.point_dim = point_dim
        self.cond_dim = cond_dim
        self.pose_dim = pose_dim
        self.latent_dim = latent_dim
        self.learn_variance = learn_variance
        self.time_embed = TimestepEmbedding(freq_dim=context_dim, out_dim=context_dim)
        self.cond_embed = (
            None if cond_dim is None else ConditionEmbedding(cond_dim=cond_dim, out_dim=context_dim)
        )
        self.pose_embed = (
            None if pose_dim is None else ConditionEmbedding(cond_dim=pose_dim, out_dim=context_dim)
        )
        self.latent_embed = (
            None if latent_dim is None else ConditionEmbedding(cond_dim=latent_dim, out_dim=context_dim)
        )

        def csl(i: int, o: int) -> ConcatSquashLinear:
            return ConcatSquashLinear(in_dim=i, out_dim=o, ctx_dim=context_dim)

        widths = (point_dim, *enc)
        self.encoder = nn.ModuleList(csl(i, o) for i, o in pairwise(widths))
        self.voxels = None
        if voxel_resolution:
            self.voxels = VoxelBranch(in_dim=enc[-1], channels=voxel_channels, ctx_dim=context_dim,
                                      resolution=voxel_resolution)
        widths = (2 * enc[-1] + (voxel_channels if voxel_resolution else 0), *dec)
        self.decoder = nn.ModuleList(csl(i, o) for i, o in pairwise(widths))
        self.head = csl(widths[-1], point_dim * (2 if learn_variance else 1))

    def forward(
        self,
        x_t: Tensor,
        t: Tensor,
        *,
        text_emb: Tensor | None = None,
        pose: Tensor | None = None,
        latent: Tensor | None = None,
        cond_drop: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Tensor | tuple[Tensor, Tensor]:
        owner = "PointNetDenoiser"
        x = check_tensor(
            owner,
            "x_t",
            x_t,
            ("B", "N", self.point_dim),
            f"The model was built with point_dim={self.point_dim}; pass points with that many "
            "coordinates or rebuild with point_dim set to yours.",
        )
        check_floating(owner, "x_t", x)
        b, n = x.shape[:2]
        if n < 1:
            raise ValueError(f"{owner}: x_t has no points (N = 0); pass at least one point")
        t = check_timesteps(owner, t, b)
        if text_emb is not None:
            check_text_emb(owner, text_emb, b, self.cond_dim)
        _check_vector(owner, "pose", pose, self.pose_dim, b, what="a pose condition",
                      unit="pose vectors", hint="<width of your pose vector>")
        _check_vector(owner, "latent", latent, self.latent_dim, b, what="a shape latent",
                      unit="codes", hint="<width of your code>")
        drop = None if cond_drop is None else check_cond_drop(owner, cond_drop, b)
        real = None if mask is None else check_sequence_mask(owner, mask, b, n, "points")
        if real is not None:
            real = real.to(x.device)

        ctx = self.time_embed(t.to(x.device))  # [B, context_dim]
        if self.cond_embed is not None:
            ctx = ctx + self.cond_embed(text_emb, drop, b, ctx.dtype)
        if self.pose_embed is not None:
            ctx = ctx + self.pose_embed(pose, drop, b, ctx.dtype)
        if self.latent_embed is not None:
            ctx = ctx + self.latent_embed(latent, drop, b, ctx.dtype)
        h = x if real is None else x.masked_fill(~real[..., None], 0.0)
        for layer in self.encoder:
            h = F.leaky_relu(layer(h, ctx), 0.2)
        # PointNet global feature: a symmetric max over the (real) points, [B, 1, C].
        if real is None:
            g = h.amax(dim=1, keepdim=True)
        else:
            g = h.masked_fill(~real[..., None], float("-inf")).amax(dim=1, keepdim=True)
            # A sample with no real point would pool -inf (and NaN gradients for the whole
            # batch); its global feature is 0 instead (its outputs are all masked to 0).
            g = g.masked_fill(~real.any(dim=1)[:, None, None], 0.0)
        parts = [h, g.expand_as(h)]
        if self.voxels is not None:
            parts.append(self.voxels(x, h, ctx, real))
        h = torch.cat(parts, dim=-1)
        for layer in self.decoder:
            h = F.leaky_relu(layer(h, ctx), 0.2)
        out = self.head(h, ctx)
        if real is not None:
            out = out.masked_fill(~real[..., None], 0.0)
        if self.learn_variance:
            pred, v = out.chunk(2, dim=-1)
            return pred, v
        return out
