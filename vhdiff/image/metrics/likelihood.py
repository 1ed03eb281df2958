"""Bits per dimension of images under a diffusion model: the full variational bound.

    bpd = bits_per_dim(pipe.diffusion, pipe.model, images_uint8, batch_size=50)
    bpd.total, bpd.prior, bpd.diffusion, bpd.decoder      # mean bits/dim over the images

The bound of DDPM eq. 5 on the 8-bit grid (the discretized decoder, Ho et al. 2020 eq. 13):

    -log p(x_0) <= L_T + sum_{t>1} L_{t-1} + L_0

each term in bits per sub-pixel, from `DiffusionProcess.vlb_terms` (T model calls a batch,
a fresh x_t ~ q(x_t | x_0) at every t: an unbiased one-sample estimate of the bound). It is
an upper bound on the model's NLL, so it is the number papers report as NLL in bits/dim
(improved DDPM: 2.94 on CIFAR-10) and the one to hold against a lossless codec's
(`codec_bits_per_dim`). Images are uint8 [N, H, W, 3], scaled as the model was trained
(x = 2 k / 255 - 1). A text-conditional model is evaluated with its null condition
(`cond_drop`): the unconditional likelihood p(x), the one a codec competes with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["BitsPerDim", "bits_per_dim"]


@dataclass(frozen=True)
class BitsPerDim:
    """Mean bits/dim over `num` images and its parts: total = prior + diffusion + decoder.

    prior: L_T; diffusion: sum of the KL terms L_1 .. L_{T-1}; decoder: L_0;
    total_se: the standard error of `total` over the images.
    """

    total: float
    prior: float
    diffusion: float
    decoder: float
    total_se: float
    num: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bits_per_dim(
    diffusion: Any, model: Any, images: np.ndarray, *, batch_size: int = 50, null_condition: bool | None = None,
    seed: int = 0, device: str | torch.device = "cpu", progress: bool = False,
) -> BitsPerDim:
    """The VLB of `images` (uint8 [N, H, W, 3]) in bits/dim (module docstring).

    null_condition: pass `cond_drop` (None: when the model is conditional, i.e. has a
    `cond_dim`). The diffusion must use the discretized decoder for a true bits/dim (a
    continuous decoder gives a density, not a probability); a ValueError says so.
    """
    from vhdiff.image.data import to_unit

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
        raise ValueError(f"images must be uint8 [N, H, W, 3] with N >= 1, got {images.dtype} {list(images.shape)}")
    if diffusion.options.decoder != "discretized":
        raise ValueError(
            "bits/dim needs the discretized decoder (diffusion.decoder: discretized); this model's "
            f"diffusion has decoder={diffusion.options.decoder!r}, whose L_0 is a density"
        )
    if null_condition is None:
        null_condition = getattr(model, "cond_dim", None) is not None
    generator = torch.Generator(device=torch.device(device)).manual_seed(int(seed))
    totals, priors, kls, decoders = [], [], [], []
    for start in range(0, len(images), batch_size):
        x0 = to_unit(images[start:start + batch_size]).to(device)
        cond = {"cond_drop": torch.ones(len(x0), dtype=torch.bool, device=device)} if null_condition else {}
        terms = diffusion.vlb_terms(model, x0, generator=generator, progress=progress, **cond)
        totals.append(terms.total.cpu())
        priors.append(terms.prior.cpu())
        kls.append(terms.terms[:, 1:].sum(dim=1).cpu())
        decoders.append(terms.decoder.cpu())
    total = torch.cat(totals).double()
    return BitsPerDim(
        total=float(total.mean()), prior=float(torch.cat(priors).mean()), diffusion=float(torch.cat(kls).mean()),
        decoder=float(torch.cat(decoders).mean()),
        total_se=float(total.std(unbiased=True) / np.sqrt(len(total))) if len(total) > 1 else float("nan"),
        num=len(total),
    )
