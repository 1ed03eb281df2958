"""`GaussianDiffusion`: the diffusion process (vhdiff.diffusion.gaussian) with sampling as a method.

This module imports both the process and the samplers, so neither imports the other:
``diffusion.sample(model, shape, ...)`` is `vhdiff.diffusion.samplers.sample(diffusion, ...)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vhdiff.diffusion.gaussian import DiffusionProcess, Model
from vhdiff.diffusion.samplers import SampleOutput, sample


class GaussianDiffusion(DiffusionProcess):
    """DDPM / improved-DDPM Gaussian diffusion over tensors of any shape, with `sample`.

    Build it with keywords (`DiffusionProcess`'s), or from a config:
    ``GaussianDiffusion.from_dict(d)`` / ``from_config(DiffusionConfig(...))``; save it with
    ``diffusion.to_dict()``.
    """

    def sample(self, model: Model, shape: Sequence[int], **kwargs: Any) -> SampleOutput:
        """Draw samples [shape]; every option is `vhdiff.diffusion.samplers.sample`'s
        (sampler=, steps=, eta=, timestep_spacing=, x_T=, generator=, device=, progress=, **cond)."""
        return sample(self, model, shape, **kwargs)
