"""`vhdiff render`: a motion `.npz` (SMPL parameters) to an MP4, a GIF or PNG frames.

    vhdiff render motion.npz --out walk.mp4                    # mannequin mesh (default)
    vhdiff render motion.npz --out walk.gif --body skeleton    # stick figure, no OpenGL
    vhdiff render motion.npz --out frames/ --body smpl --smpl-path ~/models/smpl
    vhdiff render motion.npz --out walk.mp4 --fps 20 --size 384 --camera follow

Bodies: "mannequin" (license-free, default), "smpl" (the licensed SMPL / SMPL-H / SMPL-X
files from --smpl-path or $VHDIFF_SMPL_DIR), "skeleton" (the 22 body joints of the
mannequin, or of SMPL when --smpl-path is given, as a matplotlib stick figure).
With --fps the motion is resampled (nearest frame) to that rate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vhdiff.body.posing import BODIES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("motion", help="motion .npz in SMPL parameters (vhdiff or AMASS style)")
    parser.add_argument(
        "--out",
        required=True,
        help="output: NAME.mp4, NAME.gif, or a folder name without suffix for PNG frames",
    )
    parser.add_argument("--body", choices=BODIES, default="mannequin", help="what to draw")
    parser.add_argument("--size", type=int, default=512, help="image width and height (pixels)")
    parser.add_argument(
        "--fps", type=float, default=None, help="output frame rate (default: the motion's)"
    )
    parser.add_argument(
        "--camera",
        choices=("frame", "follow"),
        default="frame",
        help="frame: fixed view of the whole motion; follow: move with the body",
    )
    parser.add_argument(
        "--azimuth", type=float, default=30.0, help="view angle around the body (deg)"
    )
    parser.add_argument(
        "--elevation", type=float, default=15.0, help="view angle above the ground (deg)"
    )
    parser.add_argument(
        "--smpl-path",
        default=None,
        help="SMPL/SMPL-H/SMPL-X .npz file or folder (default: $VHDIFF_SMPL_DIR)",
    )
    parser.add_argument("--title", default=None, help="caption for stick figures (e.g. the prompt)")
    parser.add_argument(
        "--meshes",
        default=None,
        metavar="FOLDER",
        help="also write one OBJ mesh per output frame to FOLDER",
    )


def check_options(args: argparse.Namespace) -> Path:
    """Every option that needs no motion, and the output places (before any work); -> --out.

    A PNG folder (--out without suffix) and --meshes FOLDER replace an existing folder only
    when it holds nothing but the numbered files a render writes (frame_NNNNN.png / .obj).
    """
    from vhdiff.atomic_io import check_replace_folder, check_writable
    from vhdiff.commands.options import MAX_FPS, check_range
    from vhdiff.viz.writers import sequence_kind

    check_range("--size", args.size, 16, 4096, unit="pixels")
    check_range("--fps", args.fps, 1, MAX_FPS, unit="frames per second")
    check_range("--azimuth", args.azimuth, -360, 360, unit="degrees")
    check_range("--elevation", args.elevation, -89, 89, unit="degrees")
    out = Path(args.out)
    if out.suffix.lower() not in (".mp4", ".gif", ""):
        raise ValueError(f"--out must end in .mp4 or .gif, or be a folder name, got {args.out!r}")
    if out.suffix:
        if out.is_dir():
            raise IsADirectoryError(f"--out {args.out!r} is a folder; name a file, e.g. walk.mp4")
    else:
        check_replace_folder(out, kind=sequence_kind(prefix="frame_", fmt="png"), force=True)
    if args.meshes:
        check_replace_folder(args.meshes, kind=sequence_kind(prefix="frame_", fmt="obj"), force=True)
        check_writable(Path(args.meshes).parent)
    check_writable(out.parent)
    return out


def run(args: argparse.Namespace) -> int:
    from vhdiff.atomic_io import Staging
    from vhdiff.body import SMPLMotion
    from vhdiff.body.posing import body_model_for, pose_motion, resample_indices
    from vhdiff.viz.writers import (
        sequence_kind,
        write_frames,
        write_mesh_sequence,
        write_png_sequence,
    )

    out = check_options(args)
    motion = SMPLMotion.load(args.motion)
    fps = motion.fps if args.fps is None else float(args.fps)
    frames = resample_indices(motion.num_frames, motion.fps, fps)
    model = body_model_for(args.body, args.smpl_path, motion.gender)
    vertices, joints, faces = pose_motion(model, motion, frames)

    renderer = None
    if args.body != "skeleton":
        from vhdiff.viz.gl import GLUnavailableError
        from vhdiff.viz.mesh_renderer import MeshRenderer

        try:
            renderer = MeshRenderer(
                width=args.size,
                height=args.size,
                camera=args.camera,
                azimuth=args.azimuth,
                elevation=args.elevation,
            )
        except GLUnavailableError as exc:  # one line on stderr, like the CLI's user errors
            print(f"vhdiff render: error: {exc}", file=sys.stderr)
            return 2
    if renderer is None:
        from vhdiff.viz.skeleton import render_skeleton

        images = render_skeleton(
            joints, size=args.size, title=args.title, azimuth=args.azimuth, elevation=args.elevation
        )
    else:
        images = renderer.iter_frames(vertices, faces)  # frames stream into the writer as drawn
    try:
        with Staging() as staging:  # every output appears together, or none
            if out.suffix:
                written = write_frames(staging.file(out), images, fps)
            else:
                png = staging.folder(out, kind=sequence_kind(prefix="frame_", fmt="png"))
                written = write_png_sequence(png, images)
            if args.meshes:
                meshes = staging.folder(Path(args.meshes), kind=sequence_kind(prefix="frame_", fmt="obj"))
                write_mesh_sequence(meshes, vertices, faces)
    finally:
        if renderer is not None:
            renderer.close()
    where = f"{len(written)} PNG files in {out}" if isinstance(written, list) else str(out)
    print(
        f"wrote {where}: {len(frames)} frames at {fps:g} fps, {args.size}x{args.size}, "
        f"body {args.body}" + (f"; meshes in {args.meshes}" if args.meshes else "")
    )
    return 0
