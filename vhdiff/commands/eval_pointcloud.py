"""`vhdiff eval pointcloud`: the field's point-cloud metrics of a model against a test split.

    vhdiff eval pointcloud --data DIR [--checkpoint DIR | --bundled] [--num N] [--split test]
                           [--emd approx|exact|none] [--seed S] [--json OUT] [sampling flags]

prints the table (vhdiff.pointcloud.evaluation: the train-vs-test reference row and the
generated row, each in the global and the per-shape-box view) and writes it as JSON with
--json. Without a model only the reference row is computed. The generated row samples
unconditionally (a conditional model with its null condition); a pose-conditional model
also gets the pose-fidelity line (`pose_fidelity`: --pose-num test poses, one cloud each).
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

MAX_NUM = 10_000  # clouds per set: the metrics hold a (2N)^2 distance matrix
EMD_CHOICES = ("approx", "exact", "none")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="point-cloud set folder (vhdiff prep human-pointclouds)")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--checkpoint", default=None, metavar="DIR", help="a point-cloud pipeline folder")
    model.add_argument("--bundled", action="store_true", help="evaluate the model bundled with vhdiff")
    parser.add_argument("--num", type=int, default=100, help="references (and samples) per row (default 100)")
    parser.add_argument("--split", default="test", choices=("test", "val"), help="reference split (default test)")
    parser.add_argument("--emd", default="approx", choices=EMD_CHOICES,
                        help="EMD columns: approx (fast, error stated in the docs), exact (slow), none")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subsets and the samples (default 0)")
    parser.add_argument("--pose-num", type=int, default=20,
                        help="test poses for a pose-conditional model's pose fidelity (default 20)")
    add_sampling_arguments(parser)
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the table as JSON")
    parser.add_argument("--device", default="cpu", help='torch device, e.g. "cpu" or "cuda"')


def _table(report) -> str:
    columns = ("1-NNA-CD", "1-NNA-EMD", "COV-CD", "COV-EMD", "MMD-CD", "MMD-EMD", "JSD")
    keys = ("nna_cd", "nna_emd", "cov_cd", "cov_emd", "mmd_cd", "mmd_emd", "jsd")
    percent = {"nna_cd", "nna_emd", "cov_cd", "cov_emd"}
    lines = [f"{'row':<16} {'view':<11} " + " ".join(f"{c:>9}" for c in columns)]
    for row in report.rows:
        cells = []
        for key in keys:
            value = row.metrics.get(key)
            cells.append("-" if value is None else f"{100 * value:.1f}%" if key in percent else f"{value:.4g}")
        lines.append(f"{row.name:<16} {row.view:<11} " + " ".join(f"{c:>9}" for c in cells))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from vhdiff.atomic_io import check_writable, write_text_atomic
    from vhdiff.pointcloud.data import read_set_info
    from vhdiff.pointcloud.evaluation import evaluate_pointclouds, pose_fidelity
    from vhdiff.pointcloud.pipeline import PointCloudGeneration, PointCloudPipeline

    check_range("--num", args.num, 2, MAX_NUM, unit="clouds")
    check_range("--pose-num", args.pose_num, 1, MAX_NUM, unit="poses")
    check_seed("--seed", args.seed, uses=args.num)
    overrides = sampling_overrides(args)
    check_settings(PointCloudGeneration, overrides)
    read_set_info(args.data)  # a one-line error for a folder that is not a set
    if args.json is not None:
        check_writable(Path(args.json).parent)
    pipe = None
    if args.checkpoint or args.bundled:
        pipe = PointCloudPipeline.from_pretrained(args.checkpoint, device=args.device)
    settings = {k: v for k, v in overrides.items() if v is not None}
    report = evaluate_pointclouds(
        args.data, pipeline=pipe, num=args.num, split=args.split, emd=args.emd, seed=args.seed,
        device=args.device, settings=settings,
    )
    print(f"{report.num} {args.split} references of {report.points} points, {args.data}; EMD: {args.emd}")
    print(_table(report))
    result = report.to_dict()
    if pipe is not None and pipe.condition == "pose":
        fidelity = pose_fidelity(args.data, pipeline=pipe, num=args.pose_num, split=args.split, seed=args.seed,
                                 settings=settings)
        print(f"pose fidelity ({fidelity.num} poses), mean distance to the pose's body: generated "
              f"{100 * fidelity.generated:.2f} cm, ground truth {100 * fidelity.ground_truth:.2f} cm, "
              f"another pose {100 * fidelity.other_pose:.2f} cm")
        result["pose_fidelity"] = fidelity.to_dict()
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
