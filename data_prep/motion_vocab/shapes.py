"""Time profiles for procedural motion: keyframes with smooth easing, ramps, cycles."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["envelope", "keyframes", "smoothstep"]


def smoothstep(u: np.ndarray) -> np.ndarray:
    """3u^2 - 2u^3 on [0, 1] (zero slope at both ends), clipped outside."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def keyframes(
    frames: int, fps: float, times: Sequence[float], values: Sequence[float]
) -> np.ndarray:
    """[T] profile through (time, value) keys (seconds, increasing), eased with smoothstep
    between keys and held constant before the first / after the last key."""
    t = np.arange(frames) / fps
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    index = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[index + 1] - times[index], 1e-9)
    s = smoothstep((t - times[index]) / span)
    return values[index] + (values[index + 1] - values[index]) * s


def envelope(frames: int, fps: float, ramp: float) -> np.ndarray:
    """[T] 0 -> 1 over the first ``ramp`` seconds, 1, then 1 -> 0 over the last ``ramp``."""
    duration = (frames - 1) / fps
    ramp = min(ramp, duration / 2)
    return keyframes(frames, fps, [0.0, ramp, duration - ramp, duration], [0.0, 1.0, 1.0, 0.0])
