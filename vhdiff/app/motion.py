"""The motion tab: text to motion, and editing / in-betweening of an uploaded .npz.

    tab = MotionTab(state=state)
    tab.preload()                                   # the model loads and warms up on the worker
    video, glb, files, status = tab.generate("a person walks forward", 6.0, 0)
    video, glb, files, status = tab.edit("a person waves", "walk.npz", "lower")

Each answer is one request folder (`vhdiff.app.common.Workspace`) holding NAME.npz (SMPL
parameters), NAME.mp4 (the body, VIDEO_SIZE pixels by default), NAME.bvh and NAME.glb (the
body skinned and animated; what the page's 3D view shows), written by
`vhdiff.motion.export.MotionExporter`; several takes are NAME_take1.* ... and one video
with every take side by side (`vhdiff.motion.demo.side_by_side_frames`). Inputs are checked
before the request waits for the worker: a bad one is a ValueError (a message in the page).
"""

from __future__ import annotations

import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vhdiff.app.common import (
    LOG,
    Answer,
    AppState,
    Timings,
    check_count,
    check_prompt,
    check_seed,
    optional,
    optional_count,
    optional_number,
    report,
    sample,
    slug,
    uploaded_file,
)

__all__ = [
    "DEFAULT_BODY",
    "DEFAULT_SECONDS",
    "KEEP_MODES",
    "MAX_KEEP_FRAMES",
    "MAX_SECONDS",
    "MAX_STEPS",
    "MAX_TAKES",
    "MIN_SECONDS",
    "WARM_UP_PROMPT",
    "MotionRequest",
    "MotionTab",
    "keep_spec",
    "load_uploaded_motion",
    "motion_request",
]

MIN_SECONDS = 0.5
MAX_SECONDS = (
    10.0  # the app's cap; a model's own maximum (9.8 s for the bundled one) is checked too
)
DEFAULT_SECONDS = 6.0
MAX_TAKES = 4  # motions per request (several: one video with all of them side by side)
MAX_STEPS = 1000  # sampling steps (the bundled models' training timesteps)
MAX_KEEP_FRAMES = 200  # frames kept at each end for in-betweening
DEFAULT_BODY = "mannequin"
# what an edit keeps of the uploaded motion -> its label in the page
KEEP_MODES = {
    "lower": "keep the legs and the path, make a new upper body",
    "upper": "keep the upper body, make new legs and path",
    "ends": "in-betweening: keep the first and last frames, make the middle",
}
WARM_UP_PROMPT = "a person walks forward"


@dataclass(frozen=True)
class MotionRequest:
    """Checked inputs of one request. settings: MotionGeneration overrides (None: the
    model's); keep: an edit's keep spec (vhdiff.motion.edit.parse_keep), None for new motions."""

    prompt: str
    seconds: float | None
    seed: int | None
    takes: int
    settings: dict[str, Any]
    body: str
    keep: str | None = None


def _check_body(body: Any) -> str:
    from vhdiff.body.posing import BODIES

    body = optional(body) or DEFAULT_BODY
    if body not in BODIES:
        raise ValueError(f"unknown body {body!r}; choose one of {', '.join(BODIES)}")
    if body == "smpl":  # the licensed files: FileNotFoundError says where to get them
        from vhdiff.body.model_files import find_model_file

        find_model_file(None, "auto", "neutral")
    return body


def motion_request(
    prompt: Any,
    seconds: Any = DEFAULT_SECONDS,
    seed: Any = None,
    takes: Any = 1,
    sampler: Any = None,
    steps: Any = None,
    guidance: Any = None,
    body: Any = DEFAULT_BODY,
    *,
    keep: str | None = None,
) -> MotionRequest:
    """The inputs of the motion tab, checked (ValueError / FileNotFoundError with the fix)."""
    from vhdiff.motion.pipeline import MotionGeneration
    from vhdiff.pipelines.generation import check_number

    prompt = check_prompt(prompt)
    if optional(seconds) is not None:
        seconds = check_number(
            "seconds", seconds, lo=MIN_SECONDS, hi=MAX_SECONDS, hint="the motion's length"
        )
    takes = check_count("takes", optional(takes) or 1, 1, MAX_TAKES, unit="motions per request")
    settings = {"sampler": optional(sampler), "guidance": optional_number(guidance)}
    if keep is None:
        settings["steps"] = optional_count("steps", steps, 1, MAX_STEPS)
    # an unknown sampler, a bad guidance: a message naming the setting, with the choices
    MotionGeneration().replace(**settings)
    return MotionRequest(
        prompt=prompt,
        seconds=optional(seconds),
        seed=check_seed(seed),
        takes=takes,
        settings=settings,
        body=_check_body(body),
        keep=keep,
    )


def load_uploaded_motion(upload: Any) -> Any:
    """The SMPLMotion of an uploaded .npz; a ValueError that says what was wrong with it."""
    from vhdiff.body.smpl_motion import SMPLMotion

    path = uploaded_file(upload, what="motion file", suffixes=(".npz",))
    try:
        return SMPLMotion.load(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # truncated: BadZipFile
        raise ValueError(
            f"the uploaded file {path.name!r} is not an SMPL motion .npz (as this app and `vhdiff motion` "
            f"write): {str(exc).replace(str(path), path.name)}"
        ) from None


def keep_spec(mode: Any, frames: Any, source: Any) -> str:
    """The keep spec of an edit mode (one of KEEP_MODES) for `source` (an SMPLMotion):
    "lower", "upper", or "first:K,last:K" with K = `frames` (leaving frames to generate)."""
    mode = optional(mode) or "lower"
    if mode not in KEEP_MODES:
        raise ValueError(f"unknown edit {mode!r}; choose one of {', '.join(KEEP_MODES)}")
    if mode != "ends":
        return mode
    k = check_count("frames kept at each end", frames, 1, MAX_KEEP_FRAMES, unit="frames")
    if 2 * k >= source.num_frames:
        raise ValueError(
            f"keeping {k} frames at each end leaves nothing to make of the uploaded {source.num_frames}-frame "
            f"motion; keep fewer than {(source.num_frames + 1) // 2}"
        )
    return f"first:{k},last:{k}"


def _exporter_class() -> type:
    from vhdiff.motion.export import MotionExporter

    class ReportingExporter(MotionExporter):
        """A MotionExporter whose video frames are timed (`video_seconds`) and reported to
        `progress` (gradio's, or None) as they are drawn."""

        progress: Callable[..., Any] | None = None
        video_seconds: float = 0.0

        def frames(self, posed: tuple[Any, Any, Any], title: str) -> Iterator[Any]:
            return self._reported(super().frames(posed, title), len(posed[0]))

        def _reported(self, frames: Any, total: int) -> Iterator[Any]:
            start = time.perf_counter()
            for index, frame in enumerate(frames):
                if index % 10 == 0:
                    report(
                        self.progress,
                        0.2 + 0.7 * index / total,
                        f"drawing the video: frame {index + 1} of {total}",
                    )
                yield frame
            self.video_seconds += time.perf_counter() - start

    return ReportingExporter


def _log_failure(job: Future) -> None:
    """Log why the warm-up failed (the first motion request then says it in the page)."""
    if job.exception() is not None:
        LOG.warning("vhdiff app: the motion model's warm-up failed: %s", job.exception())


class MotionTab:
    """The motion tab's handlers. Args (keyword-only): state: the app's AppState."""

    def __init__(self, *, state: AppState) -> None:
        self.state = state
        self._exporters: dict[tuple[str, bool], Any] = {}
        self.loading: Future | None = None

    # ---- model -----------------------------------------------------------------------------

    def preload(self) -> Future:
        """Load the motion pipeline on the worker, then warm it up (a 1 s motion sampled,
        drawn and exported into a folder that is removed); the Future of the load."""
        self.loading = self.state.worker.submit(self.state.models.pipeline, "motion")
        self.state.worker.submit(self._warm_up).add_done_callback(_log_failure)
        return self.loading

    def generation(self, *, timeout: float = 60.0) -> Any:
        """The model's generation settings (MotionGeneration) once it has loaded; the
        defaults of MotionGeneration when it is not preloading or failed to load."""
        from vhdiff.motion.pipeline import MotionGeneration

        if self.loading is not None:
            try:
                return self.loading.result(timeout=timeout).generation
            except Exception:  # noqa: BLE001 - the first motion request says why it failed
                LOG.debug("the motion model did not load", exc_info=True)
        return MotionGeneration()

    def _warm_up(self) -> None:
        from vhdiff.atomic_io import Staging

        motion = self.state.models.pipeline("motion")(WARM_UP_PROMPT, seconds=1.0, seed=0)[0]
        folder = self.state.workspace.request_folder(".warm-up")
        try:
            with Staging() as staging:
                self._exporter(DEFAULT_BODY, video=True).export(
                    motion.smpl, motion.prompt, folder / "warm_up", staging
                )
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _exporter(self, body: str, *, video: bool) -> Any:
        key = (body, video)
        if key not in self._exporters:
            self._exporters[key] = _exporter_class()(
                body=body,
                video=".mp4" if video else None,
                size=self.state.video_size,
                bvh=True,
                glb=True,
            )
        return self._exporters[key]

    # ---- handlers --------------------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        seconds: float | None = DEFAULT_SECONDS,
        seed: int | None = None,
        takes: int = 1,
        sampler: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        body: str = DEFAULT_BODY,
        progress: Any = None,
    ) -> tuple[str, str, list[str], str]:
        """New motions from a prompt -> (video, .glb, files, status)."""
        timings = Timings()
        request = motion_request(prompt, seconds, seed, takes, sampler, steps, guidance, body)
        report(progress, 0.0, "waiting for the model")
        return self.state.worker.run(self._generate, request, timings, progress).outputs()

    def edit(
        self,
        prompt: str,
        motion_file: Any,
        keep: str = "lower",
        frames: int = 20,
        seed: int | None = None,
        takes: int = 1,
        guidance: float | None = None,
        body: str = DEFAULT_BODY,
        progress: Any = None,
    ) -> tuple[str, str, list[str], str]:
        """Keep part of an uploaded motion, make the rest from the prompt -> (video, .glb,
        files, status). keep: one of KEEP_MODES; frames: kept at each end for "ends"."""
        timings = Timings()
        source = load_uploaded_motion(motion_file)
        request = motion_request(
            prompt,
            None,
            seed,
            takes,
            None,
            None,
            guidance,
            body,
            keep=keep_spec(keep, frames, source),
        )
        report(progress, 0.0, "waiting for the model")
        return self.state.worker.run(self._edit, request, source, timings, progress).outputs()

    # ---- on the worker ---------------------------------------------------------------------

    def _generate(self, request: MotionRequest, timings: Timings, progress: Any) -> Answer:
        done = sample(
            self.state,
            "motion",
            lambda pipe: pipe(
                request.prompt,
                seconds=request.seconds,
                num_per_prompt=request.takes,
                seed=request.seed,
                **request.settings,
            ),
            overrides=request.settings,
            timings=timings,
            progress=progress,
            describe=lambda c: f"sampling ({c.sampler}, {c.resolved_steps} steps)",
        )
        config = done.config
        how = f"{config.sampler} {config.resolved_steps} steps, guidance {config.guidance:g}"
        return self._export(done.result, request, how, timings, progress)

    def _edit(self, request: MotionRequest, source: Any, timings: Timings, progress: Any) -> Answer:
        done = sample(
            self.state,
            "motion",
            lambda pipe: pipe.edit(
                source,
                request.prompt,
                keep=request.keep,
                seed=request.seed,
                num=request.takes,
                guidance=request.settings["guidance"],
            ),
            overrides=request.settings,
            timings=timings,
            progress=progress,
            describe=lambda c: f"editing (RePaint, {c.edit_steps} steps)",
        )
        config = done.config
        how = (
            f"edit keeping {request.keep} of the upload (RePaint {config.edit_steps} steps, guidance "
            f"{config.guidance:g})"
        )
        return self._export(done.result, request, how, timings, progress)

    def _export(
        self, motions: list[Any], request: MotionRequest, how: str, timings: Timings, progress: Any
    ) -> Answer:
        from vhdiff.atomic_io import Staging

        folder = self.state.workspace.request_folder("motion")
        name = slug(request.prompt)
        single = len(motions) == 1
        exporter = self._exporter(request.body, video=single)
        exporter.progress, exporter.video_seconds = progress, 0.0
        stems = (
            [folder / name]
            if single
            else [folder / f"{name}_take{k + 1}" for k in range(len(motions))]
        )
        files: list[Path] = []
        try:
            with Staging() as staging:
                for motion, stem in zip(motions, stems, strict=True):
                    files += exporter.export(motion.smpl, motion.prompt, stem, staging)
                if not single:
                    together = folder / f"{name}_takes.mp4"
                    files.append(self._side_by_side(exporter, motions, together, staging, progress))
        finally:
            exporter.progress = None
        timings.lap("npz, BVH, glTF")
        timings.split("npz, BVH, glTF", "video", exporter.video_seconds)
        first = motions[0]
        frames, fps = first.smpl.num_frames, first.smpl.fps
        takes = "" if single else f"{len(motions)} takes, "
        lines = [
            f"**{first.prompt}**: {takes}{frames / fps:g} s ({frames} frames at {fps:g} fps), seed {first.seed}, {how}",
            timings.summary(),
        ]
        warning = first.prompt_match.warning() if first.prompt_match is not None else None
        if warning:
            lines.append(f"note: {warning}")
        video = next(f for f in files if f.suffix == ".mp4")
        glb = next(f for f in files if f.suffix == ".glb")
        return Answer(
            shown=str(video),
            model3d=str(glb),
            files=[str(f) for f in files],
            status="  \n".join(lines),
        )

    def _side_by_side(
        self, exporter: Any, motions: list[Any], path: Path, staging: Any, progress: Any
    ) -> Path:
        from vhdiff.motion.demo import side_by_side_frames
        from vhdiff.viz.writers import write_frames

        report(progress, 0.5, f"drawing the {len(motions)} takes side by side")
        start = time.perf_counter()
        frames = side_by_side_frames(
            exporter.model(), [m.smpl for m in motions], size=self.state.video_size
        )
        write_frames(staging.file(path), frames, motions[0].smpl.fps)
        exporter.video_seconds += time.perf_counter() - start
        return path
