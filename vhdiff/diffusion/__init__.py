"""vhdiff.diffusion: the modality-agnostic diffusion core (depends on torch only).

x is any tensor [B, ...]; the model is passed in and obeys
``model(x_t, t, **cond) -> prediction`` (or ``(prediction, v)`` with a learned variance).
"""

from vhdiff.diffusion.editing import ddim_invert, inpaint, repaint_schedule, sdedit
from vhdiff.diffusion.gaussian import (
    Denoised,
    DiffusionConfig,
    GaussianDiffusion,
    ReverseStep,
    TrainingLosses,
    VLBTerms,
    process_x0,
)
from vhdiff.diffusion.guidance import ClassifierFreeGuidance
from vhdiff.diffusion.samplers import SAMPLERS, SampleOutput, run_sampler, sample, timestep_grid
from vhdiff.diffusion.schedule import GaussianParams, NoiseSchedule
from vhdiff.diffusion.timestep_sampling import LossSecondMomentTimesteps, UniformTimesteps

__all__ = [
    "SAMPLERS",
    "ClassifierFreeGuidance",
    "Denoised",
    "DiffusionConfig",
    "GaussianDiffusion",
    "GaussianParams",
    "LossSecondMomentTimesteps",
    "NoiseSchedule",
    "ReverseStep",
    "SampleOutput",
    "TrainingLosses",
    "UniformTimesteps",
    "VLBTerms",
    "ddim_invert",
    "inpaint",
    "process_x0",
    "repaint_schedule",
    "run_sampler",
    "sample",
    "sdedit",
    "timestep_grid",
]
