"""What the app's tabs share: gradio, the worker thread, the models, the output folder, errors.

    gr = load_gradio()                     # analytics off; a missing gradio is one line
    state = AppState(out=Path("outputs/app"))
    state.worker.run(fn, *args)            # runs fn on the one worker thread, returns its result
    state.models.pipeline("motion")        # made once, on first use (call it on the worker)
    folder = state.workspace.request_folder("motion")   # a new folder for one request
    handler = as_handler(tab.generate)     # user errors -> gr.Error, `progress` -> gr.Progress()

Handlers raise the library's own user errors (ValueError, FileNotFoundError, ...);
`as_handler` turns them into `gr.Error`, a message in the page, and any other failure into
a one-line `gr.Error` too (its traceback goes to the server's log, never to the page), so
the app keeps serving after any request.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.util
import inspect
import logging
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from vhdiff.extras import MissingDependencyError, missing_message, require

__all__ = [
    "LOG",
    "MAX_PROMPT_CHARS",
    "PIPELINES",
    "Answer",
    "AppState",
    "BatchRequest",
    "Models",
    "Sampled",
    "Timings",
    "Worker",
    "Workspace",
    "as_handler",
    "check_count",
    "check_gradio",
    "check_prompt",
    "check_seed",
    "load_gradio",
    "optional",
    "optional_count",
    "optional_number",
    "report",
    "sample",
    "slug",
    "uploaded_file",
]

LOG = logging.getLogger("vhdiff.app")
MAX_PROMPT_CHARS = 500  # longer text is a pasted document, not a prompt
# modality -> (module, class) of its pipeline; imported on first use (torch loads then)
PIPELINES = {
    "motion": ("vhdiff.motion.pipeline", "MotionPipeline"),
    "pointcloud": ("vhdiff.pointcloud.pipeline", "PointCloudPipeline"),
    "image": ("vhdiff.image.pipeline", "ImagePipeline"),
}
# what a request can get wrong: shown as the message, nothing else
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    KeyError,
    MissingDependencyError,
)


def check_gradio() -> None:
    """Raise the one-line `MissingDependencyError` now if gradio is not installed (before
    anything is made for an app that could not run)."""
    if importlib.util.find_spec("gradio") is None:
        raise MissingDependencyError(
            missing_message("gradio", needed_for="vhdiff app"), name="gradio"
        )


def load_gradio() -> ModuleType:
    """The gradio module, with its usage analytics off (set before the first import); a
    missing gradio is a `MissingDependencyError` naming the `app` extra."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    return require("gradio", needed_for="vhdiff app")


class Worker:
    """One daemon thread that runs every job touching a model or OpenGL, one at a time, in
    the order submitted.

    pyrender's EGL context belongs to the thread that made it current (eglMakeCurrent from
    another thread fails with EGL_BAD_ACCESS while that thread lives), and gradio runs
    handlers on a pool of threads; so rendering, and with it sampling, happens here. One
    job at a time is also the lock around generation. Each job runs in a copy of the
    submitting thread's context, where gradio keeps the request's progress reporting.
    """

    def __init__(self, *, name: str = "vhdiff-app-worker") -> None:
        self._jobs: queue.SimpleQueue[tuple[Future, contextvars.Context, Callable, tuple, dict]] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Queue `fn(*args, **kwargs)`; its Future."""
        future: Future = Future()
        self._jobs.put((future, contextvars.copy_context(), fn, args, kwargs))
        return future

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)` run on the worker (after the jobs before it); its result,
        or its exception raised here."""
        return self.submit(fn, *args, **kwargs).result()

    def _loop(self) -> None:
        while True:
            future, context, fn, args, kwargs = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = context.run(fn, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                future.set_exception(exc)
            else:
                future.set_result(result)


class Models:
    """The pipelines, each loaded once on first use and kept (call from the worker).

    Args (keyword-only):
        device: torch device of every pipeline.
        checkpoints: modality -> a pipeline folder (absent or None: the bundled model).
    """

    def __init__(
        self, *, device: str = "cpu", checkpoints: dict[str, str | None] | None = None
    ) -> None:
        unknown = sorted(set(checkpoints or {}) - set(PIPELINES))
        if unknown:
            raise ValueError(
                f"unknown modality {', '.join(unknown)}; choose from {', '.join(PIPELINES)}"
            )
        self.device = device
        self.checkpoints = dict(checkpoints or {})
        self._loaded: dict[str, Any] = {}

    def pipeline(self, modality: str) -> Any:
        """The pipeline of `modality` (one of PIPELINES), loaded now if it is not yet."""
        if modality not in self._loaded:
            module, name = PIPELINES[modality]
            cls = getattr(importlib.import_module(module), name)
            self._loaded[modality] = cls.from_pretrained(
                self.checkpoints.get(modality), device=self.device
            )
        return self._loaded[modality]

    def is_loaded(self, modality: str) -> bool:
        return modality in self._loaded


class Workspace:
    """The app's output folder: every request writes into a new folder of its own inside it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def request_folder(self, kind: str) -> Path:
        """A new, empty folder ROOT/KIND-DATE-TIME-RANDOM for one request."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Path(tempfile.mkdtemp(prefix=f"{kind}-{stamp}-", dir=self.root))


@dataclass
class AppState:
    """What every tab uses: the output folder, the models and the worker that runs them.

    out: the output folder (made if missing); device: the pipelines' torch device;
    video_size: side of the motion videos in pixels; checkpoints: modality -> pipeline
    folder (absent: the bundled model).
    """

    out: Path
    device: str = "cpu"
    video_size: int = 320
    checkpoints: dict[str, str | None] = field(default_factory=dict)
    workspace: Workspace = field(init=False)
    models: Models = field(init=False)
    worker: Worker = field(init=False)

    def __post_init__(self) -> None:
        if not 16 <= int(self.video_size) <= 2048:
            raise ValueError(
                f"video size must be between 16 and 2048 pixels, got {self.video_size}"
            )
        self.workspace = Workspace(self.out)
        self.out = self.workspace.root
        self.models = Models(device=self.device, checkpoints=self.checkpoints)
        self.worker = Worker()


@dataclass
class Timings:
    """Seconds of each named step of a request, in order, and the whole of it."""

    steps: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _mark: float = field(default_factory=time.perf_counter, repr=False)

    def lap(self, name: str) -> float:
        """Close step `name` (the time since the previous lap); its seconds."""
        now = time.perf_counter()
        seconds, self._mark = now - self._mark, now
        self.steps[name] = self.steps.get(name, 0.0) + seconds
        return seconds

    def split(self, name: str, part: str, seconds: float) -> None:
        """Move `seconds` of step `name` into a step `part` of their own (what a step spent
        on one thing, timed inside it)."""
        self.steps[name] -= seconds
        self.steps[part] = self.steps.get(part, 0.0) + seconds

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started

    def summary(self) -> str:
        """ "sample 0.7 s · video 6.1 s · total 7.0 s" (steps under 0.05 s left out)."""
        parts = [
            f"{name} {seconds:.1f} s" for name, seconds in self.steps.items() if seconds >= 0.05
        ]
        return " · ".join([*parts, f"total {self.total:.1f} s"])


# ---- inputs ----------------------------------------------------------------------------------


def optional(value: Any) -> Any:
    """None for an input left blank (None, or text of spaces only), else the value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def check_prompt(
    text: Any,
    *,
    what: str = "prompt",
    example: str = "a person walks forward",
    required: bool = True,
) -> str | None:
    """The prompt without surrounding spaces; a ValueError for a missing one (when required),
    one that is not text or one over MAX_PROMPT_CHARS. Not required: blank -> None."""
    if optional(text) is None:
        if not required:
            return None
        raise ValueError(f"the {what} is empty; describe what you want, e.g. {example!r}")
    if not isinstance(text, str):
        raise ValueError(f"the {what} must be text, got {type(text).__name__}")  # noqa: TRY004
    text = text.strip()
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(
            f"the {what} has {len(text)} characters, more than {MAX_PROMPT_CHARS}; shorten it"
        )
    return text


def check_count(name: str, value: Any, lo: int, hi: int, *, unit: str = "") -> int:
    """A whole number in [lo, hi] (a float like 3.0 counts), else a ValueError naming `name`."""
    from vhdiff.pipelines.generation import check_number

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return int(check_number(name, value, lo=lo, hi=hi, integer=True, hint=unit))


def as_number(value: Any) -> Any:
    """Text typed into a number box (" 12", "2.5") as an int or float; anything else as it
    is, so the range check that follows names the input and shows what was typed."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return value


def optional_number(value: Any) -> Any:
    """None for a number box left blank, else its value (typed text parsed by `as_number`)."""
    return None if optional(value) is None else as_number(value)


def optional_count(name: str, value: Any, lo: int, hi: int, *, unit: str = "") -> int | None:
    """`check_count`, or None for a value left blank (the model's own setting)."""
    value = optional_number(value)
    return None if value is None else check_count(name, value, lo, hi, unit=unit)


def check_seed(value: Any) -> int | None:
    """The seed (None when blank: a random one, reported in the answer)."""
    from vhdiff.pipelines.base import SEED_MAX

    try:
        return optional_count("seed", value, 0, SEED_MAX)
    except ValueError:
        raise ValueError(
            f"seed must be a whole number from 0 to 2**63 - 1, or blank for a random one; got {value!r}"
        ) from None


def uploaded_file(value: Any, *, what: str, suffixes: tuple[str, ...]) -> Path:
    """The path of an uploaded file (gradio passes a path, or an object with `.path` /
    a {"path": ...} dict) that exists and ends in one of `suffixes`; a ValueError otherwise."""
    path = getattr(value, "path", None) or (value.get("path") if isinstance(value, dict) else value)
    if optional(path) is None:
        raise ValueError(f"no {what} was uploaded; upload one ({' / '.join(suffixes)})")
    path = Path(str(path))
    if path.suffix.lower() not in suffixes:
        raise ValueError(
            f"the uploaded file {path.name!r} is not a {what} ({' / '.join(suffixes)}); upload one"
        )
    if not path.is_file():
        raise FileNotFoundError(f"the uploaded file {path.name!r} is gone; upload it again")
    return path


def slug(text: str, *, limit: int = 40) -> str:
    """A file-name stem from a prompt: lower-case words joined by "_" ("motion" if none)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(words)[:limit].strip("_") or "motion"


# ---- answers, progress and errors ------------------------------------------------------------


@dataclass
class Answer:
    """What a request returns: what the page shows (a video, a picture, a gallery's list),
    the file of its 3D view (None: the tab has none), every file for download and a status
    line (settings and timings, Markdown)."""

    shown: Any
    model3d: str | None
    files: list[str]
    status: str

    def outputs(self) -> tuple[Any, ...]:
        """The values of the tab's outputs in order: shown, 3D view (if any), files, status."""
        view = () if self.model3d is None else (self.model3d,)
        return (self.shown, *view, self.files, self.status)


@dataclass
class Sampled:
    """A pipeline call made on the worker: the pipeline, the settings it used, its result."""

    pipe: Any
    config: Any
    result: Any


def report(progress: Callable[..., Any] | None, fraction: float, what: str) -> None:
    """Tell the page how far the request is (`progress` is gradio's, or None: nobody asks)."""
    if progress is not None:
        progress(fraction, desc=what)


def sample(
    state: AppState,
    modality: str,
    call: Callable[[Any], Any],
    *,
    overrides: dict[str, Any],
    describe: Callable[[Any], str],
    timings: Timings,
    progress: Any,
) -> Sampled:
    """On the worker: `call(pipe)` with the modality's pipeline (loaded if need be), timed as
    "wait" (for the worker), "load" and "sample"; the page is told `describe(settings)`
    (settings: the pipeline's generation settings with `overrides`) as it starts."""
    timings.lap("wait")
    pipe = state.models.pipeline(modality)
    timings.lap("load")
    config = pipe.settings(**overrides)
    report(progress, 0.05, describe(config))
    result = call(pipe)
    timings.lap("sample")
    return Sampled(pipe=pipe, config=config, result=result)


@dataclass(frozen=True)
class BatchRequest:
    """Checked inputs of a request for `num` samples of a point-cloud or image pipeline:
    the prompt (None: unconditional), the seed (None: random) and the generation settings
    that override the model's (None: the model's). noun: what a sample is called."""

    prompt: str | None
    num: int
    seed: int | None
    overrides: dict[str, Any]
    noun: str

    @classmethod
    def checked(
        cls,
        prompt: Any,
        num: Any,
        seed: Any,
        overrides: dict[str, Any],
        *,
        noun: str,
        most: int,
        example: str,
    ) -> BatchRequest:
        """ValueErrors for a prompt that is not one, a `num` beyond [1, most], a bad seed."""
        return cls(
            prompt=check_prompt(prompt, example=example, required=False),
            num=check_count(noun, num, 1, most, unit=f"{noun} per request"),
            seed=check_seed(seed),
            overrides=overrides,
            noun=noun,
        )

    def sample(self, state: AppState, modality: str, timings: Timings, progress: Any) -> Sampled:
        """On the worker: `pipe(num, prompt=, seed=, **overrides)` (see `sample`)."""
        return sample(
            state,
            modality,
            lambda pipe: pipe(self.num, prompt=self.prompt, seed=self.seed, **self.overrides),
            overrides=self.overrides,
            timings=timings,
            progress=progress,
            describe=lambda c: (
                f"sampling {self.num} {self.noun} ({c.sampler}, {c.resolved_steps} steps)"
            ),
        )

    @property
    def title(self) -> str:
        """The status line's start: the prompt in bold, or **unconditional**."""
        return f"**{self.prompt}**" if self.prompt else "**unconditional**"


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def _out_of_memory(exc: BaseException) -> bool:
    return (
        isinstance(exc, MemoryError)
        or "out of memory" in str(exc)
        or "can't allocate memory" in str(exc)
    )


def as_handler(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` as a gradio event handler: its user errors become `gr.Error` (the message in the
    page), any other failure a one-line `gr.Error` (traceback to the log); a parameter named
    `progress` defaults to `gr.Progress()`, so gradio reports progress through it."""
    gr = load_gradio()
    from vhdiff.viz.gl import GLUnavailableError

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (*USER_ERRORS, GLUnavailableError) as exc:
            raise gr.Error(_message(exc), print_exception=False) from None
        except Exception as exc:
            if _out_of_memory(exc):
                raise gr.Error(
                    "out of memory: ask for fewer or smaller results", print_exception=False
                ) from None
            LOG.exception("vhdiff app: %s failed", getattr(fn, "__name__", "a handler"))
            raise gr.Error(
                f"this request failed inside the app ({type(exc).__name__}: {exc}); the app keeps "
                "serving, and the server's log has the details",
                print_exception=False,
            ) from None

    signature = inspect.signature(fn)
    handler.__signature__ = signature.replace(
        parameters=[  # type: ignore[attr-defined]
            p.replace(default=gr.Progress()) if p.name == "progress" else p
            for p in signature.parameters.values()
        ]
    )
    return handler
