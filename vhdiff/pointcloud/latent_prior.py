"""The second stage of a two-stage point-cloud model: a diffusion over shape codes.

A `vhdiff.backbones.PointCloudAutoencoder` turns a clean cloud into a code z [D]; new clouds
need new codes, so a `LatentMLPDenoiser` learns their distribution (Preechakul et al. 2022,
"Diffusion Autoencoders", sec. 3.3, the latent DDIM; Vahdat et al. 2022, LION's latent
prior). As in DiffAE the prior sees the codes standardised per dimension with the train
split's mean and standard deviation, so its data has unit scale whatever the encoder learned:
z' = (z - mean) / std, and a sampled z' is mapped back with z = z' std + mean.

A pipeline folder with a prior (vhdiff.pointcloud.pipeline) holds it as

    DIR/prior/model/...        the LatentMLPDenoiser (config.json, model.safetensors)
    pipeline.json "prior"      {"diffusion": {...}, "mean": [D], "std": [D]}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vhdiff.backbones import LatentMLPDenoiser
from vhdiff.diffusion import ClassifierFreeGuidance, GaussianDiffusion
from vhdiff.pipelines import MODEL_DIR

__all__ = ["ENCODE_BATCH", "PRIOR_DIR", "LatentPrior", "code_statistics", "encode_clouds"]

PRIOR_DIR = "prior"
ENCODE_BATCH = 64  # clouds per encoder call


def encode_clouds(autoencoder: torch.nn.Module, clouds: np.ndarray | Tensor, *, batch: int = ENCODE_BATCH) -> Tensor:
    """Codes [K, D] (float32, CPU) of normalised clouds [K, P, 3], every point used."""
    clouds = torch.as_tensor(clouds, dtype=torch.float32)
    device = next(autoencoder.parameters()).device
    parts = []
    with torch.no_grad():
        for start in range(0, len(clouds), batch):
            chunk = clouds[start : start + batch].to(device, torch.float32)
            parts.append(autoencoder.encode(chunk).float().cpu())
    return torch.cat(parts) if parts else torch.zeros(0, autoencoder.latent_dim)


def code_statistics(codes: Tensor) -> tuple[Tensor, Tensor]:
    """(mean [D], std [D]) of codes [K, D], the standardisation of the prior's data; a
    dimension the encoder never varies gets std 1 (it is passed through unchanged)."""
    if len(codes) < 2:
        raise ValueError(f"the latent prior needs codes of at least 2 train clouds; got {len(codes)}")
    mean, std = codes.mean(dim=0), codes.std(dim=0)
    return mean, torch.where(std > 1e-6, std, torch.ones_like(std))


@dataclass
class LatentPrior:
    """A diffusion over standardised codes.

    model: the LatentMLPDenoiser; diffusion: its GaussianDiffusion.
    mean / std: float32 [D], the train codes' per-dimension statistics.
    """

    model: LatentMLPDenoiser
    diffusion: GaussianDiffusion
    mean: Tensor
    std: Tensor

    def __post_init__(self) -> None:
        self.mean = torch.as_tensor(self.mean, dtype=torch.float32).reshape(-1)
        self.std = torch.as_tensor(self.std, dtype=torch.float32).reshape(-1)
        width = self.model.latent_dim
        if self.mean.shape != (width,) or self.std.shape != (width,):
            raise ValueError(
                f"the latent prior's statistics must have the model's width {width}; got mean "
                f"{tuple(self.mean.shape)} and std {tuple(self.std.shape)}"
            )
        if not bool((self.std > 0).all()):
            raise ValueError("the latent prior's std must be positive in every dimension")

    @property
    def cond_dim(self) -> int | None:
        return self.model.cond_dim

    def to(self, device: torch.device) -> LatentPrior:
        self.model = self.model.to(device).eval()
        return self

    def sample(self, num: int, *, sampler: str, steps: int | None, spacing: str, eta: float, guidance: float,
               guidance_interval: tuple[int, int] | None, generator: torch.Generator,
               device: torch.device, **cond: Any) -> Tensor:
        """Codes [num, D] on `device` (in the encoder's units); cond: the prior's keyword
        conditions (text_emb, cond_drop)."""
        model: Any = self.model
        if guidance != 1.0:
            model = ClassifierFreeGuidance(self.model, guidance, interval=guidance_interval)
        with torch.no_grad():
            out = self.diffusion.sample(
                model, (num, self.model.latent_dim), sampler=sampler, steps=steps, eta=eta,
                timestep_spacing=spacing, generator=generator, device=device, **cond,
            )
        return out.sample.float() * self.std.to(device) + self.mean.to(device)

    # ------------------------------------------------------------------ folders
    def save(self, folder: Path, *, fp16: bool = False) -> dict[str, Any]:
        """Write the model under folder/prior/model; return pipeline.json's "prior" entry."""
        import copy

        model = copy.deepcopy(self.model).cpu()
        (model.half() if fp16 else model).save_pretrained(folder / PRIOR_DIR / MODEL_DIR)
        return {"diffusion": self.diffusion.to_dict(), "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def load(cls, folder: Path, entry: Any) -> LatentPrior:
        """The prior of a pipeline folder from its pipeline.json "prior" entry."""
        source = f"{str(folder / 'pipeline.json')!r} \"prior\""
        if not isinstance(entry, dict) or not isinstance(entry.get("diffusion"), dict):
            raise ValueError(  # noqa: TRY004 - a damaged file, for the CLI
                f"{source} must hold the prior's diffusion, mean and std; the folder is damaged"
            )
        try:
            mean = torch.tensor(entry["mean"], dtype=torch.float32)
            std = torch.tensor(entry["std"], dtype=torch.float32)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{source} has no valid mean / std lists; the folder is damaged") from None
        model = LatentMLPDenoiser.from_pretrained(folder / PRIOR_DIR / MODEL_DIR, dtype=torch.float32)
        return cls(model=model, diffusion=GaussianDiffusion.from_dict(entry["diffusion"]), mean=mean, std=std)
