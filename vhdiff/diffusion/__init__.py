"""vhdiff.diffusion: the modality-agnostic diffusion core (depends on torch only).

x is any tensor [B, ...]; the model is passed in and obeys
``model(x_t, t, **cond) -> prediction`` (or ``(prediction, v)`` with a learned variance).

    diffusion = GaussianDiffusion.from_dict(pipeline_json["diffusion"])   # or keywords
    out = diffusion.sample(model, (16, 196, 140), sampler="dpm++", steps=20)
    diffusion.to_dict()                                                   # flat keys again

Choices are listed once: SAMPLER_NAMES (samplers.SAMPLERS holds each one's default steps
and spacing), SPACINGS (grids), SCHEDULE_NAMES (schedule).
"""

from vhdiff.diffusion.core import GaussianDiffusion
from vhdiff.diffusion.editing import ddim_invert, inpaint, repaint_schedule, sdedit
from vhdiff.diffusion.gaussian import (
    Denoised,
    DiffusionConfig,
    DiffusionOptions,
    DiffusionProcess,
    ReverseStep,
    TrainingLosses,
    VLBTerms,
    process_x0,
)
from vhdiff.diffusion.grids import SPACINGS, Spacing, timestep_grid
from vhdiff.diffusion.guidance import ClassifierFreeGuidance
from vhdiff.diffusion.samplers import (
    SAMPLER_NAMES,
    SAMPLERS,
    SampleOutput,
    SamplerName,
    run_sampler,
    sample,
    sampler_grid,
)
from vhdiff.diffusion.schedule import SCHEDULE_NAMES, GaussianParams, NoiseSchedule, ScheduleConfig

__all__ = [
    "SAMPLERS",
    "SAMPLER_NAMES",
    "SCHEDULE_NAMES",
    "SPACINGS",
    "ClassifierFreeGuidance",
    "Denoised",
    "DiffusionConfig",
    "DiffusionOptions",
    "DiffusionProcess",
    "GaussianDiffusion",
    "GaussianParams",
    "NoiseSchedule",
    "ReverseStep",
    "SampleOutput",
    "SamplerName",
    "ScheduleConfig",
    "Spacing",
    "TrainingLosses",
    "VLBTerms",
    "ddim_invert",
    "inpaint",
    "process_x0",
    "repaint_schedule",
    "run_sampler",
    "sample",
    "sampler_grid",
    "sdedit",
    "timestep_grid",
]
