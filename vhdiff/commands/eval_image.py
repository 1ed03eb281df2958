"""`vhdiff eval image`: likelihood, FID and pose recognition of an image model on a held-out split.

    vhdiff eval image --data DIR [--checkpoint DIR | --bundled] [--nll-num 100] [--fid-num 1000] [--edit-num 20]
                      [--split test] [--seed S] [--json OUT] [sampling flags]

prints bits/dim of lossless PNG and WebP on --nll-num held-out images and, with a model,
its bits/dim through the full variational bound (L_T, sum L_{t-1}, L_0); the real-vs-real
FID (train subset vs the split, same count) and the model's (one sample per held-out
caption); the pose-family classifier's hit rate on those samples (DATA/pose_classifier,
`vhdiff prep pose-classifier DATA`); and the editing report (SDEdit distance, layout and
families against strength, inpainting's kept pixels, inversion's round trip;
vhdiff.image.edit_evaluation). What each number is: vhdiff.image.evaluation.
--nll-num 0 / --fid-num 0 / --edit-num 0 skip a part.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vhdiff.commands.options import (
    add_sampling_arguments,
    check_range,
    check_seed,
    check_settings,
    sampling_overrides,
)

MAX_NUM = 50_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="an image set folder (vhdiff prep human-images)")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--checkpoint", default=None, metavar="DIR", help="an image pipeline folder")
    model.add_argument("--bundled", action="store_true", help="evaluate the model bundled with vhdiff")
    parser.add_argument("--nll-num", type=int, default=100,
                        help="held-out images for bits/dim (T model calls each; default 100, 0 = skip)")
    parser.add_argument("--fid-num", type=int, default=1000,
                        help="images per FID set (default 1000, 0 = skip)")
    parser.add_argument("--edit-num", type=int, default=20,
                        help="held-out images for the editing report (SDEdit vs strength, inpainting, inversion; "
                             "default 20, 0 = skip)")
    parser.add_argument("--split", default="test", choices=("test", "val"), help="held-out split (default test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subsets and the samples (default 0)")
    add_sampling_arguments(parser)
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the report as JSON")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')


def _print(report) -> None:
    c = report.codecs
    if c:
        line = f"bits/dim on {c['num']} {report.split} images: PNG {c['png']:.3f}, WebP {c['webp']:.3f}"
        if report.nll:
            n = report.nll
            line += (f"; model {n['total']:.3f} +- {n['total_se']:.3f} (L_T {n['prior']:.4f}, "
                     f"sum L_t-1 {n['diffusion']:.3f}, L_0 {n['decoder']:.3f})")
        print(line)
    f = report.fid
    if f:
        line = f"FID at {f['num']} images: train vs {report.split} {f['train_vs_test']:.2f}"
        if "generated_vs_test" in f:
            line += f"; generated vs {report.split} {f['generated_vs_test']:.2f} ({f['ratio']:.2f}x; prompts: {f['prompts']})"
        print(line)
    p = report.pose
    if p and "skipped" in p:
        print(f"pose classifier: {p['skipped']}")
    elif p:
        print(f"pose family recognised in {100 * p['generated']:.1f}% of {p['num']} prompted samples "
              f"(real {report.split} renders: {100 * p['real']:.1f}%; chance {100 * p['chance']:.0f}%)")
    e = report.edits
    if e:
        print(f"SDEdit on {e['num']} {report.split} images (prompts: {e['prompts']}):")
        for row in e["sdedit"]:
            line = f"  strength {row['strength']:.1f}: distance {row['distance']:.3f}, layout {row['layout_distance']:.3f}"
            if "keeps_input_family" in row:
                line += f", input's family kept {100 * row['keeps_input_family']:.0f}%"
            if "reaches_prompt_family" in row:
                line += f", prompt's family {100 * row['reaches_prompt_family']:.0f}%"
            print(line)
        print(f"inpainting ({e['inpaint']['region']}): largest change of a kept pixel {e['inpaint']['kept_max_change']} "
              f"levels; inversion round trip: RMSE {e['invert']['rmse_levels']:.2f} levels, "
              f"max {e['invert']['max_error_levels']}")


def run(args: argparse.Namespace) -> int:
    from vhdiff.atomic_io import check_writable, write_text_atomic
    from vhdiff.image.evaluation import evaluate_images
    from vhdiff.image.pipeline import ImageGeneration, ImagePipeline

    check_range("--nll-num", args.nll_num, 0, MAX_NUM, unit="images")
    check_range("--fid-num", args.fid_num, 0, MAX_NUM, unit="images")
    check_range("--edit-num", args.edit_num, 0, MAX_NUM, unit="images")
    if 0 < args.fid_num < 2:
        raise ValueError("--fid-num must be 0 (skip) or at least 2 (FID fits a covariance)")
    check_seed("--seed", args.seed)
    overrides = sampling_overrides(args)
    check_settings(ImageGeneration, overrides)
    if not (Path(args.data) / "dataset.json").is_file():
        raise FileNotFoundError(f"{args.data!r} is not an image set (no dataset.json); make one with `vhdiff prep human-images`")
    if args.json is not None:
        check_writable(Path(args.json).parent)
    pipe = None
    if args.checkpoint or args.bundled:
        pipe = ImagePipeline.from_pretrained(args.checkpoint, device=args.device)
    settings = {k: v for k, v in overrides.items() if v is not None}
    report = evaluate_images(args.data, pipeline=pipe, split=args.split, nll_num=args.nll_num,
                             fid_num=args.fid_num, edit_num=args.edit_num, seed=args.seed, settings=settings, device=args.device)
    _print(report)
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(report.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
