"""What `vhdiff train configs/image_humans*.yaml` needs: the image training set.

Importing this module (the configs list it under ``imports:``) registers the dataset
``human_images``: :class:`ImageTrainingSet`, one split of an image folder
(vhdiff.image.data.ImageFolder: a prepared set or any folder of images) held in memory as
8-bit pixels, with its captions' embeddings for a text-conditional model. With
``build: true`` a missing folder is first filled with the built-in set (`vhdiff prep
human-images`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vhdiff.image.data import ImageFolder, check_image_condition, to_unit
from vhdiff.registry import register_dataset

__all__ = ["ImageTrainingSet", "ensure_builtin_images"]

DATASET_FILE = "dataset.json"


def ensure_builtin_images(root: str | os.PathLike, *, num: int, size: int, seed: int) -> Path:
    """Render the built-in human set at `root` unless a set is already there (a DDP rank
    that loses the race to another finds the other's set)."""
    root = Path(root)
    if (root / DATASET_FILE).is_file():
        return root
    from vhdiff.data_prep.human_images import write_human_images

    print(f"building the built-in human image set ({num} images of {size}x{size}) in {root} ...", flush=True)
    try:
        write_human_images(root, num=num, size=size, seed=seed)
    except OSError:
        if not (root / DATASET_FILE).is_file():
            raise
    return root


class ImageTrainingSet(Dataset):
    """A split of an image folder for training.

    Args (keyword-only):
        root: a prepared set (root/images, split files) or any folder of images.
        size: the model's image side in pixels.
        split: "train", "val", "test", a split file, or None (every image; a plain folder).
        condition: "none" or "text" (each image's caption: the pooled embedding `text_emb`
            [B, C] and the token embeddings `text_tokens` [B, L, C'] / `text_mask` [B, L]
            for cross-attention, looked up in the folder's tables, vhdiff.text.embedding_table).
        hflip: mirror images at random (only for data whose captions do not say left /
            right, so off by default).
        text_encoder / text_encoder_params: the vhdiff.text encoder of condition "text".
        build, num, seed: render the built-in set at `root` first when it is missing.

    Items: {"x": float32 [3, size, size] in [-1, 1], "caption": str}.
    """

    def __init__(
        self, *, root: str, size: int, split: str | None = "train", condition: str = "none",
        hflip: bool = False, text_encoder: str = "minilm", text_encoder_params: dict[str, Any] | None = None,
        build: bool = False, num: int = 10_000, seed: int = 0,
    ) -> None:
        self.condition = check_image_condition(condition)
        if build:
            ensure_builtin_images(root, num=num, size=size, seed=seed)
        folder = ImageFolder(root=root, size=size, split=split, scan="header")
        self.root, self.size, self.hflip = Path(root), int(size), bool(hflip)
        self.pixels = torch.from_numpy(np.stack([folder.pixels(i) for i in range(len(folder))]))  # uint8 [N, S, S, 3]
        self.captions = [folder.caption(i) for i in range(len(folder))]
        self.skipped = folder.skipped_by_reason
        self.embeddings: dict[str, torch.Tensor] = {}
        self.tokens = None
        if condition == "text":
            from vhdiff.text.embedding_table import caption_embeddings, caption_tokens

            texts = sorted(set(self.captions) | {""})
            self.embeddings = caption_embeddings(root, texts, encoder=text_encoder, encoder_params=text_encoder_params)
            self.tokens = caption_tokens(root, texts, encoder=text_encoder, encoder_params=text_encoder_params)

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        x = to_unit(self.pixels[index][None])[0]
        if self.hflip and bool(torch.rand(()) < 0.5):
            x = x.flip(-1)
        return {"x": x, "caption": self.captions[index]}

    def collate_fn(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {"x": torch.stack([i["x"] for i in items]), "captions": [i["caption"] for i in items]}
        if self.tokens is not None:
            batch["text_emb"] = torch.stack([self.embeddings[c] for c in batch["captions"]])
            batch["text_tokens"], batch["text_mask"] = self.tokens.lookup(batch["captions"])
        return batch


register_dataset("human_images", ImageTrainingSet)
