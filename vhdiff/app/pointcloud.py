"""The point-cloud tab: sample human point clouds.

    tab = PointCloudTab(state=state)
    picture, ply, files, status = tab.generate("", 4, 2048, 0)   # blank prompt: unconditional

Each answer is one request folder holding cloud_1.ply ... (binary PLY, metres, Y up;
`vhdiff.pointcloud.files.write_ply`) and clouds.png (every cloud drawn as small shaded
spheres, coloured by height: `vhdiff.viz.points.render_point_cloud_grid`); the page's 3D
view shows the first cloud.
"""

from __future__ import annotations

from typing import Any

from vhdiff.app.common import Answer, AppState, BatchRequest, Timings, optional_count, report

__all__ = ["DEFAULT_CLOUDS", "MAX_CLOUDS", "MAX_POINTS", "MAX_STEPS", "PointCloudTab"]

DEFAULT_CLOUDS = 4
MAX_CLOUDS = 16  # clouds per request
MAX_POINTS = 16_384  # points per cloud (the bundled model is trained on 2048)
MAX_STEPS = 1000


class PointCloudTab:
    """The point-cloud tab's handler. Args (keyword-only): state: the app's AppState."""

    def __init__(self, *, state: AppState) -> None:
        self.state = state

    def generate(
        self,
        prompt: str | None = None,
        num: int = DEFAULT_CLOUDS,
        points: int | None = None,
        seed: int | None = None,
        steps: int | None = None,
        progress: Any = None,
    ) -> tuple[Any, ...]:
        """`num` clouds (of the prompt's body, or unconditional for a blank prompt) ->
        (picture, first .ply, files, status). points / steps blank: the model's."""
        timings = Timings()
        overrides = {
            "points": optional_count("points", points, 1, MAX_POINTS),
            "steps": optional_count("steps", steps, 1, MAX_STEPS),
        }
        request = BatchRequest.checked(
            prompt, num, seed, overrides, noun="clouds", most=MAX_CLOUDS, example="a person sitting"
        )
        report(progress, 0.0, "waiting for the model")
        return self.state.worker.run(self._generate, request, timings, progress).outputs()

    def _generate(self, request: BatchRequest, timings: Timings, progress: Any) -> Answer:
        from vhdiff.pointcloud.files import write_ply
        from vhdiff.viz.points import render_point_cloud_grid
        from vhdiff.viz.writers import write_image

        done = request.sample(self.state, "pointcloud", timings, progress)
        points = done.result.points
        folder = self.state.workspace.request_folder("pointcloud")
        plys = [write_ply(folder / f"cloud_{k + 1}.ply", cloud) for k, cloud in enumerate(points)]
        report(progress, 0.9, "drawing the clouds")
        picture = write_image(
            folder / "clouds.png", render_point_cloud_grid(points, colors="height")
        )
        timings.lap("PLY and picture")
        status = (
            f"{request.title}: {len(points)} clouds of {points.shape[1]} points (metres, Y up), seed "
            f"{done.result.seed}, {done.config.sampler} {done.config.resolved_steps} steps  \n{timings.summary()}"
        )
        files = [str(p) for p in [*plys, picture]]
        return Answer(shown=str(picture), model3d=str(plys[0]), files=files, status=status)
