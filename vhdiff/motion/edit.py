"""Which features of a motion an edit keeps: body parts and keyframes -> an inpainting mask.

The 140-dim SMPL-parameter features (vhdiff.motion.representation.smpl) split by body part:

- lower body: the root (height, planar velocity, yaw velocity, tilt), the 6D rotations of
  the hips, knees, ankles and feet (SMPL joints 1, 2, 4, 5, 7, 8, 10, 11) and the foot
  contacts - where the body goes and how it stands;
- upper body: the spine, neck, head, collars, shoulders, elbows and wrists (joints 3, 6, 9,
  12-21).

"keep lower" regenerates the upper body from a new prompt on the same legs and path
(MDM's upper-body editing); "keep upper" the reverse. "first:K" / "last:K" keep whole
frames (in-betweening from keyframes); several specs joined by commas are combined.

**Reaching the end keyframes.** The features hold root velocities, not positions: keeping
the last K frames' features keeps their pose and height, but their world position (x, z)
and heading are integrals of the velocities of every earlier frame, the regenerated ones
included. :func:`end_keyframe_projection` gives the core's ``inpaint`` a ``project_x0``
that puts each x0 estimate on the set of motions that reach the kept end keyframes:
with free (regenerated) frames ``F = first .. e - 1`` (``e = T - last``, the first kept
end frame) and the convention of :mod:`vhdiff.motion.representation.smpl` (forward
differences, ``psi_{t+1} = psi_t + omega_t / fps``, ``p_{t+1} = p_t + R_y(psi_t) v_t /
fps``), the end keyframes land where the source has them iff

    sum_{t in F} omega_t = sum_{t in F} omega^src_t                      (heading at e)
    sum_{t in F} R_y(psi_t) v_t = sum_{t in F} R_y(psi^src_t) v^src_t      (position at e)

(the kept frames before F contribute the same to both sides). The projection first adds
one offset to every free frame's yaw velocity (the least-squares correction meeting the
first equation, in rad/s), then, with the corrected headings fixed, one world-frame
offset to every free frame's planar displacement, rotated back into each frame's heading
frame (the least-squares correction meeting the second, in m/s). Both are spread evenly
over the free frames, so the generated middle stays smooth; applied at every denoising
step, the model sees the corrected root and can fit the legs to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from vhdiff.motion.representation.smpl import (
    BODY_ROTATIONS,
    CONTACTS,
    FEATURE_DIM,
    FEATURE_DIM_NO_CONTACTS,
    ROOT_HEIGHT,
    ROOT_TILT,
    ROOT_VELOCITY,
    YAW_VELOCITY,
)

__all__ = [
    "LOWER_BODY_JOINTS",
    "KeepSpec",
    "end_keyframe_projection",
    "known_feature_mask",
    "lower_body_dims",
    "parse_keep",
]

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


def _root_track(omega: Tensor, velocity: Tensor, fps: float, psi_start: Tensor) -> tuple[Tensor, Tensor]:
    """Headings [..., n] and world planar displacements [..., n, 2] (x, z) of n consecutive
    frames from their yaw velocities [..., n] (rad/s) and heading-frame planar velocities
    [..., n, 2] (m/s), the first frame facing psi_start [...] (representation's convention)."""
    turned = torch.cumsum(omega, dim=-1) / fps
    psi = psi_start[..., None] + torch.cat((torch.zeros_like(turned[..., :1]), turned[..., :-1]), -1)
    c, s = psi.cos(), psi.sin()
    vx, vz = velocity[..., 0], velocity[..., 1]
    # R_y(psi) (x, 0, z) = (c x + s z, 0, -s x + c z)
    return psi, torch.stack((c * vx + s * vz, -s * vx + c * vz), -1) / fps


def end_keyframe_projection(
    x_known: Tensor, spec: KeepSpec, *, stats: Any, fps: float,
) -> Callable[[Tensor], Tensor] | None:
    """project_x0 for the core's inpaint: the kept end keyframes keep their place and heading.

    x_known: normalised source features [T, D] (or [B, T, D], rows equal); stats: the
    pipeline's FeatureStats (the projection works in physical units, see the module
    docstring); fps: the features' frame rate. Returns None when nothing needs it (no
    last:K, or a body-part edit). The returned function maps normalised x0 estimates
    [B, T, D] to [B, T, D], changing only the yaw and planar root velocities of the free
    frames first .. T - last - 1; it is idempotent (a projection).
    """
    if spec.part is not None or spec.last == 0:
        return None
    source = x_known[0] if x_known.ndim == 3 else x_known
    frames = source.shape[0]
    free = slice(spec.first, frames - spec.last)
    if free.stop - free.start < 1:
        raise ValueError(f"keep {spec} leaves no frame of {frames} to generate; keep fewer frames")
    cols = [YAW_VELOCITY.start, ROOT_VELOCITY.start, ROOT_VELOCITY.start + 1]
    mean = torch.as_tensor(stats.mean[cols], dtype=torch.float64, device=source.device)
    std = torch.as_tensor(stats.std[cols], dtype=torch.float64, device=source.device)
    src = source[:, cols].double() * std + mean  # [T, 3]: omega, v_x, v_z in physical units
    psi_free = src[: free.start, 0].sum() / fps  # heading at the first free frame (psi_0 = 0)
    _, src_step = _root_track(src[free, 0], src[free, 1:], fps, psi_free)
    want_turn = src[free, 0].sum()  # rad/s summed: heading change over the free frames * fps
    want_step = src_step.sum(0)  # [2] world displacement over the free frames
    count = free.stop - free.start

    def project(x0: Tensor) -> Tensor:
        if x0.ndim != 3 or x0.shape[1:] != source.shape:
            raise ValueError(
                f"the x0 estimate has shape {list(x0.shape)}; the keyframe projection was built "
                f"for [B, {frames}, {source.shape[1]}]"
            )
        root = x0[:, free][..., cols].double() * std + mean  # [B, n, 3]
        omega = root[..., 0] + (want_turn - root[..., 0].sum(-1, keepdim=True)) / count
        psi, step = _root_track(omega, root[..., 1:], fps, psi_free.expand(x0.shape[0]))
        shift = (want_step - step.sum(1, keepdim=True)) / count  # [B, 1, 2] per frame, world
        c, s = psi.cos(), psi.sin()
        dx, dz = shift[..., 0] * fps, shift[..., 1] * fps
        # R_y(-psi) (dx, 0, dz) = (c dx - s dz, 0, s dx + c dz): back into the heading frame
        vx = root[..., 1] + c * dx - s * dz
        vz = root[..., 2] + s * dx + c * dz
        fixed = (torch.stack((omega, vx, vz), -1) - mean) / std
        out = x0.clone()
        out[:, free, cols[0]] = fixed[..., 0].to(x0.dtype)
        out[:, free, cols[1]] = fixed[..., 1].to(x0.dtype)
        out[:, free, cols[2]] = fixed[..., 2].to(x0.dtype)
        return out

    return project
