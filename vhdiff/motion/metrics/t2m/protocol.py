"""T2M's evaluation protocol on HumanML3D, run with the official evaluator.

What T2M's `final_evaluations.py` and MDM's `eval/eval_humanml.py` do (Guo et al. 2022;
Tevet et al. 2023), in our own code and reusing our metric functions:

- the test clips are HumanML3D's `new_joint_vecs/ID.npy` with 40 <= T < 200 frames (longer
  or shorter clips are dropped with their segments); a caption line with a start/end segment
  is its own clip over that segment (T2M's `Text2MotionDatasetV2`);
- each pass over the split (a shuffled data loader, batch 32, `drop_last`) draws for every
  clip one caption and a crop: T frames rounded down to a multiple of 4, and with
  probability 1/3 four frames fewer, at a random start; motions are zero-padded to 196;
- per replication: pass A (ground truth) gives R-precision top-1/2/3 and MM-Dist (the
  "matching score") batch by batch and Diversity (300 pairs); pass B is FID's reference;
  pass C's captions and lengths are given to the generator (`num_samples` limits it, rounded
  up to whole batches as MDM's 1000 -> 1024); MultiModality: `mm_texts` = 100 of C's
  captions, `mm_repeats` = 30 motions each, 10 pairs;
- `replications` = 20 such rounds; each metric is reported as the mean and the 95%
  interval 1.96 * std / sqrt(replications) (MDM's `get_metric_statistics`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vhdiff.metrics.frechet import fid

from ..diversity import diversity, multimodality
from ..protocol import GenerateFn, generate_motion_set
from ..retrieval import mm_dist, r_precision
from .evaluator import MAX_MOTION_FRAMES, T2M_DIM, UNIT_LENGTH, T2MEvaluator

__all__ = [
    "BATCH_SIZE",
    "T2MClip",
    "T2MEvalReport",
    "T2MMetrics",
    "T2MRow",
    "evaluate_t2m",
    "load_t2m_clips",
    "metric_statistics",
    "score_embeddings",
]

BATCH_SIZE = 32  # R-precision's batch ("This must be 32!", MDM)
MIN_FRAMES, END_FRAMES = 40, 200  # clips kept: MIN_FRAMES <= T < END_FRAMES
DIVERSITY_TIMES, MM_TIMES = 300, 10
FPS = 20.0
GENERATION_CHUNK = 1024  # captions per generate_motion_set call
METRICS = ("fid", "top1", "top2", "top3", "mm_dist", "diversity", "multimodality")
Progress = Callable[[str], None]


@dataclass
class T2MClip:
    """One evaluation clip: raw vectors [T, 263] and its (text, word/POS tokens) captions."""

    id: str
    motion: np.ndarray
    captions: list[tuple[str, tuple[str, ...]]]


@dataclass
class T2MMetrics:
    """One replication's metrics of one row (None: not computed for it)."""

    fid: float
    top1: float
    top2: float
    top3: float
    mm_dist: float
    diversity: float
    multimodality: float | None = None


@dataclass
class T2MRow:
    """A row of the table: its replications and, per metric, (mean, 95% interval)."""

    name: str
    num_samples: int
    replications: list[T2MMetrics] = field(default_factory=list)

    def summary(self) -> dict[str, tuple[float, float] | None]:
        out: dict[str, tuple[float, float] | None] = {}
        for name in METRICS:
            values = [getattr(r, name) for r in self.replications]
            out[name] = None if any(v is None for v in values) else metric_statistics(values)
        return out


def metric_statistics(values: Any) -> tuple[float, float]:
    """(mean, 1.96 * std / sqrt(n)) of n replications, std with ddof 0 (MDM, T2M)."""
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), float(1.96 * x.std() / math.sqrt(len(x)))


def load_t2m_clips(root: str | Path, split: str = "test") -> list[T2MClip]:
    """The clips of a HumanML3D split as T2M's evaluation reads them (module docstring)."""
    from vhdiff.motion.data import read_captions, read_split
    from vhdiff.motion.representation.humanml3d import load_joint_vecs

    root = Path(root)
    clips = []
    for clip_id in read_split(root, split):
        path = root / "new_joint_vecs" / f"{clip_id}.npy"
        if not path.is_file():  # T2M skips clips it cannot read
            continue
        motion = load_joint_vecs(path)
        if not MIN_FRAMES <= len(motion) < END_FRAMES:
            continue
        text_file = root / "texts" / f"{clip_id}.txt"
        captions = read_captions(text_file)
        if any(not c.tokens for c in captions):
            raise ValueError(
                f"{str(text_file)!r} has a caption without word/POS tokens; the T2M evaluator "
                "needs HumanML3D's 'caption#tokens#start#end' lines"
            )
        whole = [(c.text, c.tokens) for c in captions if c.whole_clip]
        if whole:
            clips.append(T2MClip(clip_id, motion, whole))
        for c in captions:
            if not c.whole_clip:
                segment = motion[int(c.start * FPS) : int(c.end * FPS)]
                if MIN_FRAMES <= len(segment) < END_FRAMES:
                    clips.append(T2MClip(clip_id, segment, [(c.text, c.tokens)]))
    if len(clips) < BATCH_SIZE:
        raise ValueError(
            f"{str(root)!r} split {split!r}: {len(clips)} clips of {MIN_FRAMES}-{END_FRAMES - 1} "
            f"frames, fewer than one batch of {BATCH_SIZE}; point --data at HumanML3D's folder"
        )
    return clips


@dataclass
class _Pass:
    """One shuffled pass: per row the clip, its caption, crop start and length."""

    clip: list[int]
    caption: list[int]
    start: list[int]
    length: list[int]


def _draw_pass(clips: list[T2MClip], rng: np.random.Generator, limit: int | None = None) -> _Pass:
    order = rng.permutation(len(clips))
    batches = len(clips) // BATCH_SIZE
    if limit is not None:
        batches = min(batches, -(-limit // BATCH_SIZE))
    drawn = _Pass([], [], [], [])
    for i in order[: batches * BATCH_SIZE]:
        clip = clips[int(i)]
        frames = len(clip.motion)
        units = frames // UNIT_LENGTH - (1 if rng.integers(3) == 2 else 0)  # 'double': 1 in 3
        length = units * UNIT_LENGTH
        drawn.clip.append(int(i))
        drawn.caption.append(int(rng.integers(len(clip.captions))))
        drawn.start.append(int(rng.integers(frames - length + 1)))
        drawn.length.append(length)
    return drawn


def _padded(evaluator: T2MEvaluator, raw: list[Tensor], lengths: list[int]) -> Tensor:
    """Evaluator-normalised motions [B, 196, 263], zero after each length."""
    out = torch.zeros(len(raw), MAX_MOTION_FRAMES, T2M_DIM)
    for row, (motion, n) in enumerate(zip(raw, lengths)):
        out[row, :n] = evaluator.normalize(motion[:n].double()).float()
    return out


def _embed(
    evaluator: T2MEvaluator,
    clips: list[T2MClip],
    drawn: _Pass,
    motions: Callable[[int, int], list[Tensor]],
) -> tuple[np.ndarray, np.ndarray]:
    """(text, motion) embeddings [N, 512] of a pass; motions(lo, hi) gives raw rows lo..hi."""
    texts, moves = [], []
    for lo in range(0, len(drawn.clip), BATCH_SIZE):
        hi = lo + BATCH_SIZE
        tokens = [clips[c].captions[k][1] for c, k in zip(drawn.clip[lo:hi], drawn.caption[lo:hi])]
        texts.append(evaluator.embed_captions([evaluator.vectorizer.encode(t) for t in tokens]))
        lengths = drawn.length[lo:hi]
        batch = _padded(evaluator, motions(lo, hi), lengths)
        moves.append(evaluator.embed_motions(batch, torch.tensor(lengths)))
    return torch.cat(texts).double().cpu().numpy(), torch.cat(moves).double().cpu().numpy()


def score_embeddings(
    text_emb: np.ndarray, motion_emb: np.ndarray, reference_emb: np.ndarray, *, seed: int = 0
) -> T2MMetrics:
    """Metrics of paired embeddings [N, 512] in pass order (rows 32b..32b+31 = batch b) and
    FID against reference_emb; Diversity over min(300, N) pairs drawn with `seed`."""
    rp = r_precision(text_emb, motion_emb, batch_size=BATCH_SIZE, top_k=3, seed=None)
    return T2MMetrics(
        fid=fid(motion_emb, reference_emb),
        top1=rp.top1, top2=rp.top2, top3=rp.top3,
        mm_dist=mm_dist(text_emb, motion_emb),
        diversity=diversity(motion_emb, times=min(DIVERSITY_TIMES, len(motion_emb)), seed=seed),
    )  # fmt: skip


@dataclass
class T2MEvalReport:
    """The rows (ground truth, then the generator's) and the settings that made them."""

    rows: list[T2MRow]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "notes": self.notes,
            "rows": [
                {"name": r.name, "num_samples": r.num_samples, "summary": r.summary(),
                 "replications": [asdict(m) for m in r.replications]}
                for r in self.rows
            ],
        }  # fmt: skip

    def table(self) -> str:
        """Mean ± 95% interval per metric, as the papers print them."""
        width = max(len(r.name) for r in self.rows) + 2
        heads = ("FID", "R@1", "R@2", "R@3", "MM-Dist", "Diversity", "MModality")
        lines = [f"{'':<{width}}{'N':>6}" + "".join(f"{h:>17}" for h in heads)]
        for row in self.rows:
            cells = ["-" if s is None else f"{s[0]:.3f}±{s[1]:.3f}" for s in row.summary().values()]
            lines.append(
                f"{row.name:<{width}}{row.num_samples:>6}" + "".join(f"{c:>17}" for c in cells)
            )
        lines.append(
            f"T2M evaluator (Guo et al. 2022), {self.settings['replications']} replication(s); "
            "R@k chance = k/32; ± is the 95% interval."
        )
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def save(self, path: str | Path) -> Path:
        """Write the report as JSON atomically."""
        import json

        from vhdiff.atomic_io import write_text_atomic

        return write_text_atomic(path, json.dumps(self.as_dict(), indent=2) + "\n")


def _generated_rows(
    generate_fn: GenerateFn, stats: Any, captions: list[str], lengths: list[int], batch_size: int
) -> list[Tensor]:
    """Raw vectors (our stats denormalised) of generate_fn's motions for captions / lengths,
    made `GENERATION_CHUNK` at a time so a whole split never sits in memory padded."""
    rows: list[Tensor] = []
    for lo in range(0, len(captions), GENERATION_CHUNK):
        sizes = lengths[lo : lo + GENERATION_CHUNK]
        made = generate_motion_set(
            generate_fn, captions[lo : lo + GENERATION_CHUNK], sizes, feature_dim=T2M_DIM,
            batch_size=batch_size,
        )  # fmt: skip
        rows.extend(stats.denormalize(made.features[i, :n]) for i, n in enumerate(sizes))
    return rows


def evaluate_t2m(
    data: str | Path,
    evaluator: T2MEvaluator,
    *,
    generate_fn: GenerateFn | None = None,
    stats: Any = None,
    generator_name: str = "generated",
    split: str = "test",
    num_samples: int | None = None,
    replications: int = 20,
    mm_texts: int = 100,
    mm_repeats: int = 30,
    batch_size: int = 64,
    seed: int = 0,
    progress: Progress | None = None,
) -> T2MEvalReport:
    """Run the protocol (module docstring) on HumanML3D folder `data`.

    generate_fn: `(captions, lengths) -> Tensor[B, T, 263]` normalised with `stats` (the
    dataset's FeatureStats, HumanML3D's Mean/Std); None scores the ground truth only.
    mm_repeats 0 or mm_texts 0 skips MultiModality (it needs mm_repeats >= 10).
    """
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    if generate_fn is not None and stats is None:
        raise ValueError("evaluate_t2m needs the dataset's stats to read generate_fn's features")
    if 0 < mm_repeats < MM_TIMES:
        raise ValueError(
            f"MultiModality draws {MM_TIMES} pairs: mm_repeats must be 0 or >= {MM_TIMES}"
        )
    clips = load_t2m_clips(data, split)

    def real(drawn: _Pass) -> Callable[[int, int], list[Tensor]]:
        return lambda lo, hi: [
            torch.from_numpy(clips[c].motion[s : s + n])
            for c, s, n in zip(drawn.clip[lo:hi], drawn.start[lo:hi], drawn.length[lo:hi])
        ]

    truth = T2MRow("ground truth", 0)
    rows = [truth] + ([T2MRow(generator_name, 0)] if generate_fn is not None else [])
    for rep in range(replications):
        if progress:
            progress(f"replication {rep + 1}/{replications}")
        rng = np.random.default_rng([seed, rep])
        gt, reference = _draw_pass(clips, rng), _draw_pass(clips, rng)
        _, reference_emb = _embed(evaluator, clips, reference, real(reference))
        text_emb, motion_emb = _embed(evaluator, clips, gt, real(gt))
        truth.replications.append(
            score_embeddings(text_emb, motion_emb, reference_emb, seed=seed + rep)
        )
        truth.num_samples = len(gt.clip)
        if generate_fn is None:
            continue
        drawn = _draw_pass(clips, rng, num_samples)
        captions = [clips[c].captions[k][0] for c, k in zip(drawn.clip, drawn.caption)]
        made = _generated_rows(generate_fn, stats, captions, drawn.length, batch_size)
        text_emb, motion_emb = _embed(
            evaluator, clips, drawn, lambda lo, hi, made=made: made[lo:hi]
        )
        metrics = score_embeddings(text_emb, motion_emb, reference_emb, seed=seed + rep)
        count = min(mm_texts, len(captions))
        if count and mm_repeats:
            pick = rng.choice(len(captions), count, replace=False)
            mm_lengths = [drawn.length[i] for i in pick for _ in range(mm_repeats)]
            mm_made = _generated_rows(
                generate_fn, stats, [captions[i] for i in pick for _ in range(mm_repeats)],
                mm_lengths, batch_size,
            )  # fmt: skip
            emb = [
                evaluator.embed_motions(
                    _padded(
                        evaluator, mm_made[lo : lo + BATCH_SIZE], mm_lengths[lo : lo + BATCH_SIZE]
                    ),
                    torch.tensor(mm_lengths[lo : lo + BATCH_SIZE]),
                )
                for lo in range(0, len(mm_made), BATCH_SIZE)
            ]
            mm_emb = torch.cat(emb).double().cpu().numpy().reshape(count, mm_repeats, -1)
            metrics.multimodality = multimodality(mm_emb, times=MM_TIMES, seed=seed + rep)
        rows[1].replications.append(metrics)
        rows[1].num_samples = len(drawn.clip)
    notes = []
    if truth.num_samples < DIVERSITY_TIMES:
        notes.append(
            f"Diversity over {truth.num_samples} pairs (fewer than T2M's {DIVERSITY_TIMES} motions)"
        )
    if replications < 20:
        notes.append(f"{replications} replication(s); the papers average 20")
    settings = {
        "evaluator": "t2m (Guo et al. 2022, text_mot_match)", "data": str(data), "split": split,
        "clips": len(clips), "replications": replications, "r_precision_batch": BATCH_SIZE,
        "diversity_times": min(DIVERSITY_TIMES, truth.num_samples), "mm_texts": mm_texts,
        "mm_repeats": mm_repeats, "mm_times": MM_TIMES, "seed": seed,
        "num_samples": num_samples,
    }  # fmt: skip
    return T2MEvalReport(rows=rows, settings=settings, notes=notes)
