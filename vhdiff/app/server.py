"""Launching the app: the output folder, the queue, the motion model's preload.

    running = launch_app(AppSettings(host="127.0.0.1", port=7860, out=None))
    print(running.url)        # served now; the motion model loads and warms up meanwhile
    running.wait()            # until Ctrl-C (KeyboardInterrupt)
    running.close()

The output folder (`out`, default a new temporary folder) holds one folder per request,
gradio's own files (uploads, its copies of results: GRADIO_FOLDER, through GRADIO_TEMP_DIR)
and the caches of Mesa's shaders and matplotlib (CACHE_FOLDER, unless MESA_SHADER_CACHE_DIR
/ MPLCONFIGDIR are set), so the app writes nowhere else; it is the only place gradio may
serve files from (`allowed_paths`). The page is served
before anything heavy loads (no torch on that path); the motion pipeline then loads and
warms up on the worker thread, so the first motion asked for answers at full speed. The
queue runs one request at a time (default_concurrency_limit=1, one slot for every
generating event) and holds at most `max_queue` waiting; the server listens on localhost
unless told otherwise. The page loads no web fonts (system fonts), so it works offline.
Every handler turns its own failures into `gr.Error` messages (`vhdiff.app.common.as_handler`);
`show_error` makes what gradio itself raises while reading an input (an upload in the image
field that is not an image) a message in the page too, instead of a bare "Error".
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vhdiff.app.common import AppState, check_gradio, load_gradio
from vhdiff.app.layout import AppTabs, build_blocks
from vhdiff.atomic_io import check_writable

__all__ = [
    "CACHES",
    "CACHE_FOLDER",
    "GRADIO_FOLDER",
    "MAX_QUEUE",
    "MAX_UPLOAD",
    "AppSettings",
    "RunningApp",
    "free_port",
    "launch_app",
    "output_folder",
    "wait_for_page",
]

GRADIO_FOLDER = ".gradio"  # gradio's uploads and cached results, inside the output folder
CACHE_FOLDER = ".cache"  # what libraries cache while the app runs, unless told elsewhere
CACHES = {"MESA_SHADER_CACHE_DIR": "mesa_shader_cache", "MPLCONFIGDIR": "matplotlib"}
MAX_QUEUE = 16  # requests waiting at once; more are told the queue is full
MAX_UPLOAD = "50mb"  # an uploaded file beyond this is refused with a message
SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "sans-serif")
MONO_FONTS = ("ui-monospace", "monospace")


@dataclass(frozen=True)
class AppSettings:
    """How to run the app.

    host, port: where to listen (127.0.0.1: this machine only; port 0: any free port).
    out: the output folder (None: a new temporary folder). device: the pipelines' torch
    device. video_size: motion videos' side in pixels. preload: load and warm up the motion
    model at start. max_queue: requests that may wait at once. checkpoints: modality ->
    pipeline folder (absent: the bundled model).
    """

    host: str = "127.0.0.1"
    port: int = 7860
    out: Path | None = None
    device: str = "cpu"
    video_size: int = 320
    preload: bool = True
    max_queue: int = MAX_QUEUE
    checkpoints: dict[str, str | None] = field(default_factory=dict)


@dataclass
class RunningApp:
    """A launched app: its address, output folder, gr.Blocks, tabs and the motion model's
    loading (a Future; None without preload)."""

    url: str
    out: Path
    blocks: Any
    tabs: AppTabs
    loading: Future | None = None

    def wait(self) -> None:
        """Serve until interrupted (KeyboardInterrupt, which the caller handles)."""
        while True:
            time.sleep(0.5)

    def close(self) -> None:
        """Stop serving and free the port (the output folder stays)."""
        self.blocks.close(verbose=False)


def output_folder(out: str | os.PathLike | None) -> Path:
    """The app's output folder, made if missing (None: a new temporary folder); a one-line
    error for a file in its place or a folder that cannot be written."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="vhdiff-app-")).resolve()
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"--out {str(path)!r} is a file; name a folder (new or existing)")
    path.mkdir(parents=True, exist_ok=True)
    check_writable(path)
    return path.resolve()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_page(
    url: str, *, timeout: float = 120.0, alive: Callable[[], bool] = lambda: True
) -> float:
    """Poll `url` until it answers 200; the seconds that took. TimeoutError after `timeout`
    seconds, RuntimeError as soon as `alive()` says the server's process has ended."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if not alive():
            raise RuntimeError(f"the server of {url} ended before it served the page")
        try:
            with urllib.request.urlopen(url, timeout=10) as page:
                if page.status == 200:
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout:g} s")


def launch_app(settings: AppSettings) -> RunningApp:
    """Build and serve the app (in the background: this returns once the page is served)."""
    if not 0 <= int(settings.port) <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {settings.port}")
    if int(settings.max_queue) < 1:
        raise ValueError(f"max_queue must be at least 1, got {settings.max_queue}")
    check_gradio()
    out = output_folder(settings.out)
    os.environ["GRADIO_TEMP_DIR"] = str(out / GRADIO_FOLDER)  # gradio reads it on import and build
    for name, folder in CACHES.items():  # the renderer's and matplotlib's caches: inside too
        os.environ.setdefault(name, str(out / CACHE_FOLDER / folder))
    gr = load_gradio()
    state = AppState(
        out=out,
        device=settings.device,
        video_size=settings.video_size,
        checkpoints=settings.checkpoints,
    )
    tabs = AppTabs.for_state(state)
    blocks = build_blocks(tabs)
    blocks.queue(default_concurrency_limit=1, max_size=settings.max_queue)
    port = free_port(settings.host) if settings.port == 0 else int(settings.port)
    try:
        blocks.launch(
            server_name=settings.host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            share=False,
            inbrowser=False,
            show_error=True,
            allowed_paths=[str(out)],
            max_file_size=MAX_UPLOAD,
            ssr_mode=False,
            mcp_server=False,
            pwa=False,
            theme=gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS),
        )
    except OSError as exc:
        raise ValueError(
            f"cannot serve on {settings.host}:{port} ({exc}); choose another --port (0: any free one)"
        ) from None
    loading = tabs.motion.preload() if settings.preload else None
    return RunningApp(url=str(blocks.local_url), out=out, blocks=blocks, tabs=tabs, loading=loading)
