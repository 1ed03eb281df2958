"""What the sub-commands share about options: numeric ranges, seeds, generation settings.

Ranges: one check, one message form.

Every numeric option that sizes work or memory has a range that makes sense, and a value
outside it is a one-line error naming the option, the range and the value given, raised
before anything is loaded:

    check_range("--num", args.num, 1, MAX_MOTIONS)   # "--num must be between 1 and 100, got 0"
"""

from __future__ import annotations

import math
from typing import Any

from vhdiff.pipelines.base import SEED_MAX as MAX_SEED  # torch generators take 64-bit seeds

__all__ = [
    "MAX_BATCH",
    "MAX_FPS",
    "MAX_MOTIONS",
    "MAX_SEED",
    "SETTING_FLAGS",
    "add_sampling_arguments",
    "as_flag_error",
    "check_range",
    "check_seed",
    "check_settings",
    "print_skipped",
    "sampling_overrides",
]

MAX_MOTIONS = 100  # motions per prompt in one `vhdiff motion` call
MAX_BATCH = 1024  # motions generated at once
MAX_FPS = 240.0  # rendered frame rate
SHOWN_SKIPS = 10  # skipped inputs a prep command lists one by one


def check_range(option: str, value: float | None, low: float, high: float, *, unit: str = "") -> float | None:
    """`value` if it is a finite number in [low, high] (or None: not given), else a ValueError
    "OPTION must be between LOW and HIGH UNIT, got VALUE"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:  # fmt: skip
        unit = f" {unit}" if unit else ""
        raise ValueError(f"{option} must be between {_number(low)} and {_number(high)}{unit}, got {value!r}")
    return value


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def check_seed(option: str, seed: int | None, *, uses: int = 1) -> int | None:
    """A seed that torch can take for each of `uses` consecutive seeds (seed, seed + 1, ...)."""
    if seed is None:
        return None
    if not 0 <= seed <= MAX_SEED - (uses - 1):
        raise ValueError(
            f"{option} must be an integer from 0 to 2**63 - {uses} ({MAX_SEED - uses + 1}), got {seed}"
        )
    return seed


# MotionGeneration / GenerationConfig field -> the command-line flag that sets it
SETTING_FLAGS = {
    "sampler": "--sampler", "steps": "--steps", "edit_steps": "--steps", "eta": "--eta",
    "timestep_spacing": "--timestep-spacing", "guidance": "--guidance",
    "guidance_interval": "--guidance-interval", "seconds": "--length", "snap": "--snap",
    "smoothing": "--smoothing", "foot_lock": "--foot-lock", "points": "--points",
}


def as_flag_error(exc: ValueError) -> ValueError:
    """The same error with the setting it names spelled as its command-line flag
    ("steps must be ..." -> "--steps must be ...")."""
    message = str(exc)
    if message.startswith("guidance interval"):
        return ValueError(f"--guidance-interval: {message}")
    for field, flag in sorted(SETTING_FLAGS.items(), key=lambda kv: -len(kv[0])):
        if message.startswith(field + " "):
            return ValueError(flag + message[len(field):])
    return exc


def check_settings(config_class: Any, overrides: dict[str, Any]) -> None:
    """Validate command-line overrides of `config_class`'s defaults before any model loads;
    errors name the flag."""
    try:
        config_class().replace(**overrides)
    except ValueError as exc:
        raise as_flag_error(exc) from None


def add_sampling_arguments(parser: Any) -> None:
    """The sampling flags every generating command takes (an argparse parser); each default
    None = the model folder's setting (its GenerationConfig)."""
    from vhdiff.diffusion import SAMPLER_NAMES, SPACINGS

    parser.add_argument("--sampler", choices=SAMPLER_NAMES, default=None, help="sampler (default: the model's setting)")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's setting)")
    parser.add_argument("--timestep-spacing", choices=SPACINGS, default=None,
                        help="the sampler's timestep grid (default: the model's setting, else the sampler's)")
    parser.add_argument("--eta", type=float, default=None, help="DDIM noise, 0 (default) to 1")
    parser.add_argument("--guidance", type=float, default=None,
                        help="classifier-free guidance scale (1 = none; default: the model's setting)")
    parser.add_argument("--guidance-interval", default=None, metavar="T_MIN:T_MAX",
                        help="timesteps where guidance acts, or all (default: the model's setting)")


def sampling_overrides(args: Any) -> dict[str, Any]:
    """The GenerationConfig overrides of `add_sampling_arguments`' flags (None: the model's)."""
    return {
        "sampler": args.sampler, "steps": args.steps, "eta": args.eta,
        "timestep_spacing": args.timestep_spacing, "guidance": args.guidance,
        "guidance_interval": args.guidance_interval,
    }


def print_skipped(skipped: list[tuple[str, str]]) -> None:
    """List a prep command's skipped inputs ((where, reason) pairs), the first SHOWN_SKIPS
    one per line and a count of the rest."""
    for where, reason in skipped[:SHOWN_SKIPS]:
        print(f"  skipped {where}: {reason}")
    if len(skipped) > SHOWN_SKIPS:
        print(f"  ... and {len(skipped) - SHOWN_SKIPS} more")
