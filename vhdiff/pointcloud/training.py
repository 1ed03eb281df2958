"""What `vhdiff train configs/pointcloud_humans*.yaml` needs: the point-cloud training set.

Importing this module (the configs list it under ``imports:``) registers the dataset
``human_pointclouds``: :class:`PointCloudTrainingSet`, one split of a point-cloud set
(vhdiff.pointcloud.data) normalised for the model, with its condition. With ``build: true``
a missing folder is first filled with the built-in human set (`vhdiff prep
human-pointclouds`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from vhdiff.pointcloud.data import (
    check_condition,
    load_clouds,
    load_poses,
    read_split,
    read_texts,
    set_normalization,
)
from vhdiff.pointcloud.normalization import DEFAULT_NORMALIZATION
from vhdiff.pointcloud.pose import pose_vector
from vhdiff.registry import register_dataset

__all__ = ["PointCloudTrainingSet", "ensure_builtin_set"]

def ensure_builtin_set(root: str | os.PathLike, *, num: int, points: int, seed: int) -> Path:
    """Make the built-in human set at `root` unless a set is already there (a DDP rank that
    loses the race to another finds the other's set)."""
    from vhdiff.pointcloud.data import DATASET_FILE

    root = Path(root)
    if (root / DATASET_FILE).is_file():
        return root
    from vhdiff.data_prep.human_pointclouds import write_human_pointclouds

    print(f"building the built-in human point-cloud set ({num} clouds of {points} points) in {root} ...", flush=True)
    try:
        write_human_pointclouds(root, num=num, points=points, seed=seed, progress=True)
    except OSError:
        if not (root / DATASET_FILE).is_file():
            raise
    return root


class PointCloudTrainingSet(Dataset):
    """A split of a point-cloud set for training.

    Args (keyword-only):
        root: the set folder (vhdiff.pointcloud.data).
        split: "train", "val" or "test".
        normalization: "global" or "shape_bbox" (vhdiff.pointcloud.normalization; the set's
            statistics, fitted on its train split).
        condition: "none", "text" (each cloud's captions, one drawn per item, as pooled
            text embeddings `text_emb` looked up in the set's table) or "pose" (`pose`
            [132], vhdiff.pointcloud.pose).
        train_points: points per cloud fed to the model, a random subset each time (None:
            all). The denoiser takes any count, so fewer points make cheaper steps.
        text_encoder / text_encoder_params: the vhdiff.text encoder of condition "text".
        build, num, points, seed: make the built-in set at `root` first when it is missing.

    Items: {"x": [P, 3] normalised, "caption": str, "pose": [132] (condition "pose")}; the
    collated batch adds "text_emb" [B, C] for condition "text".
    """

    def __init__(
        self, *, root: str, split: str = "train", normalization: str = DEFAULT_NORMALIZATION,
        condition: str = "none", train_points: int | None = None, text_encoder: str = "minilm",
        text_encoder_params: dict[str, Any] | None = None, build: bool = False, num: int = 4000,
        points: int = 2048, seed: int = 0,
    ) -> None:
        self.condition = check_condition(condition)
        if build:
            ensure_builtin_set(root, num=num, points=points, seed=seed)
        self.root = Path(root)
        ids = read_split(root, split)
        self.normalization = set_normalization(root, normalization)
        self.clouds = torch.from_numpy(self.normalization.apply(load_clouds(root, ids)))
        if train_points is not None and not 1 <= int(train_points) <= self.clouds.shape[1]:
            raise ValueError(
                f"train_points must be in [1, {self.clouds.shape[1]}] (the set's points per cloud); got {train_points}"
            )
        self.train_points = None if train_points is None else int(train_points)
        self.captions = read_texts(root, ids)
        self.poses = torch.from_numpy(pose_vector(load_poses(root, ids))) if condition == "pose" else None
        self.embeddings: dict[str, Tensor] = {}
        if condition == "text":
            from vhdiff.text.embedding_table import caption_embeddings

            texts = sorted({c for item in self.captions for c in item} | {""})
            self.embeddings = caption_embeddings(root, texts, encoder=text_encoder, encoder_params=text_encoder_params)
        self.text_encoder = text_encoder

    def __len__(self) -> int:
        return len(self.clouds)

    def __getitem__(self, index: int) -> dict[str, Any]:
        cloud = self.clouds[index]
        if self.train_points is not None and self.train_points < len(cloud):
            cloud = cloud[torch.randperm(len(cloud))[: self.train_points]]
        captions = self.captions[index]
        caption = captions[int(torch.randint(len(captions), ()))] if captions else ""
        item: dict[str, Any] = {"x": cloud, "caption": caption}
        if self.poses is not None:
            item["pose"] = self.poses[index]
        return item

    def collate_fn(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {"x": torch.stack([i["x"] for i in items]), "captions": [i["caption"] for i in items]}
        if self.condition == "text":
            batch["text_emb"] = torch.stack([self.embeddings[c] for c in batch["captions"]])
        if self.poses is not None:
            batch["pose"] = torch.stack([i["pose"] for i in items])
        return batch


register_dataset("human_pointclouds", PointCloudTrainingSet)
