"""The editing evaluation: SDEdit against strength, inpainting's kept pixels, inversion's round trip.

    edits = evaluate_edits("data/human_images_32", pipeline=pipe, num=20)

On `num` held-out images (vhdiff.image.data.held_out_images, the same seeded subset):

- sdedit: each image edited towards another held-out image's caption (one of another pose
  family where the set has labels) at every strength of EDIT_STRENGTHS; per strength, the
  mean |edit - input| in [0, 1] units (SDEdit's faithfulness), the mean distance of the
  input's 4x4-block means (its layout: where the figure and the background colours are),
  and, with the set's pose classifier, the share of edits still classified as the input's
  family and the share classified as the prompt's (its realism towards the prompt);
- inpainting: the right half repainted with the image's own caption; the largest change of
  a kept pixel (0 when the known region is kept exactly) and the mean distance inside;
- inversion: DDIM inversion to x_T and back with the image's own caption, the RMSE and the
  largest error in 8-bit levels.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EDIT_STRENGTHS", "LAYOUT_BLOCK", "evaluate_edits", "layout_distance"]

EDIT_STRENGTHS = (0.1, 0.3, 0.5, 0.7, 1.0)
LAYOUT_BLOCK = 4  # pixels a side of the blocks whose mean colours are the layout


def layout_distance(a: np.ndarray, b: np.ndarray, *, block: int = LAYOUT_BLOCK) -> float:
    """Mean |block means of a - block means of b| in [0, 1] units; a, b: uint8 [H, W, 3]
    with H and W multiples of `block`."""
    h, w, c = a.shape

    def means(x: np.ndarray) -> np.ndarray:
        return x.astype(np.float64).reshape(h // block, block, w // block, block, c).mean(axis=(1, 3))

    return float(np.abs(means(a) - means(b)).mean() / 255.0)


def _targets(ids: list[str], captions: list[str], families: list[int] | None) -> list[int]:
    """For each image the index of another whose caption it is edited towards: the next one
    (cyclically) of another family where families are known, else simply the next one."""
    n = len(ids)
    out = []
    for i in range(n):
        order = [(i + k) % n for k in range(1, n)] or [i]
        if families is not None:
            other = [j for j in order if families[j] != families[i]]
            order = other or order
        out.append(order[0])
    return out


def evaluate_edits(
    data: str | os.PathLike, *, pipeline: Any, split: str = "test", num: int = 20, seed: int = 0,
    strengths: tuple[float, ...] = EDIT_STRENGTHS, settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of the module docstring (a JSON-ready dict)."""
    from vhdiff.image.data import held_out_images
    from vhdiff.image.metrics.classifier import CLASSIFIER_DIR, load_pose_classifier, read_labels

    root = Path(data)
    settings = dict(settings or {})
    ids, pixels, captions = held_out_images(root, split, num, seed=seed)
    text = pipeline.condition == "text"
    classifier, families = None, None
    if (root / CLASSIFIER_DIR).is_dir():
        classifier, _ = load_pose_classifier(root)
        labels = read_labels(root)
        families = [int(labels[i]["family_index"]) for i in ids]
    targets = _targets(ids, captions, families)

    rows = []
    for strength in strengths:
        edits = np.stack([
            pipeline.edit(pixels[i], prompt=captions[targets[i]] if text else None, strength=strength,
                          seed=seed + i, **settings).image
            for i in range(len(ids))
        ])
        row: dict[str, Any] = {
            "strength": float(strength),
            "distance": float(np.mean([np.abs(e.astype(np.float64) - p).mean() / 255.0 for e, p in zip(edits, pixels)])),
            "layout_distance": float(np.mean([layout_distance(e, p) for e, p in zip(edits, pixels)])),
        }
        if classifier is not None:
            predicted = classifier.predict(edits)
            row["keeps_input_family"] = float(np.mean(predicted == np.array(families)))
            if text:
                row["reaches_prompt_family"] = float(np.mean(predicted == np.array([families[j] for j in targets])))
        rows.append(row)

    side = pixels.shape[2]
    mask = np.zeros(pixels.shape[1:3], dtype=bool)
    mask[:, side // 2:] = True  # repaint the right half
    kept_change, inside = [], []
    errors, max_errors = [], []
    for i in range(len(ids)):
        prompt = captions[i] if text else None
        filled = pipeline.inpaint(pixels[i], mask, prompt=prompt, seed=seed + i)
        kept_change.append(int(np.abs(filled.image[~mask].astype(np.int64) - pixels[i][~mask]).max()))
        inside.append(float(np.abs(filled.image[mask].astype(np.float64) - pixels[i][mask]).mean() / 255.0))
        inversion = pipeline.invert(pixels[i], prompt=prompt)
        errors.append(inversion.error)
        max_errors.append(inversion.max_error)
    return {
        "num": len(ids), "split": split, "prompts": "another held-out image's caption" if text else "none",
        "sdedit": rows,
        "inpaint": {"region": "right half", "kept_max_change": int(max(kept_change)),
                    "repainted_distance": float(np.mean(inside))},
        "invert": {"rmse_levels": float(np.mean(errors)), "max_error_levels": int(max(max_errors))},
    }
