"""`vhdiff image`: sample images into a folder of PNG files and a grid.

    vhdiff image [--num N] [--prompt TEXT] [--sampler S] [--steps K] [--guidance G]
                 [--seed S] [--checkpoint DIR] [--intermediates] [--force] --out DIR

writes DIR/image_000.png, ..., DIR/grid.png (all of them tiled) and DIR/images.json (what
made them); --intermediates adds DIR/intermediates.png, the x_T, x_750, x_500, x_250, x_0
strip of the first images (for each: a row of x_t, and below it the model's x_0 estimate
there). The folder is written under a temporary name and renamed: DIR must be new or
empty, or an earlier output of this command (replaced with --force).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

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
from vhdiff.image.pictures import intermediate_strip
from vhdiff.pipelines.generation import STRIP_TIMESTEPS

__all__ = ["OUTPUT_FOLDER", "add_arguments", "run"]

OUTPUT_FILE = "images.json"
OUTPUT_FOLDER = FolderKind.with_file("`vhdiff image` output folder", OUTPUT_FILE)
MAX_NUM = 1024  # images in one call


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num", type=int, default=16, help="images to sample (default 16)")
    parser.add_argument("--prompt", default=None, help="text condition (a text-conditional model)")
    add_sampling_arguments(parser)
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help="an image pipeline folder (default: the model bundled with vhdiff)")
    parser.add_argument("--intermediates", action="store_true", help="also write the x_T ... x_0 strip")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--force", action="store_true", help="replace DIR if it is an earlier output of this command")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')


def _validate(args: argparse.Namespace) -> None:
    from vhdiff.image.pipeline import ImageGeneration

    check_range("--num", args.num, 1, MAX_NUM, unit="images")
    check_seed("--seed", args.seed)
    check_settings(ImageGeneration, sampling_overrides(args))
    if args.prompt is not None and not args.prompt.strip():
        raise ValueError("--prompt is empty; give text, or leave it out for unconditional samples")
    check_replace_folder(args.out, kind=OUTPUT_FOLDER, force=args.force)
    out = Path(args.out)
    check_writable(out if out.is_dir() else out.parent)


def run(args: argparse.Namespace) -> int:
    _validate(args)
    from vhdiff.image.pipeline import ImagePipeline
    from vhdiff.viz.grid import image_grid
    from vhdiff.viz.writers import write_image

    pipe = ImagePipeline.from_pretrained(args.checkpoint, device=args.device)
    overrides = sampling_overrides(args)
    result = pipe(
        args.num, prompt=args.prompt, seed=args.seed,
        intermediates=STRIP_TIMESTEPS if args.intermediates else (), **overrides,
    )
    settings = pipe.settings(**overrides)
    out = Path(args.out)
    with atomic_folder(out, kind=OUTPUT_FOLDER, force=args.force) as tmp:
        for index, image in enumerate(result.images):
            write_image(tmp / f"image_{index:03d}.png", image)
        write_image(tmp / "grid.png", image_grid(result.images))
        if args.intermediates:
            write_image(tmp / "intermediates.png", intermediate_strip(result))
        record = {
            "num": len(result), "size": list(result.images.shape[1:3]), "seed": result.seed,
            "prompt": args.prompt, "checkpoint": args.checkpoint or "bundled", "generation": settings.to_dict(),
        }
        write_text_atomic(tmp / OUTPUT_FILE, json.dumps(record, indent=2) + "\n")
    what = f" for {args.prompt!r}" if args.prompt else ""
    side = result.images.shape[1]
    print(f"wrote {len(result)} images of {side}x{side}{what} to {out}/ (seed {result.seed})")
    return 0
