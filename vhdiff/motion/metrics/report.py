"""`evaluate_motion`: the whole evaluation of a dataset split (and a generator), as a report.

    from vhdiff.motion.metrics.report import evaluate_motion
    report = evaluate_motion("data/motion", generate_fn=my_generate_fn)   # or None
    print(report.table())
    report.save("metrics.json")

Rows (see `vhdiff.motion.metrics.protocol` for the protocol):

- "ground truth (test)": the real clips of the evaluated split with their captions; no
  FID (it is the reference).
- "ground truth (val) [floor]": the real clips of the reference split (val) scored against
  the evaluated split: its FID is the split-vs-split FID, the floor a perfect generator
  reaches with this many samples; its R-precision is the real clips' on the other split.
- "generated": the motions `generate_fn` makes for the evaluated split's captions and
  lengths, with FID against the evaluated split, and MultiModality.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .protocol import (
    MM_PAIRS,
    GenerateFn,
    MotionEvalRow,
    generate_motion_set,
    motion_set_from_dataset,
    score_motion_set,
)

__all__ = ["MotionEvalReport", "check_multimodality_settings", "evaluate_motion", "format_table"]


@dataclass
class MotionEvalReport:
    """Rows of the table plus the settings and timings that produced them."""

    rows: list[MotionEvalRow]
    split_fid: float | None
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def row(self, name_prefix: str) -> MotionEvalRow:
        """The first row whose name starts with `name_prefix`."""
        for row in self.rows:
            if row.name.startswith(name_prefix):
                return row
        raise KeyError(f"no row named {name_prefix!r}; rows: {[r.name for r in self.rows]}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "split_fid": self.split_fid,
            "rows": [row.as_dict() for row in self.rows],
            "notes": self.notes,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }

    def table(self) -> str:
        return format_table(self.rows, self.notes)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the report as JSON atomically."""
        from vhdiff.atomic_io import write_text_atomic

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(self.as_dict(), indent=2) + "\n")
        return path


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(rows: list[MotionEvalRow], notes: list[str] = ()) -> str:
    """A fixed-width text table of the rows (None shows as "-"), then the notes."""
    header = (
        ("", max(len(row.name) for row in rows) + 2), ("N", 5), ("FID", 8),
        ("R@1", 6), ("R@2", 6), ("R@3", 6), ("MM-Dist", 8),
        ("Divers.", 8), ("MModal.", 8), ("Skate", 6), ("Pen.(m)", 8), ("Jitter", 8),
    )  # fmt: skip
    lines = [
        "".join(
            f"{name:>{width}}" if i else f"{name:<{width}}"
            for i, (name, width) in enumerate(header)
        )
    ]
    for row in rows:
        cells = (
            row.name, str(row.num_samples), _cell(row.fid, 3),
            *(f"{v:.3f}" for v in row.r_precision), f"{row.mm_dist:.3f}",
            f"{row.diversity:.3f}", _cell(row.multimodality, 3), f"{row.skating_ratio:.3f}",
            f"{row.penetration:.4f}", f"{row.jitter:.1f}",
        )  # fmt: skip
        lines.append(
            "".join(
                f"{c:>{w}}" if i else f"{c:<{w}}"
                for i, (c, (_, w)) in enumerate(zip(cells, header))
            )
        )
    lines.append(
        "R@k chance = k/32. MM-Dist/Diversity: unit-norm embeddings (range 0-2). Skate: foot "
        "skating ratio; Pen.: ground penetration (m); Jitter: mean jerk (m/s^3)."
    )
    lines.extend(f"note: {note}" for note in notes)
    return "\n".join(lines)


def check_multimodality_settings(mm_texts: int, mm_repeats: int) -> None:
    """ValueError unless mm_texts >= 0 and mm_repeats is 0 (skip) or >= MM_PAIRS."""
    if mm_texts < 0 or mm_repeats < 0 or 0 < mm_repeats < MM_PAIRS:
        raise ValueError(
            f"mm_repeats={mm_repeats}, mm_texts={mm_texts}: MultiModality draws {MM_PAIRS} pairs "
            f"among each caption's motions, so --mm-repeats must be 0 (skip it) or >= {MM_PAIRS}, "
            "and --mm-texts >= 0"
        )


def evaluate_motion(
    data: str | os.PathLike,
    *,
    generate_fn: GenerateFn | None = None,
    generator_name: str = "generated",
    evaluator: Any = None,
    split: str = "test",
    reference_split: str | None = "val",
    num_samples: int | None = None,
    mm_texts: int = 100,
    mm_repeats: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> MotionEvalReport:
    """Evaluate the real clips of `split` (and `generate_fn`'s motions) with the evaluator.

    data: the dataset folder; evaluator: a TextMotionEvaluator, or None to load
    `data/evaluator` (written by `vhdiff prep motion-evaluator DATA`).
    num_samples: clips of each split to use (None = all; a seeded subset otherwise).
    mm_texts / mm_repeats: MultiModality draws `mm_repeats` motions for each of `mm_texts`
    captions (capped at the number of clips); 0 skips it.
    """
    from vhdiff.motion.data import MotionTextDataset, require_dataset_folder
    from vhdiff.motion.metrics.evaluator import EVALUATOR_DIR, load_evaluator

    data = require_dataset_folder(data)
    check_multimodality_settings(mm_texts, mm_repeats)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    if evaluator is None:
        evaluator = load_evaluator(data / EVALUATOR_DIR, device=device)
    test = MotionTextDataset(data, split)
    if evaluator.feature_dim != test.feature_dim:
        raise ValueError(
            f"the evaluator takes {evaluator.feature_dim}-dim features but {data} has "
            f"{test.feature_dim}; train an evaluator on this dataset"
        )
    fps = test.fps
    common = {"evaluator": evaluator, "stats": test.stats, "fps": fps, "seed": seed}
    truth = motion_set_from_dataset(test, num_samples=num_samples, seed=seed)
    seconds["load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    truth_row, truth_emb = score_motion_set(
        f"ground truth ({split})", truth, reference_emb=None, **common
    )
    rows, notes = [truth_row], []
    seconds["ground_truth"] = time.perf_counter() - clock

    split_fid = None
    if reference_split and reference_split != split:
        clock = time.perf_counter()
        reference = MotionTextDataset(data, reference_split, stats=test.stats)
        ref = motion_set_from_dataset(reference, num_samples=num_samples, seed=seed + 1)
        ref_row, _ = score_motion_set(
            f"ground truth ({reference_split}) [floor]", ref, reference_emb=truth_emb, **common
        )
        split_fid = ref_row.fid
        rows.append(ref_row)
        notes.append(
            f"'ground truth ({reference_split}) [floor]' scores the real {reference_split} clips "
            f"against {split}: its FID ({split_fid:.4f}) is the split-vs-split FID, the floor a "
            "perfect generator reaches with this many samples"
        )
        seconds["reference"] = time.perf_counter() - clock

    if generate_fn is None:
        notes.append(
            "no generator (--checkpoint): the ground truth is evaluated against itself; "
            "there is no generated row"
        )
    else:
        clock = time.perf_counter()
        generated = generate_motion_set(
            generate_fn, truth.captions, truth.lengths, feature_dim=test.feature_dim,
            batch_size=batch_size,
        )  # fmt: skip
        mm_emb = None
        count = min(mm_texts, len(truth))
        if count > 0 and mm_repeats > 0:
            pick = np.sort(np.random.default_rng(seed).permutation(len(truth))[:count])
            captions = [truth.captions[i] for i in pick for _ in range(mm_repeats)]
            lengths = [truth.lengths[i] for i in pick for _ in range(mm_repeats)]
            repeats = generate_motion_set(
                generate_fn, captions, lengths, feature_dim=test.feature_dim, batch_size=batch_size
            )
            mm_emb = evaluator.embed_motions(repeats.features, repeats.mask).reshape(
                count, mm_repeats, -1
            )
        row, _ = score_motion_set(
            generator_name, generated, reference_emb=truth_emb, mm_emb=mm_emb, **common
        )
        rows.append(row)
        seconds["generated"] = time.perf_counter() - clock

    settings = {
        "data": str(data),
        "split": split,
        "reference_split": reference_split,
        "num_samples": len(truth),
        "fps": fps,
        "seed": seed,
        "mm_texts": min(mm_texts, len(truth)) if generate_fn is not None else 0,
        "mm_repeats": mm_repeats,
        "r_precision_batch": 32,
        "evaluator": dict(evaluator.config),
    }
    return MotionEvalReport(
        rows=rows, split_fid=split_fid, settings=settings, notes=notes, seconds=seconds
    )
