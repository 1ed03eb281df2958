"""`vhdiff app`: the local web app (Gradio) for motion, point clouds and images.

    vhdiff app [--host 127.0.0.1] [--port 7860] [--out DIR] [--device cpu] [--size 320]

Serves http://HOST:PORT/ (this machine only by default) until Ctrl-C. Every result goes
into its own folder inside --out (default: a new temporary folder, printed at start). The
generate actions are also API endpoints for `gradio_client` (/motion, /motion_edit,
/pointcloud, /image, /image_edit: docs/app.md). Needs the `app` extra (gradio).
"""

from __future__ import annotations

import argparse

from vhdiff.app.server import AppSettings

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = AppSettings()
    parser.add_argument(
        "--host",
        default=defaults.host,
        help=f"address to listen on (default {defaults.host}: this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=defaults.port,
        help=f"port (default {defaults.port}; 0: any free one)",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder, one folder per request inside it (default: a new temporary folder)",
    )
    parser.add_argument(
        "--device", default=defaults.device, help='torch device, e.g. "cpu" or "cuda"'
    )
    parser.add_argument(
        "--size",
        type=int,
        default=defaults.video_size,
        help=f"motion video side in pixels (default {defaults.video_size})",
    )


def run(args: argparse.Namespace) -> int:
    from vhdiff.app.server import launch_app

    running = launch_app(
        AppSettings(
            host=args.host, port=args.port, out=args.out, device=args.device, video_size=args.size
        )
    )
    try:
        print(
            f"vhdiff app: serving {running.url} (results in {running.out}); Ctrl-C to stop",
            flush=True,
        )
        running.wait()
    finally:
        running.close()
    return 0
