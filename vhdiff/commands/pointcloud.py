"""`vhdiff pointcloud`: sample human point clouds into a folder of PLY files and a picture.

    vhdiff pointcloud [--num N] [--points P] [--prompt TEXT | --pose MOTION.npz[:FRAME]]
                      [--sampler S] [--steps K] [--guidance G] [--seed S]
                      [--checkpoint DIR] [--intermediates] [--force] --out DIR

writes DIR/cloud_000.ply, ... (metres, Y up; binary PLY vertex lists),
DIR/grid.png (the clouds drawn as small shaded spheres) and DIR/clouds.json (what made
them); --intermediates adds DIR/intermediates.png, the x_T ... x_0 strip of the first clouds
(top row of each: x_t; below it: the model's x_0 estimate there). The whole folder is
written under a temporary name and renamed: DIR must be new or empty, or an earlier output
of this command (replaced with --force).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vhdiff.atomic_io import (
    FolderKind,
    atomic_folder,
    check_replace_folder,
    check_writable,
    write_text_atomic,
)
from vhdiff.commands.options import (
    add_sampling_arguments,
    check_range,
    check_seed,
    check_settings,
    sampling_overrides,
)
from vhdiff.pipelines.generation import STRIP_TIMESTEPS
from vhdiff.pointcloud.pictures import intermediate_strip

__all__ = ["OUTPUT_FOLDER", "add_arguments", "run"]

OUTPUT_FILE = "clouds.json"
OUTPUT_FOLDER = FolderKind.with_file("point-cloud output folder", OUTPUT_FILE)
MAX_NUM = 1024  # clouds in one call


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num", type=int, default=16, help="clouds to sample (default 16)")
    parser.add_argument("--points", type=int, default=None, help="points per cloud (default: the model's, 2048)")
    condition = parser.add_mutually_exclusive_group()
    condition.add_argument("--prompt", default=None, help="text condition (a text-conditional model)")
    condition.add_argument("--pose", default=None, metavar="MOTION.npz[:FRAME]",
                           help="pose condition: bodies of varied shape in this frame's pose (a pose-conditional model)")
    add_sampling_arguments(parser)
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help="a point-cloud pipeline folder (default: the model bundled with vhdiff)")
    parser.add_argument("--intermediates", action="store_true", help="also write the x_T ... x_0 strip")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--force", action="store_true", help="replace DIR if it is an earlier output of this command")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {**sampling_overrides(args), "points": args.points}


def _validate(args: argparse.Namespace) -> Any:
    """Everything that needs no model; returns the pose (or None)."""
    from vhdiff.pointcloud.pipeline import MAX_POINTS, PointCloudGeneration

    check_range("--num", args.num, 1, MAX_NUM, unit="clouds")
    check_range("--points", args.points, 1, MAX_POINTS, unit="points per cloud")
    check_seed("--seed", args.seed)
    check_settings(PointCloudGeneration, _overrides(args))
    if args.prompt is not None and not args.prompt.strip():
        raise ValueError("--prompt is empty; give text, or leave it out for unconditional samples")
    check_replace_folder(args.out, kind=OUTPUT_FOLDER, force=args.force)
    out = Path(args.out)
    check_writable(out if out.is_dir() else out.parent)
    if args.pose is None:
        return None
    from vhdiff.pointcloud.pose import load_pose

    return load_pose(args.pose)


def run(args: argparse.Namespace) -> int:
    pose = _validate(args)
    from vhdiff.pointcloud.files import write_ply
    from vhdiff.pointcloud.pipeline import PointCloudPipeline
    from vhdiff.viz.points import render_point_cloud_grid
    from vhdiff.viz.writers import write_image

    pipe = PointCloudPipeline.from_pretrained(args.checkpoint, device=args.device)
    result = pipe(
        args.num, prompt=args.prompt, pose=pose, seed=args.seed,
        intermediates=STRIP_TIMESTEPS if args.intermediates else (), **_overrides(args),
    )
    settings = pipe.settings(**_overrides(args))
    out = Path(args.out)
    with atomic_folder(out, kind=OUTPUT_FOLDER, force=args.force) as tmp:
        for index, cloud in enumerate(result.points):
            write_ply(tmp / f"cloud_{index:03d}.ply", cloud)
        write_image(tmp / "grid.png", render_point_cloud_grid(result.points, colors="height"))
        if args.intermediates:
            write_image(tmp / "intermediates.png", intermediate_strip(result))
        record = {
            "num": len(result), "points": int(result.points.shape[1]), "seed": result.seed,
            "prompt": args.prompt, "pose": args.pose, "checkpoint": args.checkpoint or "bundled",
            "generation": settings.to_dict(), "units": "metres, Y up",
        }
        write_text_atomic(tmp / OUTPUT_FILE, json.dumps(record, indent=2) + "\n")
    what = f" for {args.prompt!r}" if args.prompt else f" in the pose of {args.pose}" if args.pose else ""
    print(f"wrote {len(result)} clouds of {result.points.shape[1]} points{what} to {out}/ (seed {result.seed})")
    return 0
