"""`vhdiff eval motion`: evaluate real and generated motion against a dataset split.

    vhdiff eval motion --data DIR [--checkpoint CKPT | --generator MODULE:FUNCTION]
                       [--split test] [--num-samples N] [--out metrics.json]

prints the table (ground truth, the split-vs-split floor, generated) and writes JSON.
Needs a trained evaluator in DIR/evaluator (`vhdiff prep motion-evaluator DIR`).

Generators. The eval code calls one function,
`generate_fn(captions: list[str], lengths: list[int]) -> Tensor[B, T, D]` of normalised
features (`vhdiff.motion.metrics.protocol`). It is made by a factory

    factory(checkpoint: str | None, *, data: Path, stats: FeatureStats, fps: float,
            device: str, seed: int) -> generate_fn

`--checkpoint CKPT` uses the text-to-motion pipeline's factory,
`vhdiff.motion.pipeline:load_generate_fn` (the MotionPipeline); `--generator MODULE:FUNCTION`
names any other factory (your own model, a baseline), called with the checkpoint if given.
Without either, only the ground truth is evaluated (against itself across splits).

`--evaluator t2m:DIR` scores with HumanML3D's official evaluator of Guo et al. 2022 instead
(`vhdiff.motion.metrics.t2m`; DIR = T2M's checkpoints/, --data = HumanML3D's folder), with
T2M's protocol: 20 replications (--replications), MultiModality 30 motions per caption.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from vhdiff.diffusion import SAMPLER_NAMES, SPACINGS

__all__ = ["PIPELINE_FACTORY", "add_arguments", "load_generator", "run"]

MAX_EVAL_SAMPLES = 100_000  # clips (or captions) per split: every motion is held for the metrics
MAX_MM_REPEATS = 100  # motions per MultiModality caption
MAX_REPLICATIONS = 100
T2M_PREFIX = "t2m:"  # --evaluator t2m:DIR selects the official T2M evaluator

PIPELINE_FACTORY = "vhdiff.motion.pipeline:load_generate_fn"
DEVICE_CHOICES = ("auto", "cpu", "cuda")  # as vhdiff.training.distributed (not imported: torch)
DATASET_FPS = 20.0  # the frame rate MotionTextDataset reads by default (HumanML3D's)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="dataset folder (with evaluator/ inside)")
    parser.add_argument("--checkpoint", default=None, help="text-to-motion checkpoint to evaluate")
    parser.add_argument(
        "--generator",
        default=None,
        metavar="MODULE:FUNCTION",
        help=f"generator factory (default with --checkpoint: {PIPELINE_FACTORY})",
    )
    parser.add_argument(
        "--evaluator", default=None,
        help="evaluator folder (default DATA/evaluator), or t2m:DIR for HumanML3D's official "
        "T2M evaluator (DIR: T2M's checkpoints/; docs/t2m_evaluator.md)",
    )
    parser.add_argument("--glove", default=None,
                        help="t2m:DIR only: T2M's glove/ folder (default: next to DIR)")
    parser.add_argument("--replications", type=int, default=None,
                        help="t2m:DIR only: evaluation rounds, mean and 95%% interval (default 20)")
    parser.add_argument("--sampler", default=None, choices=SAMPLER_NAMES,
                        help="--checkpoint's sampler (default: the model's setting)")
    parser.add_argument("--steps", type=int, default=None,
                        help="--checkpoint's sampling steps (default: the model's setting)")
    parser.add_argument("--timestep-spacing", default=None, choices=SPACINGS,
                        help="--checkpoint's timestep grid (default: the model's setting)")
    parser.add_argument("--guidance", type=float, default=None,
                        help="--checkpoint's classifier-free guidance (default: the model's; 1 = none)")
    parser.add_argument("--guidance-interval", default=None, metavar="T_MIN:T_MAX",
                        help="--checkpoint: timesteps where guidance acts, or all (default: the model's)")
    parser.add_argument("--snap", type=float, default=None, metavar="STRENGTH",
                        help="--checkpoint: prompt snapping, 0 (off) to 1 (default: the model's)")
    parser.add_argument("--smoothing", type=float, default=0.0, metavar="FRAMES",
                        help="--checkpoint: temporal smoothing of the output (default 0: raw)")
    parser.add_argument("--foot-lock", action="store_true",
                        help="--checkpoint: hold planted feet still (vhdiff.motion.postprocess.foot_lock); "
                        "default off, the model's raw output is scored")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument(
        "--reference-split",
        default="val",
        choices=["train", "val", "test", "none"],
        help="real split scored against --split for the split-vs-split FID floor (default val)",
    )
    parser.add_argument(
        "--num-samples", type=int, default=None, help="clips per split (default all)"
    )
    parser.add_argument("--mm-texts", type=int, default=100, help="captions for MultiModality")
    parser.add_argument(
        "--mm-repeats", type=int, default=None,
        help="motions per MultiModality caption (default 10; 30 with t2m:DIR, as T2M)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="captions per generate_fn call")
    parser.add_argument("--seed", type=int, default=0, help="caption draws and generation (default 0)")
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto", help="auto (CUDA if present), cpu, cuda"
    )
    parser.add_argument("--out", default="metrics.json", help="JSON report (default metrics.json)")


def _factory(spec: str) -> Any:
    module_name, sep, function = spec.partition(":")
    if not sep or not module_name or not function:
        raise ValueError(f"--generator must be MODULE:FUNCTION (e.g. mypkg.gen:make), got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if spec == PIPELINE_FACTORY:
            raise ValueError(
                "--checkpoint needs the text-to-motion pipeline (vhdiff.motion.pipeline), which "
                "this vhdiff does not have yet; evaluate the ground truth only (no --checkpoint) "
                "or pass your own --generator MODULE:FUNCTION"
            ) from exc
        raise ValueError(f"--generator: cannot import {module_name!r} ({exc})") from exc
    factory = getattr(module, function, None)
    if not callable(factory):
        raise ValueError(f"--generator: {module_name!r} has no function {function!r}")  # noqa: TRY004
    return factory


def load_generator(
    checkpoint: str | None,
    generator: str | None,
    *,
    data: Path,
    stats: Any,
    fps: float,
    device: str,
    seed: int,
    sampling: dict[str, Any] | None = None,
) -> Any:
    """The generate_fn for --checkpoint / --generator, or None when neither is given.

    `sampling` (sampler, steps, guidance, smoothing, foot_lock) goes to the built-in pipeline factory only."""
    if checkpoint is None and generator is None:
        return None
    if checkpoint is not None and not Path(checkpoint).exists():
        raise FileNotFoundError(f"--checkpoint {checkpoint!r} does not exist")
    factory = _factory(generator or PIPELINE_FACTORY)
    extra = dict(sampling or {}) if generator is None else {}
    generate_fn = factory(
        checkpoint, data=data, stats=stats, fps=fps, device=device, seed=seed, **extra
    )
    if not callable(generate_fn):
        raise ValueError(  # noqa: TRY004 - reported to the user as a bad --generator
            f"the generator factory returned {type(generate_fn).__name__}, not a function"
        )
    return generate_fn


def check_sizes(args: argparse.Namespace) -> None:
    """The options that size the evaluation and its memory, each within its range."""
    from vhdiff.commands.options import MAX_BATCH, check_range, check_seed
    from vhdiff.motion.postprocess.smoothing import check_sigma

    check_range("--num-samples", args.num_samples, 1, MAX_EVAL_SAMPLES, unit="clips")
    check_range("--batch-size", args.batch_size, 1, MAX_BATCH, unit="captions")
    check_range("--mm-texts", args.mm_texts, 0, MAX_EVAL_SAMPLES, unit="captions")
    check_range("--mm-repeats", args.mm_repeats, 0, MAX_MM_REPEATS, unit="motions per caption")
    check_sigma(args.smoothing, name="--smoothing")
    check_seed("--seed", args.seed)
    check_range("--replications", args.replications, 1, MAX_REPLICATIONS, unit="rounds")


def _sampling(args: argparse.Namespace) -> dict[str, Any]:
    """The --checkpoint sampling options, for the built-in pipeline factory."""
    names = ("sampler", "steps", "guidance", "timestep_spacing", "snap", "guidance_interval",
             "smoothing", "foot_lock")  # fmt: skip
    return {name: getattr(args, name) for name in names}


def _generator_name(args: argparse.Namespace) -> str:
    if args.checkpoint or args.generator:
        return f"generated ({Path(args.checkpoint).name if args.checkpoint else args.generator})"
    return "generated"


def run(args: argparse.Namespace) -> int:
    from vhdiff.atomic_io import check_writable
    from vhdiff.motion.data import STATS_FILE, require_dataset_folder
    from vhdiff.motion.metrics.evaluator import EVALUATOR_DIR, load_evaluator
    from vhdiff.motion.metrics.report import check_multimodality_settings, evaluate_motion
    from vhdiff.motion.representation.stats import FeatureStats
    from vhdiff.training.distributed import resolve_device

    check_sizes(args)
    check_writable(Path(args.out).parent)  # the report comes last: the place is probed first
    data = require_dataset_folder(args.data, what="--data")
    if args.evaluator and args.evaluator.startswith(T2M_PREFIX):
        return run_t2m(args, data)
    if args.glove is not None or args.replications is not None:
        raise ValueError(f"--glove and --replications go with --evaluator {T2M_PREFIX}DIR only")
    mm_repeats = 10 if args.mm_repeats is None else args.mm_repeats
    check_multimodality_settings(args.mm_texts, mm_repeats)
    device = str(resolve_device(args.device))
    folder = Path(args.evaluator) if args.evaluator else data / EVALUATOR_DIR
    evaluator = load_evaluator(folder, device=device)
    stats = FeatureStats.load(data / STATS_FILE)
    generate_fn = load_generator(
        args.checkpoint, args.generator, data=data, stats=stats, fps=DATASET_FPS,
        device=device, seed=args.seed,
        sampling=_sampling(args),
    )
    name = _generator_name(args)
    report = evaluate_motion(
        data,
        generate_fn=generate_fn,
        generator_name=name,
        evaluator=evaluator,
        split=args.split,
        reference_split=None if args.reference_split == "none" else args.reference_split,
        num_samples=args.num_samples,
        mm_texts=args.mm_texts,
        mm_repeats=mm_repeats,
        batch_size=args.batch_size,
        seed=args.seed,
        device=device,
    )
    report.settings["evaluator_dir"] = str(folder)
    report.settings["checkpoint"] = args.checkpoint
    report.settings["generator"] = args.generator or (PIPELINE_FACTORY if args.checkpoint else None)
    print(report.table())
    path = report.save(args.out)
    print(f"wrote {path}")
    return 0


def run_t2m(args: argparse.Namespace, data: Path) -> int:
    """`--evaluator t2m:DIR`: T2M's official evaluator and protocol on a HumanML3D folder."""
    from vhdiff.motion.metrics.report import check_multimodality_settings
    from vhdiff.motion.metrics.t2m import evaluate_t2m, load_t2m_evaluator
    from vhdiff.motion.representation.humanml3d import load_feature_stats
    from vhdiff.training.distributed import resolve_device

    folder = args.evaluator[len(T2M_PREFIX) :]
    if not folder:
        raise ValueError(f"--evaluator {T2M_PREFIX}DIR needs DIR (T2M's checkpoints/ folder)")
    if not (data / "new_joint_vecs").is_dir():
        raise ValueError(
            f"the t2m evaluator needs HumanML3D's 263-dim features: --data {str(data)!r} has no "
            "new_joint_vecs/; point it at HumanML3D's folder (new_joint_vecs/, texts/, Mean.npy, Std.npy)"
        )
    mm_repeats = 30 if args.mm_repeats is None else args.mm_repeats
    check_multimodality_settings(args.mm_texts, mm_repeats)
    stats = load_feature_stats(data)
    device = str(resolve_device(args.device))
    evaluator = load_t2m_evaluator(folder, glove=args.glove, device=device)
    generate_fn = load_generator(
        args.checkpoint, args.generator, data=data, stats=stats, fps=DATASET_FPS,
        device=device, seed=args.seed,
        sampling=_sampling(args),
    )
    name = _generator_name(args)
    report = evaluate_t2m(
        data, evaluator, generate_fn=generate_fn, stats=stats, generator_name=name,
        split=args.split, num_samples=args.num_samples,
        replications=20 if args.replications is None else args.replications,
        mm_texts=args.mm_texts, mm_repeats=mm_repeats, batch_size=args.batch_size,
        seed=args.seed, progress=lambda line: print(line, flush=True),
    )  # fmt: skip
    report.settings["evaluator_dir"] = folder
    report.settings["checkpoint"] = args.checkpoint
    report.settings["generator"] = args.generator or (PIPELINE_FACTORY if args.checkpoint else None)
    print(report.table())
    print(f"wrote {report.save(args.out)}")
    return 0
