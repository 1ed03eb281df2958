"""Which features of a motion an edit keeps: body parts and keyframes -> an inpainting mask.

The 140-dim SMPL-parameter features (vhdiff.motion.representation) split by body part:

- lower body: the root (height, planar velocity, yaw velocity, tilt), the 6D rotations of
  the hips, knees, ankles and feet (SMPL joints 1, 2, 4, 5, 7, 8, 10, 11) and the foot
  contacts - where the body goes and how it stands;
- upper body: the spine, neck, head, collars, shoulders, elbows and wrists (joints 3, 6, 9,
  12-21).

"keep lower" regenerates the upper body from a new prompt on the same legs and path
(MDM's upper-body editing); "keep upper" the reverse. "first:K" / "last:K" keep whole
frames (in-betweening from keyframes); several specs joined by commas are combined.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vhdiff.motion.representation import (
    BODY_ROTATIONS,
    CONTACTS,
    FEATURE_DIM,
    FEATURE_DIM_NO_CONTACTS,
    ROOT_HEIGHT,
    ROOT_TILT,
)

__all__ = ["LOWER_BODY_JOINTS", "KeepSpec", "known_feature_mask", "lower_body_dims", "parse_keep"]

LOWER_BODY_JOINTS = (1, 2, 4, 5, 7, 8, 10, 11)  # hips, knees, ankles, feet (SMPL indices)
KEEP_HELP = "lower, upper, first:K, last:K, or several joined by commas (first:20,last:20)"


@dataclass(frozen=True)
class KeepSpec:
    """What to keep: body part ("lower" | "upper" | None) and frame counts at each end."""

    part: str | None = None
    first: int = 0
    last: int = 0


def parse_keep(text: str) -> KeepSpec:
    """Parse "lower" | "upper" | "first:K" | "last:K" (comma-joined); ValueError names the fix."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"--keep must be one of {KEEP_HELP}; got {text!r}")
    part, first, last = None, 0, 0
    for item in (s.strip().lower() for s in text.split(",")):
        if item in ("lower", "upper"):
            if part is not None and part != item:
                raise ValueError("--keep cannot keep both lower and upper: that keeps everything")
            part = item
            continue
        name, sep, count = item.partition(":")
        if name not in ("first", "last") or not sep or not count.isdigit() or int(count) < 1:
            raise ValueError(f"--keep: cannot read {item!r}; use {KEEP_HELP} (K a whole number >= 1)")
        if name == "first":
            first = int(count)
        else:
            last = int(count)
    if part is not None and (first or last):
        raise ValueError("--keep: give a body part OR keyframes (first:K / last:K), not both")
    return KeepSpec(part=part, first=first, last=last)


def lower_body_dims(dim: int = FEATURE_DIM) -> Tensor:
    """Bool [dim]: True for the lower-body features (module docstring)."""
    if dim not in (FEATURE_DIM, FEATURE_DIM_NO_CONTACTS):
        raise ValueError(f"body-part editing needs the {FEATURE_DIM}- or {FEATURE_DIM_NO_CONTACTS}-dim features; got {dim}")
    lower = torch.zeros(dim, dtype=torch.bool)
    lower[ROOT_HEIGHT.start:ROOT_TILT.stop] = True  # height, velocity, yaw velocity, tilt
    for joint in LOWER_BODY_JOINTS:
        start = BODY_ROTATIONS.start + (joint - 1) * 6
        lower[start:start + 6] = True
    if dim == FEATURE_DIM:
        lower[CONTACTS] = True
    return lower


def known_feature_mask(spec: KeepSpec, *, frames: int, dim: int) -> Tensor:
    """Float [frames, dim]: 1 where the source motion is kept, 0 where it is regenerated."""
    known = torch.zeros(frames, dim)
    if spec.part is not None:
        lower = lower_body_dims(dim)
        known[:, lower if spec.part == "lower" else ~lower] = 1.0
        return known
    if spec.first + spec.last >= frames:
        raise ValueError(
            f"--keep first:{spec.first} / last:{spec.last} keeps all {frames} frames of the motion: "
            "nothing is left to generate; keep fewer frames"
        )
    known[: spec.first] = 1.0
    if spec.last:
        known[frames - spec.last:] = 1.0
    return known
