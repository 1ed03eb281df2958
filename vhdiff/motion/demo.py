"""The motion part of the main job (`vhdiff demo`): a few prompts, an edit, an overview picture.

    from vhdiff.motion.demo import run_motion_demo
    result = run_motion_demo(Path("outputs/demo"))     # bundled model, offline, CPU: ~1 min

For each of DEMO_PROMPTS (name -> prompt, seconds): NAME.mp4 (the mannequin body),
NAME.npz (SMPL parameters) and NAME.bvh; then NAME_edit_upper.* (the first motion's legs
and path kept, the upper body regenerated from EDIT_PROMPT); and overview.png (four frames
of every motion, one row each). The model loads once and the prompts are sampled as one batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DEMO_PROMPTS", "EDIT_PROMPT", "DemoResult", "overview_picture", "run_motion_demo"]

# name -> (prompt, seconds); each checked by tests/commands/test_demo.py on what it produces
DEMO_PROMPTS = {
    "walk": ("a person walks forward", 6.0),
    "jump": ("someone jumps up and down on the spot", 6.0),
    "turn": ("someone turns around to the right", 4.0),
}
EDIT_PROMPT = "a person waves the right hand"  # over the walk's legs and path
OVERVIEW_FRAMES = 4
OVERVIEW_TILE = 192


@dataclass
class DemoResult:
    """What the demo wrote: name -> its files, the motions by name, and the time it took."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    motions: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def run_motion_demo(
    out: Path, *, seed: int = 0, size: int = 512, log: Callable[[str], None] | None = None,
    checkpoint: str | None = None,
) -> DemoResult:
    """Generate, edit and export the demo motions into `out` (see the module docstring)."""
    from vhdiff.atomic_io import Staging
    from vhdiff.motion.export import MotionExporter
    from vhdiff.motion.pipeline import MotionPipeline

    start = time.perf_counter()
    out = Path(out)
    pipe = MotionPipeline.from_pretrained(checkpoint)
    motions = pipe([p for p, _ in DEMO_PROMPTS.values()], seconds=[s for _, s in DEMO_PROMPTS.values()], seed=seed)
    named = dict(zip(DEMO_PROMPTS, motions, strict=True))
    first = next(iter(DEMO_PROMPTS))
    named[f"{first}_edit_upper"] = pipe.edit(named[first].smpl, EDIT_PROMPT, keep="lower", seed=seed)[0]
    result = DemoResult(motions=named)
    exporter = MotionExporter(body="mannequin", video=".mp4", size=size, bvh=True)
    try:
        with Staging() as staging:
            for name, motion in named.items():
                result.files[name] = exporter.export(motion.smpl, motion.prompt, out / name, staging)
        overview = overview_picture(exporter.model(), list(named.values()))
        from vhdiff.viz.writers import write_image

        result.files["overview"] = [write_image(out / "overview.png", overview)]
    finally:
        exporter.close()
    if log is not None:
        for name, files in result.files.items():
            prompt = named[name].prompt if name in named else "four frames of every motion"
            log(f"{name}: {prompt!r} -> " + ", ".join(str(f) for f in files))
    result.seconds = time.perf_counter() - start
    return result


def overview_picture(body_model: Any, motions: list[Any], *, frames: int = OVERVIEW_FRAMES,
                     tile: int = OVERVIEW_TILE) -> np.ndarray:
    """uint8 [rows * tile, frames * tile, 3] (+ padding): `frames` evenly spaced frames of
    every motion (each with a camera that sees those frames), one row each."""
    from vhdiff.body.posing import pose_motion
    from vhdiff.viz.grid import image_grid
    from vhdiff.viz.mesh_renderer import MeshRenderer

    tiles = []
    with MeshRenderer(width=tile, height=tile) as renderer:
        for motion in motions:
            index = np.linspace(0, motion.smpl.num_frames - 1, frames).round().astype(int)
            vertices, _, faces = pose_motion(body_model, motion.smpl, index)
            tiles += list(renderer.iter_frames(vertices, faces))
    return image_grid(tiles, ncols=frames)
