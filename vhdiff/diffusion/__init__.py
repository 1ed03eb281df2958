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
    "NoiseSchedule", "GaussianParams", "GaussianDiffusion", "DiffusionConfig", "TrainingLosses",
    "VLBTerms", "Denoised", "ReverseStep", "process_x0", "ClassifierFreeGuidance",
    "SampleOutput", "SAMPLERS", "sample", "run_sampler", "timestep_grid", "sdedit", "inpaint",
    "ddim_invert", "repaint_schedule", "UniformTimesteps", "LossSecondMomentTimesteps",
]
