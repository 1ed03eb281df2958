"""The point-cloud part of the main job (`vhdiff demo`): clouds as PLY files and pictures.

    from vhdiff.pointcloud.demo import run_pointcloud_demo
    section = run_pointcloud_demo(Path("outputs/demo/pointclouds"))   # bundled model, CPU: ~10 s

Writes into `out`: cloud_000.ply ... (DEMO_CLOUDS unconditional samples of the model's
point count; metres, Y up; binary PLY that trimesh, Open3D and MeshLab read), grid.png (the
clouds drawn as small shaded spheres, coloured by height) and intermediates.png (the
x_T ... x_0 strip of the first clouds, as `vhdiff pointcloud --intermediates`). Returns the
demo page's section (vhdiff.viz.demo_page.DemoSection).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

__all__ = ["DEMO_CLOUDS", "run_pointcloud_demo"]

DEMO_CLOUDS = 16


def run_pointcloud_demo(out: Path, *, seed: int = 0, checkpoint: str | None = None) -> Any:
    """Sample DEMO_CLOUDS clouds into `out` (see the module docstring); the page's section."""
    from vhdiff.pipelines.generation import STRIP_TIMESTEPS
    from vhdiff.pointcloud.files import write_ply
    from vhdiff.pointcloud.pictures import intermediate_strip
    from vhdiff.pointcloud.pipeline import PointCloudPipeline
    from vhdiff.viz.demo_page import DemoItem, DemoSection
    from vhdiff.viz.points import render_point_cloud_grid
    from vhdiff.viz.writers import write_image

    timings: dict[str, float] = {}
    last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[name], last = now - last, now

    out = Path(out).resolve()
    pipe = PointCloudPipeline.from_pretrained(checkpoint)
    lap("load the model")
    result = pipe(DEMO_CLOUDS, seed=seed, intermediates=STRIP_TIMESTEPS)
    lap(f"sample {DEMO_CLOUDS} clouds (one batch, with the strip's x_t)")
    plys = [write_ply(out / f"cloud_{k:03d}.ply", cloud) for k, cloud in enumerate(result.points)]
    lap("write PLY files")
    write_image(out / "grid.png", render_point_cloud_grid(result.points, colors="height"))
    write_image(out / "intermediates.png", intermediate_strip(result))
    lap("draw the pictures")
    settings = {**pipe.settings().to_dict(), "seed": seed, "points": int(result.points.shape[1])}
    items = [
        DemoItem(title=f"{DEMO_CLOUDS} clouds", text=f"unconditional samples, {result.points.shape[1]} points each "
                 "(metres, Y up), coloured by height", media=[str(out / "grid.png")],
                 downloads=[str(p) for p in plys], settings=settings),
        DemoItem(title="x_T to x_0", text="x_T, x_750, x_500, x_250, x_0 of the first clouds (below each row: "
                 "the model's x_0 estimate at that step)", media=[str(out / "intermediates.png")], wide=True),
    ]
    return DemoSection(title="Human point clouds", intro="The bundled point-cloud model (its scores are still well "
                       "short of the field's: docs/pointclouds.md).", items=items, timings=timings)
