"""The pose-family classifier: does a text-conditional sample show the pose its prompt asks for?

    vhdiff prep pose-classifier DATA [--steps 1500] [--seed 0]      # trains, saves DATA/pose_classifier
    classifier = load_pose_classifier(DATA)
    classifier.predict(images_uint8)                                # family index [N]

A small CNN (`PoseFamilyClassifier`: four conv-GroupNorm-SiLU stages, global average
pool, a linear head) trained on the real renders of a `vhdiff prep human-images` set
(DATA/labels.jsonl: each image's pose family) with random shifts and colour jitter, so it
keys on the body's silhouette rather than one image's exact pixels. Its accuracy on the
set's own test renders is saved with it (classifier.json) and printed by `vhdiff eval
image` beside the generated samples' (the fraction of samples whose predicted family is
the prompt's), so a sample score reads against what the classifier can do at all.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vhdiff.atomic_io import FolderKind
from vhdiff.backbones.pretrained import PretrainedMixin, register_config

__all__ = [
    "CLASSIFIER_DIR",
    "PoseClassifierRecord",
    "PoseFamilyClassifier",
    "build_pose_classifier",
    "load_pose_classifier",
    "read_labels",
]

CLASSIFIER_DIR = "pose_classifier"
RECORD_FILE = "classifier.json"
LABELS_FILE = "labels.jsonl"
DEFAULT_STEPS = 1500
CLASSIFIER_FOLDER = FolderKind.with_file("pose classifier", RECORD_FILE)  # written last


class PoseFamilyClassifier(PretrainedMixin, nn.Module):
    """uint8-scaled images x [B, 3, H, W] in [-1, 1] -> logits [B, num_classes].

    Args (keyword-only): num_classes; width: channels of the first stage (doubled at each
    of the next three, each of which halves the resolution); families: the class names.
    """

    @register_config
    def __init__(self, *, num_classes: int, width: int = 32, families: tuple[str, ...] = ()) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.families = tuple(families)
        layers: list[nn.Module] = []
        ch_in = 3
        for stage in range(4):
            ch = width * 2**stage
            layers += [
                nn.Conv2d(ch_in, ch, 3, stride=1 if stage == 0 else 2, padding=1),
                nn.GroupNorm(8, ch), nn.SiLU(),
                nn.Conv2d(ch, ch, 3, padding=1), nn.GroupNorm(8, ch), nn.SiLU(),
            ]
            ch_in = ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(ch_in, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))

    @torch.no_grad()
    def predict(self, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Predicted family index [N] of uint8 images [N, H, W, 3]."""
        from vhdiff.image.data import to_unit

        self.eval()
        device = next(self.parameters()).device
        out = [self(to_unit(images[i:i + batch_size]).to(device)).argmax(dim=1).cpu()
               for i in range(0, len(images), batch_size)]
        return torch.cat(out).numpy()


@dataclass(frozen=True)
class PoseClassifierRecord:
    """What `build_pose_classifier` saved: the accuracy on each split's real renders."""

    out: Path
    families: tuple[str, ...]
    accuracy: dict[str, float]
    steps: int
    seconds: float


def read_labels(root: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """ROOT/labels.jsonl as image id -> its record (family, family_index, view, ...)."""
    path = Path(root) / LABELS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} does not exist: pose families come from a `vhdiff prep human-images` set"
        )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["id"]: row for row in rows}


def _split(root: Path, split: str, size: int, labels: dict[str, dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    from vhdiff.image.data import ImageFolder

    folder = ImageFolder(root=root, size=size, split=split, scan="header", captions=False)
    pixels = np.stack([folder.pixels(i) for i in range(len(folder))])
    return pixels, np.array([labels[i]["family_index"] for i in folder.ids], dtype=np.int64)


def _augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """Random shifts (up to 1/8 of the side, edge-padded) and per-image colour jitter."""
    b, _, h, w = x.shape
    pad = max(1, h // 8)
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    shifted = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])
    gain = 1.0 + 0.2 * (torch.rand(b, 3, 1, 1, generator=generator) - 0.5)
    bias = 0.2 * (torch.rand(b, 3, 1, 1, generator=generator) - 0.5)
    return (shifted * gain + bias).clamp(-1.0, 1.0)


def build_pose_classifier(
    root: str | os.PathLike, *, steps: int = DEFAULT_STEPS, batch_size: int = 64, lr: float = 2e-3,
    seed: int = 0, out: str | os.PathLike | None = None, device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = None,
) -> PoseClassifierRecord:
    """Train the classifier on ROOT's train split, measure it on val and test, save it to
    `out` (default ROOT/pose_classifier: config.json, model.safetensors, classifier.json)."""
    from vhdiff.atomic_io import atomic_folder, check_writable, write_text_atomic

    root = Path(root)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"--steps must be a whole number >= 1, got {steps!r}")
    info_path = root / "dataset.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{str(root)!r} is not an image set (no dataset.json); make one with `vhdiff prep human-images`")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    size = int(info["size"])
    labels = read_labels(root)
    families = tuple(sorted({r["family"] for r in labels.values()}, key=lambda f: next(
        r["family_index"] for r in labels.values() if r["family"] == f)))
    out = root / CLASSIFIER_DIR if out is None else Path(out)
    check_writable(out if out.is_dir() else out.parent)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train_x, train_y = _split(root, "train", size, labels)
    model = PoseFamilyClassifier(num_classes=len(families), families=families).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    from vhdiff.image.data import to_unit

    images = to_unit(train_x)
    targets = torch.from_numpy(train_y)
    started = time.perf_counter()
    model.train()
    for step in range(steps):
        for group in opt.param_groups:  # warm-up, then cosine decay
            group["lr"] = lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / steps))
        rows = torch.randint(0, len(images), (batch_size,), generator=generator)
        x = _augment(images[rows], generator).to(device)
        loss = F.cross_entropy(model(x), targets[rows].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if log is not None and (step + 1) % 250 == 0:
            log(f"  step {step + 1}/{steps}  loss {loss.item():.3f}")
    seconds = time.perf_counter() - started
    model.eval()
    accuracy = {}
    for split in ("val", "test"):
        x, y = _split(root, split, size, labels)
        accuracy[split] = float(np.mean(model.predict(x) == y))
    with atomic_folder(out, kind=CLASSIFIER_FOLDER, force=True) as tmp:
        model.cpu().save_pretrained(tmp)
        record = {"families": list(families), "size": size, "accuracy": accuracy, "steps": steps,
                  "batch_size": batch_size, "seed": seed, "seconds": round(seconds, 1)}
        write_text_atomic(tmp / RECORD_FILE, json.dumps(record, indent=2) + "\n")
    return PoseClassifierRecord(out=out, families=families, accuracy=accuracy, steps=steps, seconds=seconds)


def load_pose_classifier(root: str | os.PathLike) -> tuple[PoseFamilyClassifier, dict[str, Any]]:
    """(the classifier, its classifier.json record) saved in ROOT/pose_classifier (or ROOT itself)."""
    root = Path(root)
    folder = root if (root / RECORD_FILE).is_file() else root / CLASSIFIER_DIR
    if not (folder / RECORD_FILE).is_file():
        raise FileNotFoundError(
            f"no pose classifier in {str(root)!r}; train one with `vhdiff prep pose-classifier {root}`"
        )
    record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    return PoseFamilyClassifier.from_pretrained(folder).eval(), record
