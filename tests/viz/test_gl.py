"""vhdiff.viz.gl: platform default, the numpy-2 shim, and the no-GL error (in subprocesses,
since PyOpenGL fixes its platform at first import)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def run_python(code: str, platform: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYOPENGL_PLATFORM", None)
    if platform is not None:
        env["PYOPENGL_PLATFORM"] = platform
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_default_platform_is_egl_and_numpy_shim_installed():
    result = run_python(
        """
        import os, numpy as np
        from vhdiff.viz.gl import load_pyrender, offscreen_renderer
        load_pyrender()
        print(os.environ["PYOPENGL_PLATFORM"], np.infty == np.inf)
        offscreen_renderer(8, 8).delete()
        """,
        platform=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["egl", "True"]


def test_torch_dynamo_imports_after_rendering():
    # Mesa llvmpipe's libLLVM in the process made the first `import torch._dynamo` (roma,
    # torch.compile) segfault while loading Triton's LLVM; load_pyrender preloads Triton.
    result = run_python(
        """
        import numpy as np
        from vhdiff.viz.mesh_renderer import MeshRenderer
        triangle = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0]]], dtype=np.float32)
        frames = MeshRenderer(width=16, height=16).render(triangle, np.array([[0, 1, 2]]))
        import torch._dynamo
        print(frames.shape, "imported")
        """,
        platform=None,
    )
    assert result.returncode == 0, f"exit code {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.split() == ["(1,", "16,", "16,", "3)", "imported"]


def test_no_gl_error_names_platform_packages_and_stick_figures():
    result = run_python(
        """
        from vhdiff.viz.gl import GLUnavailableError
        from vhdiff.viz.mesh_renderer import MeshRenderer
        try:
            MeshRenderer(width=8, height=8)
        except GLUnavailableError as exc:
            assert isinstance(exc, RuntimeError)
            print(exc)
        """,
        platform="no-such-platform",
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout
    assert "PYOPENGL_PLATFORM=no-such-platform" in message
    assert "libegl1 libgl1-mesa-dri libegl-mesa0" in message
    assert "--body skeleton" in message and "render_skeleton" in message


def test_user_platform_is_honoured():
    result = run_python(
        """
        import os
        from vhdiff.viz.gl import GLUnavailableError, load_pyrender
        try:
            load_pyrender()
        except GLUnavailableError:
            pass
        print(os.environ["PYOPENGL_PLATFORM"])
        """,
        platform="osmesa",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "osmesa"


def test_importing_viz_loads_no_heavy_package():
    result = run_python(
        """
        import sys
        import vhdiff.viz, vhdiff.viz.mesh_renderer, vhdiff.viz.points, vhdiff.viz.skeleton
        import vhdiff.viz.writers, vhdiff.commands.render, vhdiff.viz.grid
        heavy = ("pyrender", "OpenGL", "matplotlib", "trimesh", "imageio", "open_clip")
        print([name for name in heavy if name in sys.modules])
        """,
        platform=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_one_thread_then_another_renders():
    """The shared context is released after each render: a thread renders after the main
    thread did (the app's worker after a demo in the same process; EGL_BAD_ACCESS before)."""
    result = run_python(
        """
        import threading
        import numpy as np
        from vhdiff.viz.mesh_renderer import MeshRenderer
        triangle = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0]]], dtype=np.float32)
        faces = np.array([[0, 1, 2]])
        first = MeshRenderer(width=16, height=16).render(triangle, faces)
        out = {}
        def draw():
            out["frames"] = MeshRenderer(width=16, height=16).render(triangle, faces)
        worker = threading.Thread(target=draw)
        worker.start(); worker.join()
        again = MeshRenderer(width=16, height=16).render(triangle, faces)
        print(np.array_equal(first, out["frames"]) and np.array_equal(first, again))
        """,
        platform=None,
    )
    assert result.returncode == 0, f"exit code {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.split() == ["True"]
