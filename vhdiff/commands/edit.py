"""`vhdiff edit`: edit an image with the image model (SDEdit, inpainting, DDIM inversion).

    vhdiff edit IN.png --prompt TEXT [--strength 0.5] --out OUT.png        # SDEdit
    vhdiff edit IN.png --mask MASK.png [--prompt TEXT] --out OUT.png        # inpaint the white region
    vhdiff edit IN.png --invert [--prompt TEXT] --out OUT.png               # inversion round trip

SDEdit (Meng et al. 2022) noises the image to t = strength * T and denoises it with the
prompt: 0.3 keeps the layout, 1 is a new sample. --mask repaints the mask's white pixels
and keeps the black ones exactly (RePaint); the mask must be black and white and of the
input's size. --invert runs DDIM inversion to x_T and back and prints the round-trip error;
OUT.png is the reconstruction and OUT's stem + "_noise.png" the inverted x_T as a picture.
An input whose sides the model does not take is resized (a note says so). OUT.png must not
exist (replaced with --force) and is written atomically; every check runs before the model
loads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vhdiff.atomic_io import check_writable
from vhdiff.commands.options import (
    add_sampling_arguments,
    check_seed,
    check_settings,
    sampling_overrides,
)

__all__ = ["DEFAULT_STRENGTH", "add_arguments", "run"]

DEFAULT_STRENGTH = 0.5
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="the image to edit (PNG, JPEG or WebP)")
    parser.add_argument("--prompt", default=None, help="text condition (a text-conditional model)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--strength", type=float, default=None,
                      help=f"SDEdit: how far to noise the image, in (0, 1] (default {DEFAULT_STRENGTH})")
    mode.add_argument("--mask", default=None, metavar="MASK.png", help="inpaint: repaint the white pixels")
    mode.add_argument("--invert", action="store_true", help="DDIM inversion to x_T and the reconstruction")
    add_sampling_arguments(parser)
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help="an image pipeline folder (default: the model bundled with vhdiff)")
    parser.add_argument("--out", required=True, metavar="OUT.png", help="the edited image")
    parser.add_argument("--force", action="store_true", help="replace OUT.png if it exists")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')


def _outputs(args: argparse.Namespace) -> list[Path]:
    out = Path(args.out)
    return [out, out.with_name(f"{out.stem}_noise{out.suffix}")] if args.invert else [out]


def _validate(args: argparse.Namespace) -> None:
    from vhdiff.image.pipeline import ImageGeneration, open_image, read_mask

    check_seed("--seed", args.seed)
    check_settings(ImageGeneration, sampling_overrides(args))
    if args.strength is not None and not 0.0 < args.strength <= 1.0:  # NaN fails too
        raise ValueError(f"--strength must lie in (0, 1] (0.3 keeps the layout, 1 is a new sample), got {args.strength}")
    if args.prompt is not None and not args.prompt.strip():
        raise ValueError("--prompt is empty; give text, or leave it out")
    source = Path(args.input)
    if not source.is_file():
        raise FileNotFoundError(f"input image {str(source)!r} does not exist; check the path")
    width, height = open_image(source).size  # a one-line error for a file that is not an image
    if args.mask is not None:
        read_mask(args.mask, like=(height, width))
    for path in _outputs(args):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"--out {str(path)!r} needs an image suffix ({' / '.join(IMAGE_SUFFIXES)})")
        if path.is_dir():
            raise ValueError(f"--out {str(path)!r} is a folder; give a file name such as edited.png")
        if path.exists() and not args.force:
            raise FileExistsError(f"{str(path)!r} exists; pass --force to replace it, or choose another --out")
        if path.resolve() == source.resolve():
            raise ValueError(f"--out {str(path)!r} is the input image; write the edit to another file")
    check_writable(Path(args.out).parent)


def run(args: argparse.Namespace) -> int:
    _validate(args)
    from vhdiff.image.pipeline import ImagePipeline
    from vhdiff.viz.writers import write_image

    pipe = ImagePipeline.from_pretrained(args.checkpoint, device=args.device)
    overrides = sampling_overrides(args)
    out = Path(args.out)
    if args.invert:
        inv = pipe.invert(args.input, prompt=args.prompt, steps=args.steps)
        for note in inv.notes:
            print(f"note: {note}")
        noise = ((inv.x_T.clamp(-3, 3) + 3) / 6).permute(1, 2, 0).numpy()  # x_T drawn: +-3 sigma -> [0, 1]
        write_image(out, inv.reconstruction)
        write_image(_outputs(args)[1], noise)
        print(f"inverted {args.input} to x_T in {inv.steps} DDIM steps and back: round-trip RMSE "
              f"{inv.error:.2f} of 255 levels (largest {inv.max_error}); wrote {out} and {_outputs(args)[1]}")
        return 0
    if args.mask is not None:
        result = pipe.inpaint(args.input, args.mask, prompt=args.prompt, seed=args.seed, steps=args.steps,
                              guidance=args.guidance)
        changed = int((result.image != result.source)[~result.mask].any(axis=-1).sum())
        summary = (f"inpainted {int(result.mask.sum())} masked pixels; {changed} unmasked pixels changed")
    else:
        strength = DEFAULT_STRENGTH if args.strength is None else args.strength
        result = pipe.edit(args.input, prompt=args.prompt, strength=strength, seed=args.seed, **overrides)
        summary = f"SDEdit at strength {strength:g}: mean distance to the input {result.distance:.3f}"
    for note in result.notes:
        print(f"note: {note}")
    write_image(out, result.image)
    what = f" for {args.prompt!r}" if args.prompt else ""
    print(f"{summary}{what}; wrote {out} (seed {result.seed})")
    return 0
