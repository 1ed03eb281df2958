"""Training the text-motion evaluator (the library side of `vhdiff prep motion-evaluator DATA`).

    vhdiff prep motion-evaluator DATA [--steps 2000] [--batch-size 64] [--out DATA/evaluator]

trains `TextMotionEvaluator` on DATA's train split (random crops of up to 196 frames, one
random caption per clip per step) with AdamW, linear warm-up and cosine decay, then
measures R-precision of the ground truth on the val and test splits and saves
`config.json`, `model.safetensors` and `training.json` (settings, time, R-precision)
into the output folder. Sentence embeddings of all captions are computed once up front
(the sentence encoder is frozen).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vhdiff.training.lr_schedule import WarmupSchedule

from .evaluator import EVALUATOR_DIR, TextMotionEvaluator, contrastive_loss

__all__ = ["EvaluatorTrainingResult", "build_dataset_evaluator", "train_evaluator"]

DEFAULT_STEPS = 2000


@dataclass
class EvaluatorTrainingResult:
    """What `train_evaluator` returns: the model (eval mode) and its training record."""

    evaluator: TextMotionEvaluator
    steps: int
    seconds: float
    text_seconds: float
    losses: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        """Mean loss over the last 50 steps."""
        return float(np.mean(self.losses[-50:]))


def train_evaluator(
    dataset: Any,
    *,
    steps: int = DEFAULT_STEPS,
    batch_size: int = 64,
    lr: float = 3e-4,
    weight_decay: float = 0.01,
    warmup_steps: int = 100,
    seed: int = 0,
    model_kwargs: dict[str, Any] | None = None,
    text_encoder: Any = None,
    log: Callable[[str], None] | None = None,
    log_every: int = 100,
    device: str | torch.device = "cpu",
) -> EvaluatorTrainingResult:
    """Train a TextMotionEvaluator on a `MotionTextDataset` (the train split).

    The learning rate warms up linearly over `warmup_steps`, then follows a half cosine to 0
    (`vhdiff.training.WarmupSchedule`). The model is trained and returned on `device`.

    text_encoder: a `vhdiff.text.TextEncoder` (default: the evaluator's, MiniLM).
    log: called with a progress line every `log_every` steps (None = silent).
    """
    if steps < 1 or batch_size < 2:
        raise ValueError(f"need steps >= 1 and batch_size >= 2, got {steps} and {batch_size}")
    if len(dataset) < 2:
        raise ValueError(f"the training split has {len(dataset)} clips; need at least 2")
    # the global torch RNG (initial weights, dropout, the dataset's train crops) is seeded
    # here and restored afterwards, so a seed reproduces a run without side effects
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _train(
            dataset, steps=steps, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
            warmup_steps=warmup_steps, seed=seed, model_kwargs=model_kwargs,
            text_encoder=text_encoder, log=log, log_every=log_every, device=torch.device(device),
        )  # fmt: skip


def _train(
    dataset: Any,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    warmup_steps: int,
    seed: int,
    model_kwargs: dict[str, Any] | None,
    text_encoder: Any,
    log: Callable[[str], None] | None,
    log_every: int,
    device: torch.device,
) -> EvaluatorTrainingResult:
    from vhdiff.motion.data import collate_motion

    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TextMotionEvaluator(**{"feature_dim": dataset.feature_dim, **(model_kwargs or {})})
    model.to(device)
    if text_encoder is not None:
        model.set_text_encoder(text_encoder)

    start = time.perf_counter()
    captions = sorted({c for i in range(len(dataset)) for c in dataset[i]["captions"]})
    sentence_table = model.sentence_embeddings(captions)
    lookup = {c: i for i, c in enumerate(captions)}
    text_seconds = time.perf_counter() - start
    if log:
        log(f"encoded {len(captions)} distinct captions in {text_seconds:.1f} s")

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
    )
    schedule = WarmupSchedule(schedule="cosine", warmup_steps=warmup_steps, max_steps=steps)
    batch_size = min(batch_size, len(dataset))
    losses: list[float] = []
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule(step)
        index = torch.randperm(len(dataset), generator=generator)[:batch_size]
        batch = collate_motion([dataset[int(i)] for i in index], rng=rng)
        sentences = sentence_table[
            torch.tensor([lookup[c] for c in batch["captions"]], device=sentence_table.device)
        ]
        loss = contrastive_loss(
            model.encode_motion(batch["x"].to(device), batch["mask"].to(device)),
            model.encode_text_features(sentences),
            model.logit_scale,
            batch["captions"],
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0.0, math.log(100.0))  # CLIP's clamp
        losses.append(loss.item())
        if log and log_every and ((step + 1) % log_every == 0 or step + 1 == steps):
            log(
                f"step {step + 1}/{steps}  loss {np.mean(losses[-log_every:]):.4f}  "
                f"temperature {1 / model.logit_scale.exp().item():.4f}"
            )
    model.eval()
    return EvaluatorTrainingResult(
        evaluator=model,
        steps=steps,
        seconds=time.perf_counter() - start,
        text_seconds=text_seconds,
        losses=losses,
    )


def ground_truth_r_precision(
    evaluator: TextMotionEvaluator, dataset: Any, *, seed: int = 0
) -> dict[str, Any]:
    """R-precision top-1/2/3 and MM-Dist of a split's real clips (one seeded caption each)."""
    from .protocol import motion_set_from_dataset
    from .retrieval import mm_dist, r_precision

    motions = motion_set_from_dataset(dataset, seed=seed)
    if len(motions) < 32:
        return {"num_samples": len(motions), "r_precision": None, "mm_dist": None}
    motion_emb = evaluator.embed_motions(motions.features, motions.mask)
    text_emb = evaluator.embed_texts(motions.captions)
    rp = r_precision(text_emb, motion_emb, seed=seed)
    return {
        "num_samples": len(motions),
        "r_precision": list(rp.top_k),
        "mm_dist": mm_dist(text_emb, motion_emb),
    }


def build_dataset_evaluator(
    data: str | Path, *, out: str | Path | None = None, steps: int = DEFAULT_STEPS,
    batch_size: int = 64, lr: float = 3e-4, seed: int = 0, device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train the evaluator on DATA's train split, score the ground truth of val and test,
    save it (config.json, model.safetensors, training.json) to `out` (default
    DATA/evaluator) and return the training record (what training.json holds, plus "out")."""
    from vhdiff.atomic_io import write_text_atomic
    from vhdiff.motion.data import MotionTextDataset, require_dataset_folder

    data = require_dataset_folder(data)
    out = Path(out) if out else data / EVALUATOR_DIR
    train = MotionTextDataset(data, "train")
    if log:
        log(f"training the evaluator on {len(train)} clips of {data}/train.txt")
    result = train_evaluator(
        train, steps=steps, batch_size=batch_size, lr=lr, seed=seed, log=log, device=device,
    )  # fmt: skip
    evaluator = result.evaluator
    scores: dict[str, Any] = {}
    for split in ("val", "test"):
        try:
            dataset = MotionTextDataset(data, split, stats=train.stats)
        except (FileNotFoundError, ValueError) as exc:
            scores[split] = {"error": str(exc)}
            continue
        scores[split] = ground_truth_r_precision(evaluator, dataset, seed=seed)
    evaluator.save_pretrained(out)
    record = {
        "data": str(data),
        "train_clips": len(train),
        "steps": result.steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "device": str(device),
        "seconds": round(result.seconds, 2),
        "text_encoding_seconds": round(result.text_seconds, 2),
        "final_loss": result.final_loss,
        "ground_truth": scores,
        "model": dict(evaluator.config),
    }
    write_text_atomic(out / "training.json", json.dumps(record, indent=2) + "\n")
    return {**record, "out": str(out)}
