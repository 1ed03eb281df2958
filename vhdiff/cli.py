"""The `vhdiff` command.

Sub-commands live in their own modules and are imported only when chosen, so
`vhdiff --help` is fast and a sub-command's heavy dependencies (open_clip, pyrender,
...) load only when that sub-command runs.

A sub-command module provides two functions::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int | None: ...

User errors (bad options, missing files, bad values, a missing optional package) are raised
as exceptions of the types in `USER_ERRORS` and reach the user as one line on stderr with exit
status 2, never a traceback; so does an output that cannot be written (a full disk, a read-only
folder: `vhdiff.atomic_io.output_error`). Set VHDIFF_DEBUG=1 to see the traceback anyway.

Library warnings reach the user as one line too, `vhdiff NAME: warning: ...`.

Ctrl-C exits with status 130, SIGTERM with 143: SIGTERM raises `Terminated`, a
KeyboardInterrupt, in the main thread, so a command cleans up after both alike (staged
outputs are discarded, `vhdiff.atomic_io.Staging`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from vhdiff.atomic_io import OutputError, output_error
from vhdiff.extras import MissingDependencyError

# Idle OpenMP threads sleep instead of spinning. On a CPU shared with other busy processes,
# spinning threads make torch several times slower (benchmarks/bench_busy_cpu.py, 2 cores,
# two busy processes beside it: one 6 s motion 8.0-8.8 s by default, 2.9-4.7 s with this);
# on a quiet machine the two are equal (2.0-2.2 s). Set here, before any sub-command imports
# torch; an OMP_WAIT_POLICY already in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# name -> (module, one-line help). Add a sub-command by adding a line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("vhdiff.commands.demo", "run the main demo (writes pictures/videos to --out)"),
    "train": ("vhdiff.commands.train", "train a model from a run config: a bundled name or a YAML file"),
    "prep": ("vhdiff.commands.prep", "build datasets and convert model files"),
    "render": ("vhdiff.commands.render", "render a motion .npz to MP4/GIF/PNGs"),
    "eval": ("vhdiff.commands.eval", "evaluate generated motion, point clouds or images against a dataset"),
    "motion": ("vhdiff.commands.motion", "text to SMPL motion: MP4, .npz, BVH, OBJ"),
    "motion-export": ("vhdiff.commands.motion_export", "a training run -> a text-to-motion model folder"),
    "pointcloud": ("vhdiff.commands.pointcloud", "sample human point clouds: PLY files and a picture"),
    "pointcloud-export": ("vhdiff.commands.pointcloud_export", "a training run -> a point-cloud model folder"),
    "image": ("vhdiff.commands.image", "sample images: PNG files and a grid"),
    "edit": ("vhdiff.commands.edit", "edit an image: SDEdit (--strength), inpainting (--mask), inversion (--invert)"),
    "image-export": ("vhdiff.commands.image_export", "a training run -> an image model folder"),
    "app": ("vhdiff.commands.app", "the local web app (Gradio): motion, point clouds, images"),
}

USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    KeyError,
    OutputError,
    MissingDependencyError,  # an optional package is missing: the message names the extra
)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: raised in the main thread, so cleanup runs as it does for Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<18} {help_}" for name, (_, help_) in COMMANDS.items())
    return argparse.ArgumentParser(
        prog="vhdiff",
        description="Diffusion toolkit for virtual humans.\n\ncommands:\n" + lines,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="vhdiff COMMAND [options]   (vhdiff COMMAND --help for a command's options)",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `vhdiff` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        _top_parser().print_help()
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(
            f"vhdiff: unknown command {name!r}; choose one of: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"vhdiff {name}", description=help_)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        with warnings.catch_warnings():  # restores showwarning afterwards
            warnings.showwarning = _one_line_warnings(name)
            status = module.run(args)
    except USER_ERRORS as exc:
        if os.environ.get("VHDIFF_DEBUG"):
            raise
        return _user_error(name, exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
    except OSError as exc:  # a full disk or a read-only place, wherever the write happened
        error = output_error(exc, exc.filename)
        if error is None or os.environ.get("VHDIFF_DEBUG"):
            raise
        return _user_error(name, error)
    except (MemoryError, RuntimeError) as exc:  # torch's CPU and CUDA allocators
        message = _out_of_memory(exc)
        if message is None or os.environ.get("VHDIFF_DEBUG"):
            raise
        return _user_error(name, message)
    except Terminated:
        print(f"vhdiff {name}: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"vhdiff {name}: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return int(status or 0)


def _one_line_warnings(name: str) -> Callable[..., None]:
    """A `warnings.showwarning` that prints `vhdiff NAME: warning: MESSAGE`."""

    def show(message: object, category: object, filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        print(f"vhdiff {name}: warning: {message}", file=sys.stderr if file is None else file)

    return show


def _out_of_memory(exc: BaseException) -> str | None:
    """One line for an allocation that failed (sizes the user chose were too large), or None."""
    text = str(exc)
    if not isinstance(exc, MemoryError) and "can't allocate memory" not in text and "out of memory" not in text:
        return None
    asked = re.search(r"tried to allocate (\d+(?:\.\d+)?) ?(bytes|[KMGTP]i?B)", text)
    amount = "" if asked is None else f" ({asked[1]} {asked[2]} asked for at once)"
    return (
        f"out of memory{amount}: the sizes chosen (batch size, model size, --num, --size, ...) "
        "need more memory than this machine has; choose smaller ones"
    )


def _user_error(name: str, message: object) -> int:
    """Print the one-line `vhdiff NAME: error: MESSAGE`; -> exit status 2."""
    print(f"vhdiff {name}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
