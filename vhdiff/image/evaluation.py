"""The image evaluation: likelihood, FID and pose recognition against a set's held-out split.

    report = evaluate_images("data/human_images_32", pipeline=pipe, nll_num=100, fid_num=1000)
    report.to_dict()

What is measured (each part skipped when its count is 0, the model parts without a pipeline):

- codecs: the bits/dim lossless PNG and WebP need for `nll_num` held-out images
  (vhdiff.image.metrics.codecs) - the baseline a likelihood model should beat;
- nll: the model's bits/dim on the same images through the full variational bound, with
  the L_T / sum L_{t-1} / L_0 parts (vhdiff.image.metrics.likelihood; the null condition);
- fid: "train vs test" (`fid_num` train images against `fid_num` held-out ones: the floor a
  perfect generator reaches at this count) and "generated vs test" (`fid_num` samples, each
  prompted with one held-out image's caption for a text-conditional model, with the
  pipeline's generation settings), Inception features of vhdiff.image.metrics.fid; the
  real images' features are cached in DATA/fid_features/;
- pose: the pose-family classifier of DATA (`vhdiff prep pose-classifier`) on the same
  samples: the fraction whose predicted family is their prompt's, beside its accuracy on
  the real held-out renders;
- edits: SDEdit against strength, inpainting and inversion on `edit_num` held-out images
  (vhdiff.image.edit_evaluation).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vhdiff.image.data import held_out_images

__all__ = ["FEATURES_DIR", "ImageReport", "evaluate_images", "sample_with_captions"]

FEATURES_DIR = "fid_features"
SAMPLE_BATCH = 100  # images per sampling call


@dataclass
class ImageReport:
    """Everything `evaluate_images` measured (None: not computed)."""

    data: str
    split: str
    seed: int
    codecs: dict[str, float] = field(default_factory=dict)
    nll: dict[str, Any] | None = None
    fid: dict[str, Any] = field(default_factory=dict)
    pose: dict[str, Any] | None = None
    generation: dict[str, Any] | None = None
    edits: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _real_features(root: Path, split: str, ids: list[str], pixels: np.ndarray, features: Any) -> np.ndarray:
    """Inception features of real images, cached in ROOT/fid_features by the ids' hash."""
    from vhdiff.atomic_io import write_npz_atomic

    key = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    path = root / FEATURES_DIR / f"{split}_{len(ids)}_{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as cached:
            return cached["features"]
    feats = features(pixels)
    try:
        write_npz_atomic(path, {"features": feats})
    except OSError:  # a read-only data folder: the features are just not cached
        pass
    return feats


def sample_with_captions(pipeline: Any, captions: list[str], *, seed: int, settings: dict[str, Any]) -> np.ndarray:
    """One sample per caption (the null condition for an unconditional model), uint8 [N, S, S, 3]."""
    out = []
    for k, start in enumerate(range(0, len(captions), SAMPLE_BATCH)):
        chunk = captions[start:start + SAMPLE_BATCH]
        prompt = chunk if pipeline.condition == "text" else None
        out.append(pipeline(len(chunk), prompt=prompt, seed=seed + k, **settings).images)
    return np.concatenate(out)


def evaluate_images(
    data: str | os.PathLike, *, pipeline: Any = None, split: str = "test", nll_num: int = 100,
    fid_num: int = 1000, edit_num: int = 0, seed: int = 0, settings: dict[str, Any] | None = None,
    device: str | torch.device = "cpu", progress: bool = False,
) -> ImageReport:
    """The report of the module docstring for DATA's `split`."""
    from vhdiff.image.metrics.codecs import CODECS, codec_bits_per_dim

    root = Path(data)
    settings = dict(settings or {})
    report = ImageReport(data=str(data), split=split, seed=seed)
    if nll_num > 0:
        _, pixels, _ = held_out_images(root, split, nll_num, seed=seed)
        started = time.perf_counter()
        report.codecs = {codec: codec_bits_per_dim(pixels, codec) for codec in CODECS}
        report.codecs["num"] = len(pixels)
        if pipeline is not None:
            from vhdiff.image.metrics.likelihood import bits_per_dim

            report.nll = bits_per_dim(pipeline.diffusion, pipeline.model, pixels, seed=seed, device=device,
                                      progress=progress).to_dict()
        report.seconds["nll"] = round(time.perf_counter() - started, 1)
    if fid_num > 0:
        from vhdiff.image.metrics.fid import InceptionFeatures, image_fid

        started = time.perf_counter()
        features = InceptionFeatures(device=device)
        test_ids, test_pixels, captions = held_out_images(root, split, fid_num, seed=seed)
        count = len(test_ids)
        train_ids, train_pixels, _ = held_out_images(root, "train", count, seed=seed)
        test_feats = _real_features(root, split, test_ids, test_pixels, features)
        train_feats = _real_features(root, "train", train_ids, train_pixels, features)
        report.fid = {"num": count, "train_vs_test": image_fid(train_feats, test_feats)}
        if pipeline is not None:
            report.generation = pipeline.settings(**settings).to_dict()
            samples = sample_with_captions(pipeline, captions, seed=seed, settings=settings)
            report.seconds["sampling"] = round(time.perf_counter() - started, 1)
            report.fid["generated_vs_test"] = image_fid(features(samples, progress=progress), test_feats)
            report.fid["ratio"] = report.fid["generated_vs_test"] / report.fid["train_vs_test"]
            report.fid["prompts"] = "test captions" if pipeline.condition == "text" else "none (unconditional)"
            if pipeline.condition == "text":
                report.pose = _pose_scores(root, test_ids, test_pixels, samples)
        report.seconds["fid"] = round(time.perf_counter() - started, 1)
    if edit_num > 0 and pipeline is not None:
        from vhdiff.image.edit_evaluation import evaluate_edits

        started = time.perf_counter()
        report.edits = evaluate_edits(root, pipeline=pipeline, split=split, num=edit_num, seed=seed, settings=settings)
        report.seconds["edits"] = round(time.perf_counter() - started, 1)
    return report


def _pose_scores(root: Path, ids: list[str], real: np.ndarray, samples: np.ndarray) -> dict[str, Any] | None:
    """The classifier's hit rate on samples (against their prompts' families) and on the real images."""
    from vhdiff.image.metrics.classifier import CLASSIFIER_DIR, load_pose_classifier, read_labels

    if not (root / CLASSIFIER_DIR).is_dir():
        return {"skipped": f"no pose classifier in {root / CLASSIFIER_DIR}; train one with `vhdiff prep pose-classifier {root}`"}
    classifier, record = load_pose_classifier(root)
    labels = read_labels(root)
    truth = np.array([labels[i]["family_index"] for i in ids])
    return {
        "num": len(ids), "generated": float(np.mean(classifier.predict(samples) == truth)),
        "real": float(np.mean(classifier.predict(real) == truth)), "families": list(record["families"]),
        "chance": 1.0 / len(record["families"]),
    }
