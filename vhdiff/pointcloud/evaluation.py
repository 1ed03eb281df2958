"""The point-cloud evaluation table: generated clouds and a reference row against a test split.

    report = evaluate_pointclouds("data/human_pointclouds", pipeline=pipe, num=100)
    report.rows        # [EvaluationRow(name, view, metrics), ...]

Rows: "train vs test" (`num` train clouds as if they were samples: the floor a perfect
generator would reach at this count) and, with a pipeline, "generated" (`num` unconditional
samples). Each row is computed in both views of the field:

- "global": samples and references through the set's global normalization (one mean, one
  scale from the train split; PointFlow / PVD / LION);
- "shape_bbox": every cloud into its own bounding box [-1, 1] (Luo & Hu).

The metrics are vhdiff.pointcloud.metrics's (CD / EMD definitions there). JSD is computed
after the references' unit-ball transform is applied to both sets (PointFlow's frame: one
centre and one scale, so it compares where the points are, not the clouds' sizes).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vhdiff.extras import require
from vhdiff.pointcloud.data import load_clouds, read_split, set_normalization
from vhdiff.pointcloud.normalization import NORMALIZATIONS, Normalization

__all__ = ["EvaluationReport", "EvaluationRow", "PoseFidelity", "evaluate_pointclouds", "pose_fidelity"]

REFERENCE_ROW = "train vs test"
GENERATED_ROW = "generated"


@dataclass
class EvaluationRow:
    """One row of the table: what was compared (`name`), in which view, and the metrics."""

    name: str
    view: str
    metrics: dict[str, Any]


@dataclass
class EvaluationReport:
    """The whole table, with what it was computed on."""

    data: str
    split: str
    num: int
    points: int
    emd: str
    seed: int
    rows: list[EvaluationRow] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    generation: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data, "split": self.split, "num": self.num, "points": self.points,
            "emd": self.emd, "seed": self.seed, "generation": self.generation, "seconds": self.seconds,
            "rows": [{"name": r.name, "view": r.view, **r.metrics} for r in self.rows],
        }


def _view(clouds: np.ndarray, view: str, global_norm: Normalization) -> np.ndarray:
    if view == "global":
        return global_norm.apply(clouds)
    return Normalization(kind="shape_bbox", mean=(0.0, 0.0, 0.0), scale=1.0).apply(clouds)


def evaluate_pointclouds(
    data: str | os.PathLike, *, pipeline: Any = None, num: int = 100, split: str = "test",
    emd: str = "approx", seed: int = 0, device: str | torch.device = "cpu",
    settings: dict[str, Any] | None = None, batch: int = 16,
) -> EvaluationReport:
    """The table of the module docstring. `num` references are drawn from `split` (all of
    them when it has fewer), as many train clouds for the reference row and as many samples
    (`pipeline(..., **settings)` in batches of `batch`, seeds seed, seed + 1, ...)."""
    from vhdiff.pointcloud.metrics import compute_metrics

    rng = np.random.default_rng(seed)
    ref_ids = read_split(data, split)
    num = min(int(num), len(ref_ids))
    refs = load_clouds(data, sorted(rng.choice(ref_ids, size=num, replace=False)))
    train_ids = read_split(data, "train")
    train = load_clouds(data, sorted(rng.choice(train_ids, size=min(num, len(train_ids)), replace=False)))
    norm = set_normalization(data, "global")
    report = EvaluationReport(data=str(data), split=split, num=num, points=refs.shape[1], emd=emd, seed=seed)
    sets = {REFERENCE_ROW: train}
    if pipeline is not None:
        start = time.perf_counter()
        overrides = {"points": refs.shape[1], **(settings or {})}
        parts = [pipeline(min(batch, num - i), seed=seed + i // batch, **overrides).points for i in range(0, num, batch)]
        sets[GENERATED_ROW] = np.concatenate(parts)
        report.seconds["sampling"] = round(time.perf_counter() - start, 2)
        report.generation = pipeline.settings(**overrides).to_dict()
    for view in NORMALIZATIONS:
        reference = torch.from_numpy(_view(refs, view, norm))
        for name, clouds in sets.items():
            start = time.perf_counter()
            metrics = compute_metrics(
                torch.from_numpy(_view(clouds, view, norm)), reference, emd=emd, device=device,
                jsd_normalization="fit_references",
            )
            report.seconds[f"{name} / {view}"] = round(time.perf_counter() - start, 2)
            report.rows.append(EvaluationRow(name=name, view=view, metrics=metrics.to_dict()))
    return report


@dataclass
class PoseFidelity:
    """How closely pose-conditioned clouds lie on the conditioning pose's body (metres).

    generated: mean distance of generated points to the pose's mean-shape body (betas 0);
    ground_truth: the same for the test cloud of that pose (its own body shape: the floor a
        perfect model reaches, since shapes vary); other_pose: the same for a test cloud of
        another pose (what ignoring the condition would give).
    Distances are to the nearest mesh vertex (the mannequin's vertices lie about 1 cm apart).
    """

    num: int
    generated: float
    ground_truth: float
    other_pose: float

    def to_dict(self) -> dict[str, Any]:
        return {"num": self.num, "generated": self.generated, "ground_truth": self.ground_truth,
                "other_pose": self.other_pose}


def pose_fidelity(
    data: str | os.PathLike, *, pipeline: Any, num: int = 20, split: str = "test", seed: int = 0,
    settings: dict[str, Any] | None = None,
) -> PoseFidelity:
    """PoseFidelity of a pose-conditional `pipeline` on `num` poses of `split`: one cloud per
    pose, as many points as the set's clouds."""
    cKDTree = require("scipy.spatial", needed_for="pose fidelity").cKDTree

    from vhdiff.body import load_body_model
    from vhdiff.pointcloud.bodies import placed_body
    from vhdiff.pointcloud.data import load_poses

    rng = np.random.default_rng(seed)
    ids = sorted(rng.choice(read_split(data, split), size=min(num, len(read_split(data, split))), replace=False))
    poses, clouds = load_poses(data, ids), load_clouds(data, ids)
    body = load_body_model(kind="mannequin")
    generated, truth, other = [], [], []
    for k, pose in enumerate(poses):
        tree = cKDTree(placed_body(body, pose)[0])
        cloud = pipeline(1, pose=pose, seed=seed + k, points=clouds.shape[1], **(settings or {})).points[0]
        generated.append(tree.query(cloud)[0].mean())
        truth.append(tree.query(clouds[k])[0].mean())
        other.append(tree.query(clouds[(k + 1) % len(clouds)])[0].mean())
    return PoseFidelity(num=len(ids), generated=float(np.mean(generated)), ground_truth=float(np.mean(truth)),
                        other_pose=float(np.mean(other)))
