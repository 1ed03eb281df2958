"""The motion part of the main job (`vhdiff demo`): a few prompts, two edits, pictures.

    from vhdiff.motion.demo import run_motion_demo
    result = run_motion_demo(Path("outputs/demo"))     # bundled model, offline, CPU: ~1 min
    result.section                                      # what the demo page shows (vhdiff.viz.demo_page)

For each of DEMO_PROMPTS (name -> prompt, seconds): NAME.mp4 (the mannequin body),
NAME.npz (SMPL parameters), NAME.bvh and NAME.glb (the body skinned and animated); then two edits of the first motion:
NAME_edit_upper.* (its legs and path kept, the upper body regenerated from EDIT_PROMPT) and
NAME_inbetween.* (its first and last INBETWEEN_FRAMES frames kept, the frames between them
generated from INBETWEEN_PROMPT); side_by_side.mp4 (every motion at once, one tile each with a
camera that follows the body, the shorter ones holding their last frame); and overview.png (four frames of every motion, one
row each). The model loads once and the prompts are sampled as one batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEMO_PROMPTS",
    "EDIT_PROMPT",
    "INBETWEEN_FRAMES",
    "INBETWEEN_PROMPT",
    "DemoResult",
    "overview_picture",
    "run_motion_demo",
    "side_by_side_frames",
]

# name -> (prompt, seconds); each checked by tests/commands/test_demo.py on what it produces
DEMO_PROMPTS = {
    "walk": ("a person walks forward", 6.0),
    "jump": ("someone jumps up and down on the spot", 6.0),
    "turn": ("someone turns around to the right", 4.0),
}
EDIT_PROMPT = "a person waves the right hand"  # over the walk's legs and path
INBETWEEN_PROMPT = "a person walks forward"  # between the walk's first and last second
INBETWEEN_FRAMES = 20  # kept at each end (1 s at 20 fps)
OVERVIEW_FRAMES = 4
OVERVIEW_TILE = 192


@dataclass
class DemoResult:
    """What the demo wrote: name -> its files, the motions by name, the page's section
    (vhdiff.viz.demo_page.DemoSection: items, per-step timings) and the time it took."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    motions: dict[str, Any] = field(default_factory=dict)
    section: Any = None
    seconds: float = 0.0


class _Clock:
    """Seconds per named step, in order."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self._last
        self._last = now


def run_motion_demo(
    out: Path, *, seed: int = 0, size: int = 512, log: Callable[[str], None] | None = None,
    checkpoint: str | None = None,
) -> DemoResult:
    """Generate, edit and export the demo motions into `out` (see the module docstring)."""
    from vhdiff.atomic_io import Staging
    from vhdiff.motion.export import MotionExporter
    from vhdiff.motion.pipeline import MotionPipeline
    from vhdiff.viz.writers import write_frames, write_image

    start, clock = time.perf_counter(), _Clock()
    out = Path(out)
    pipe = MotionPipeline.from_pretrained(checkpoint)
    clock.lap("load the model")
    motions = pipe([p for p, _ in DEMO_PROMPTS.values()], seconds=[s for _, s in DEMO_PROMPTS.values()], seed=seed)
    named = dict(zip(DEMO_PROMPTS, motions, strict=True))
    clock.lap(f"sample {len(DEMO_PROMPTS)} motions (one batch)")
    first = next(iter(DEMO_PROMPTS))
    named[f"{first}_edit_upper"] = pipe.edit(named[first].smpl, EDIT_PROMPT, keep="lower", seed=seed)[0]
    clock.lap("body-part edit")
    keep = f"first:{INBETWEEN_FRAMES},last:{INBETWEEN_FRAMES}"
    named[f"{first}_inbetween"] = pipe.edit(named[first].smpl, INBETWEEN_PROMPT, keep=keep, seed=seed)[0]
    clock.lap("in-betweening")
    result = DemoResult(motions=named)
    exporter = MotionExporter(body="mannequin", video=".mp4", size=size, bvh=True, glb=True)
    try:
        with Staging() as staging:
            for name, motion in named.items():
                result.files[name] = exporter.export(motion.smpl, motion.prompt, out / name, staging)
            clock.lap("render and export (MP4, npz, BVH, glTF)")
            smpls = [m.smpl for m in named.values()]
            write_frames(staging.file(out / "side_by_side.mp4"),
                         side_by_side_frames(exporter.model(), smpls, size=size), pipe.fps)
            result.files["side_by_side"] = [out / "side_by_side.mp4"]
            clock.lap("side-by-side video")
        overview = overview_picture(exporter.model(), list(named.values()))
        result.files["overview"] = [write_image(out / "overview.png", overview)]
        clock.lap("overview picture")
    finally:
        exporter.close()
    if log is not None:
        for name, files in result.files.items():
            prompt = named[name].prompt if name in named else _WHAT.get(name, name)
            log(f"{name}: {prompt!r} -> " + ", ".join(str(f) for f in files))
    result.seconds = time.perf_counter() - start
    result.section = _section(result, pipe, seed=seed, timings=clock.timings)
    return result


_WHAT = {
    "side_by_side": "every motion at once",
    "overview": "four frames of every motion",
}


def _section(result: DemoResult, pipe: Any, *, seed: int, timings: dict[str, float]) -> Any:
    """The demo page's motion section: one item per motion, the side-by-side video, the overview."""
    from vhdiff.viz.demo_page import DemoItem, DemoSection

    settings = {**pipe.settings().to_dict(), "seed": seed}
    first = next(iter(DEMO_PROMPTS))
    notes = {
        f"{first}_edit_upper": f"edit of {first}: its legs and path kept, the upper body from the prompt",
        f"{first}_inbetween": f"in-betweening of {first}: its first and last {INBETWEEN_FRAMES} frames kept, "
                              "the middle from the prompt",
    }
    items = []
    for name, motion in result.motions.items():
        files = [str(Path(f).resolve()) for f in result.files[name]]
        text = motion.prompt if name not in notes else f"{motion.prompt} ({notes[name]})"
        items.append(DemoItem(
            title=f"{name} ({motion.smpl.num_frames / motion.smpl.fps:g} s)", text=text,
            media=[f for f in files if f.endswith(".mp4")], downloads=[f for f in files if not f.endswith(".mp4")],
            settings=settings,
        ))
    for name in ("side_by_side", "overview"):
        files = [str(Path(f).resolve()) for f in result.files.get(name, [])]
        if files:
            items.append(DemoItem(title=name.replace("_", " "), text=_WHAT[name], media=files, wide=True))
    return DemoSection(
        title="Motion from text",
        intro="The bundled text-to-motion model on the mannequin body; each motion is SMPL parameters (.npz) "
              "a BVH skeleton and an animated glTF body (.glb: Blender, three.js) beside its video.",
        items=items, timings=timings,
    )


def side_by_side_frames(body_model: Any, motions: list[Any], *, size: int = 512) -> np.ndarray:
    """uint8 [T_max, size // 2, K * (size // 2), 3]: the K SMPLMotions at once, one tile each
    (left to right, in order), each seen by its own camera that follows the body; motions
    shorter than the longest hold their last frame."""
    from vhdiff.body.posing import pose_motion
    from vhdiff.viz.mesh_renderer import MeshRenderer

    tile = max(16, size // 2 // 2 * 2)  # even: the MP4 encoder needs even sides
    longest = max(m.num_frames for m in motions)
    tiles = []
    with MeshRenderer(width=tile, height=tile, camera="follow") as renderer:
        for motion in motions:
            index = np.minimum(np.arange(longest), motion.num_frames - 1)
            vertices, _, faces = pose_motion(body_model, motion, index)
            tiles.append(renderer.render(vertices, faces))
    return np.concatenate(tiles, axis=2)


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
