"""GenerationConfig: how a pipeline samples, saved once in pipeline.json, every call's defaults.

    config = pipe.generation                         # what the model folder says
    config = config.replace(sampler="ddim", steps=50)   # a call's or the CLI's overrides
    pipe(prompts, steps=20)                         # same thing, per call

The fields are checked once, when a config is made (`__post_init__`): a bad choice or
value is a ValueError naming the field, its valid range and the fix. What needs the
model (steps and a guidance interval within its T training timesteps) is checked by
`check_for(num_timesteps)`, which a pipeline calls before it generates.

A modality adds its own fields by subclassing (e.g. `vhdiff.motion.pipeline.MotionGeneration`
adds the motion's length, prompt snapping and post-processing); `to_dict` / `from_dict`
serialise any subclass (JSON: tuples become lists).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, TypeVar

from typing_extensions import Self

from vhdiff.diffusion import SAMPLERS, SPACINGS
from vhdiff.diffusion.guidance import check_guidance_interval, parse_guidance_interval
from vhdiff.diffusion.samplers import resolve_sampler

__all__ = ["GUIDANCE_MAX", "STRIP_TIMESTEPS", "GenerationConfig", "check_number"]

GUIDANCE_MAX = 50.0  # classifier-free guidance beyond this only saturates; a typo guard
# training timesteps kept for the x_T ... x_0 pictures (`--intermediates`, the demo), as in
# the lecture's figure: x_T, x_750, x_500, x_250, then x_0 (the sample)
STRIP_TIMESTEPS = (999, 750, 500, 250)

C = TypeVar("C", bound="GenerationConfig")


def check_number(name: str, value: Any, *, lo: float, hi: float, integer: bool = False,
                 hint: str = "") -> float | int:
    """`value` as a finite int/float in [lo, hi], else a ValueError naming `name` and the range."""
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or not math.isfinite(float(value)) or not lo <= value <= hi:
        extra = f" ({hint})" if hint else ""
        raise ValueError(f"{name} must be {kind} in [{lo:g}, {hi:g}]{extra}; got {value!r}")
    return int(value) if integer else float(value)


@dataclass(frozen=True)
class GenerationConfig:
    """Sampling settings shared by every pipeline.

    sampler: one of vhdiff.diffusion.SAMPLER_NAMES ("ddpm", "ddim", "dpm++", ...).
    steps: model calls (grid steps); None: the sampler's default (vhdiff.diffusion.SAMPLERS).
    eta: DDIM's noise (0 deterministic, 1 = DDPM's variance); other samplers ignore it.
    timestep_spacing: the grid (one of vhdiff.diffusion.SPACINGS); None: the sampler's default.
    guidance: classifier-free guidance scale (1 = the conditional model, 0 = unconditional).
    guidance_interval: (t_min, t_max) training timesteps where guidance acts, both included;
        None: every step (vhdiff.diffusion.ClassifierFreeGuidance).
    """

    sampler: str = "ddim"
    steps: int | None = None
    eta: float = 0.0
    timestep_spacing: str | None = None
    guidance: float = 2.5
    guidance_interval: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sampler", resolve_sampler(self.sampler))
        if self.steps is not None:
            object.__setattr__(self, "steps", check_number("steps", self.steps, lo=1, hi=100_000, integer=True))
        object.__setattr__(self, "eta", check_number("eta", self.eta, lo=0.0, hi=1.0))
        if self.timestep_spacing is not None and self.timestep_spacing not in SPACINGS:
            raise ValueError(
                f"unknown timestep_spacing {self.timestep_spacing!r}; choose one of {', '.join(SPACINGS)}"
            )
        object.__setattr__(self, "guidance", check_number(
            "guidance", self.guidance, lo=0.0, hi=GUIDANCE_MAX,
            hint="1 = no guidance, 0 = ignore the condition",
        ))
        interval = self.guidance_interval
        if isinstance(interval, str):  # the command-line form, "T_MIN:T_MAX" or "all"
            interval = parse_guidance_interval(interval)
        object.__setattr__(self, "guidance_interval", check_guidance_interval(interval))

    # ------------------------------------------------------------------ use
    @property
    def resolved_steps(self) -> int | None:
        """steps, or the sampler's default (None for DDPM: every training timestep)."""
        return self.steps if self.steps is not None else SAMPLERS[self.sampler].default_steps

    @property
    def resolved_spacing(self) -> str:
        """timestep_spacing, or the sampler's default spacing."""
        return self.timestep_spacing or SAMPLERS[self.sampler].default_spacing

    def check_for(self, num_timesteps: int) -> None:
        """The checks that need the model's number of training timesteps T."""
        T = int(num_timesteps)
        steps = self.resolved_steps
        if steps is not None and steps > T:
            raise ValueError(f"steps must be in [1, {T}] (the model's training timesteps); got {steps}")
        if self.guidance_interval is not None and self.guidance_interval[1] > T - 1:
            raise ValueError(
                f"guidance_interval {self.guidance_interval[0]}:{self.guidance_interval[1]} lies "
                f"outside the model's timesteps 0-{T - 1}; give T_MIN:T_MAX within 0-{T - 1}, or all"
            )

    def replace(self, **overrides: Any) -> Self:
        """A copy with `overrides` applied; an override of None keeps the current value (so a
        CLI passes every option and only the given ones change). Unknown names are a
        ValueError listing the fields. Use `dataclasses.replace` to set a field to None."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise ValueError(f"unknown generation setting(s) {', '.join(unknown)}; valid: {', '.join(names)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **given) if given else self

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples as lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "generation settings") -> Self:
        """The config of a `to_dict` dict (pipeline.json's "generation"); missing keys take
        the defaults, an unknown key is a ValueError naming it and `source`."""
        if not isinstance(data, dict):
            raise ValueError(f"{source} must be a mapping of settings, got {type(data).__name__}")  # noqa: TRY004
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(unknown)} in {source}; valid: {', '.join(sorted(names))}"
            )
        kwargs = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad {source}: {exc}") from None
