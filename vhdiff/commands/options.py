"""What the commands share about options: generation settings named by their flags."""

from __future__ import annotations

from typing import Any

# MotionGeneration / GenerationConfig field -> the command-line flag that sets it
SETTING_FLAGS = {
    "sampler": "--sampler", "steps": "--steps", "edit_steps": "--steps", "eta": "--eta",
    "timestep_spacing": "--timestep-spacing", "guidance": "--guidance",
    "guidance_interval": "--guidance-interval", "seconds": "--length", "snap": "--snap",
    "smoothing": "--smoothing", "foot_lock": "--foot-lock",
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
