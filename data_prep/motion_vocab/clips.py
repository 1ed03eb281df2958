"""Whole clips: one action or a sequence of two, on a random body, as SMPL parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from vhdiff.data_prep.motion_vocab.actions import FAMILIES, build_segment, sample_segment
from vhdiff.data_prep.motion_vocab.track import Track, concatenate, solve_root

from vhdiff.body.smpl_motion import SMPLMotion

__all__ = ["BLEND_SECONDS", "ClipSpec", "make_motion", "sample_betas", "sample_clip"]

BLEND_SECONDS = 0.4  # cross-fade between the actions of a sequence
MAX_SECONDS = 9.75  # at most 196 frames at 20 fps (HumanML3D keeps clips up to 196 frames)
MIN_SECONDS = 2.0
COMPOSITION_RATE = 0.3
# Families that may be chained freely; sitting down only chains with standing up.
_CHAINABLE = tuple(name for name in FAMILIES if name not in ("sit_down", "stand_up"))


@dataclass
class ClipSpec:
    """What a clip shows: its segments (dicts with "family" and that family's parameters),
    the body shape, and the heading it starts with (radians, 0 = facing +Z)."""

    segments: list[dict[str, Any]]
    betas: np.ndarray
    start_heading: float
    tracks: list[Track] = field(default_factory=list, repr=False)  # built by sample_clip


def sample_betas(rng: np.random.Generator) -> np.ndarray:
    """[10] shape coefficients: N(0, 0.8^2) for the first four, smaller after, within +-2."""
    scale = np.array([0.8] * 4 + [0.3] * 6)
    return np.clip(rng.normal(size=10) * scale, -2.0, 2.0).astype(np.float32)


def _duration(tracks: list[Track], fps: float) -> float:
    blend = round(BLEND_SECONDS * fps)
    return (sum(t.frames for t in tracks) - blend * (len(tracks) - 1) - 1) / fps


def sample_clip(
    rng: np.random.Generator, *, fps: float = 20.0, family: str | None = None
) -> ClipSpec:
    """A random clip: one action (70%) or two in sequence (30%), lasting 2 to 9.8 s.
    ``family`` forces a single action of that family. The tracks are built at ``fps``
    (make_motion must use the same fps)."""
    for _ in range(100):
        if family is not None:
            segments = [sample_segment(family, rng)]
        elif rng.random() < COMPOSITION_RATE:
            if rng.random() < 0.08:
                segments = [sample_segment("sit_down", rng), sample_segment("stand_up", rng)]
            else:
                first, second = rng.choice(_CHAINABLE, size=2, replace=True)
                segments = [sample_segment(str(first), rng), sample_segment(str(second), rng)]
        else:
            segments = [sample_segment(str(rng.choice(list(FAMILIES))), rng)]
        tracks = [build_segment(segment, fps) for segment in segments]
        if MIN_SECONDS <= _duration(tracks, fps) <= MAX_SECONDS:
            break
    else:  # pragma: no cover - the samplers stay within bounds
        raise RuntimeError("could not sample a clip within the duration limits")
    return ClipSpec(
        segments=segments,
        betas=sample_betas(rng),
        start_heading=float(rng.uniform(-np.pi, np.pi)),
        tracks=tracks,
    )


def make_motion(spec: ClipSpec, *, fps: float = 20.0) -> SMPLMotion:
    """Build the clip's tracks, chain them and place the body (feet on the ground, the
    first anchor foot at x = z = 0)."""
    tracks = spec.tracks or [build_segment(segment, fps) for segment in spec.segments]
    track = concatenate(tracks, blend=round(BLEND_SECONDS * fps))
    return solve_root(track, fps=fps, betas=spec.betas, start_heading=spec.start_heading)
