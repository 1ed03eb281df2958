"""The one place that sets up OpenGL for pyrender; import pyrender only through `load_pyrender`.

- `PYOPENGL_PLATFORM` decides the offscreen backend and must be set before OpenGL is
  first imported. It defaults to "egl" here (Mesa's software EGL works on a CPU-only
  machine, a GPU driver's EGL on a GPU); a value the user set ("osmesa", "egl", ...) is
  honoured. (If some other code imported OpenGL first, its platform stays in force.)
- pyrender 0.1.45 uses `np.infty`, which numpy 2 removed: it is restored as `np.inf`
  before pyrender is imported.
- Triton's native library (which `import torch._dynamo`, `torch.compile` and roma load)
  is loaded before OpenGL: see `_preload_triton`.
- When no OpenGL context can be made, `GLUnavailableError` (a RuntimeError) says which
  platform was tried, which Debian packages provide Mesa's EGL, and that the
  stick-figure renderer (`vhdiff.viz.skeleton`, `vhdiff render --body skeleton`) needs
  no OpenGL at all.
"""

from __future__ import annotations

import contextlib
import os
import threading
from types import ModuleType
from typing import Any

from vhdiff.extras import MissingDependencyError, require

__all__ = [
    "DEBIAN_PACKAGES",
    "DEFAULT_PLATFORM",
    "RENDER_LOCK",
    "GLUnavailableError",
    "gl_unavailable_message",
    "load_pyrender",
    "offscreen_renderer",
    "release_context",
]

DEFAULT_PLATFORM = "egl"
DEBIAN_PACKAGES = ("libegl1", "libgl1-mesa-dri", "libegl-mesa0")


class GLUnavailableError(RuntimeError):
    """No OpenGL context for offscreen rendering (see the message for the fixes)."""


def gl_unavailable_message(cause: BaseException | str) -> str:
    """The error text for a missing OpenGL: platform tried, packages, the GL-free alternative."""
    platform = os.environ.get("PYOPENGL_PLATFORM", "(unset)")
    return (
        f"offscreen OpenGL rendering is not available (PYOPENGL_PLATFORM={platform}): {cause}. "
        f"Fixes: install Mesa's EGL (Debian/Ubuntu: apt-get install {' '.join(DEBIAN_PACKAGES)}) "
        "and set PYOPENGL_PLATFORM=egl (or PYOPENGL_PLATFORM=osmesa with libosmesa6); "
        "or draw stick figures, which need no OpenGL: `vhdiff render MOTION.npz --body skeleton` "
        "/ vhdiff.viz.skeleton.render_skeleton(joints)."
    )


def _preload_triton() -> None:
    """Load Triton's native library now, before OpenGL, if Triton is installed.

    `triton/_C/libtriton.so` carries its own static copy of LLVM. Once Mesa's llvmpipe
    has made an EGL context, Mesa's shared libLLVM is in the process, and loading
    libtriton after it segfaults (torch 2.14.1 + triton 3.8, Mesa llvmpipe): so the
    first `import torch._dynamo` (done by roma and by torch.compile) after any rendering
    crashed the process. Loaded in the other order, both work. Importing just the
    library takes about 0.5 s, against several seconds for `torch._dynamo` itself;
    it is skipped when Triton is absent (CPU-only torch builds have no Triton to crash).
    """
    with contextlib.suppress(ImportError, OSError):  # no Triton: nothing to preload
        import triton._C.libtriton  # noqa: F401


_pyrender: ModuleType | None = None


def load_pyrender() -> ModuleType:
    """Import pyrender with the platform default and the numpy-2 shim; return the module.

    Raises GLUnavailableError when OpenGL cannot be loaded for the chosen platform.
    """
    global _pyrender
    if _pyrender is not None:
        return _pyrender
    os.environ.setdefault("PYOPENGL_PLATFORM", DEFAULT_PLATFORM)
    _preload_triton()  # before OpenGL, or a later `import torch._dynamo` segfaults
    import numpy as np

    if not hasattr(np, "infty"):
        np.infty = np.inf  # pyrender 0.1.45 still uses the alias numpy 2 removed
    try:
        pyrender = require("pyrender", needed_for="rendering bodies")
    except MissingDependencyError:
        raise
    except (ImportError, ValueError, OSError, RuntimeError, AttributeError) as exc:
        raise GLUnavailableError(gl_unavailable_message(exc)) from exc
    _pyrender = pyrender
    return pyrender


_shared_renderer: Any = None
RENDER_LOCK = threading.RLock()  # one thread at a time uses the shared OpenGL context


def offscreen_renderer(width: int, height: int) -> Any:
    """The process-wide `pyrender.OffscreenRenderer`, set to `width` x `height` pixels.

    pyrender's `OffscreenRenderer.delete()` calls eglTerminate on the EGL display that all
    its contexts share, which breaks every other renderer of the process; so vhdiff makes
    one renderer per process, resizes its viewport per use (EGL framebuffers resize) and
    never deletes it. Hold `RENDER_LOCK` while rendering with it.
    Raises GLUnavailableError when no OpenGL context can be made.
    """
    global _shared_renderer
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise ValueError(f"image size must be positive integers, got {width!r} x {height!r}")
    pyrender = load_pyrender()
    with RENDER_LOCK:
        if _shared_renderer is None:
            try:
                _shared_renderer = pyrender.OffscreenRenderer(
                    viewport_width=width, viewport_height=height
                )
            except Exception as exc:
                raise GLUnavailableError(gl_unavailable_message(exc)) from exc
            release_context()  # made current in this thread; the next render takes it
        _shared_renderer.viewport_width = width
        _shared_renderer.viewport_height = height
        return _shared_renderer


def release_context() -> None:
    """Make the shared context current in no thread (EGL lets a context be current in one
    thread at a time: without this, a second thread's render fails with EGL_BAD_ACCESS).
    Call it with `RENDER_LOCK` held, after rendering; pyrender makes it current again at the
    next render."""
    if _shared_renderer is None:
        return
    platform = _shared_renderer._platform
    display = getattr(platform, "_egl_display", None)
    if display is None:  # not EGL: the platform's own (pyrender's EGL one does nothing)
        platform.make_uncurrent()
        return
    from OpenGL.EGL import EGL_NO_CONTEXT, EGL_NO_SURFACE, eglMakeCurrent

    eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT)
