"""What `vhdiff train configs/pointcloud_humans*.yaml` needs: the point-cloud training set.

Importing this module (the configs list it under ``imports:``) registers two datasets:

- ``human_pointclouds``: :class:`PointCloudTrainingSet`, one split of a point-cloud set
  (vhdiff.pointcloud.data) normalised for the model, with its condition. With ``build: true``
  a missing folder is first filled with the built-in human set (`vhdiff prep
  human-pointclouds`).
- ``pointcloud_latents``: :class:`PointCloudLatentSet`, the shape codes a trained
  autoencoder gives a split's clouds, standardised (vhdiff.pointcloud.latent_prior): the
  data of a two-stage model's prior.
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

__all__ = ["SHAPE_CONDITION", "PointCloudLatentSet", "PointCloudTrainingSet", "ensure_builtin_set"]

# the autoencoder's training condition: every item also carries a clean cloud of the same
# shape ("shape", another random subset of its points) for the encoder
SHAPE_CONDITION = "shape"

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


def caption_table(root: str | os.PathLike, captions: list[list[str]], encoder: str,
                  params: dict[str, Any] | None) -> dict[str, Tensor]:
    """caption -> pooled text embedding [C] for every caption of `captions` and "" (cached
    in the set's folder, vhdiff.text.embedding_table)."""
    from vhdiff.text.embedding_table import caption_embeddings

    texts = sorted({c for item in captions for c in item} | {""})
    return caption_embeddings(root, texts, encoder=encoder, encoder_params=params)


def draw_caption(captions: list[str]) -> str:
    """One of a cloud's captions, at random ("" when it has none)."""
    return captions[int(torch.randint(len(captions), ()))] if captions else ""


class PointCloudTrainingSet(Dataset):
    """A split of a point-cloud set for training.

    Args (keyword-only):
        root: the set folder (vhdiff.pointcloud.data).
        split: "train", "val" or "test".
        normalization: "global" or "shape_bbox" (vhdiff.pointcloud.normalization; the set's
            statistics, fitted on its train split).
        condition: "none", "text" (each cloud's captions, one drawn per item, as pooled
            text embeddings `text_emb` looked up in the set's table) or "pose" (`pose`
            [132], vhdiff.pointcloud.pose) or "shape" (`shape` [train_points, 3]: another
            random subset of the same cloud, what vhdiff.backbones.PointCloudAutoencoder
            encodes).
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
        self.condition = SHAPE_CONDITION if condition == SHAPE_CONDITION else check_condition(condition)
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
        self.embeddings = caption_table(root, self.captions, text_encoder, text_encoder_params) if condition == "text" else {}
        self.text_encoder = text_encoder

    def __len__(self) -> int:
        return len(self.clouds)

    def __getitem__(self, index: int) -> dict[str, Any]:
        full = self.clouds[index]
        cloud = self._subset(full)
        item: dict[str, Any] = {"x": cloud, "caption": draw_caption(self.captions[index])}
        if self.poses is not None:
            item["pose"] = self.poses[index]
        if self.condition == SHAPE_CONDITION:
            item["shape"] = self._subset(full)
        return item

    def _subset(self, cloud: Tensor) -> Tensor:
        if self.train_points is None or self.train_points >= len(cloud):
            return cloud
        return cloud[torch.randperm(len(cloud))[: self.train_points]]

    def collate_fn(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {"x": torch.stack([i["x"] for i in items]), "captions": [i["caption"] for i in items]}
        if self.condition == "text":
            batch["text_emb"] = torch.stack([self.embeddings[c] for c in batch["captions"]])
        if self.poses is not None:
            batch["pose"] = torch.stack([i["pose"] for i in items])
        if self.condition == SHAPE_CONDITION:
            batch["shape"] = torch.stack([i["shape"] for i in items])
        return batch


class PointCloudLatentSet(Dataset):
    """The shape codes of a split, for training a two-stage model's prior.

    Args (keyword-only):
        root: the point-cloud set the autoencoder was trained on.
        autoencoder: its run folder (newest checkpoint, EMA weights), a checkpoint folder, or
            an exported pipeline folder (PointCloudPipeline.load_autoencoder). Name a fixed
            checkpoint (checkpoints/step_N) if that run may still train: the export reads
            the same path again to pair the prior with its autoencoder.
        split: "train", "val" or "test".
        condition: "none" or "text" (each cloud's captions, one drawn per item).
        text_encoder / text_encoder_params: the vhdiff.text encoder of condition "text".

    Every cloud is encoded once, with all its points; codes are standardised with the TRAIN
    split's per-dimension mean and std (`mean`, `std`), whatever the split.
    Items: {"x": [D], "caption": str}; the collated batch adds "text_emb" for condition "text".
    """

    def __init__(self, *, root: str, autoencoder: str, split: str = "train", condition: str = "none",
                 text_encoder: str = "minilm", text_encoder_params: dict[str, Any] | None = None) -> None:
        from vhdiff.pointcloud.latent_prior import code_statistics, encode_clouds
        from vhdiff.pointcloud.pipeline import PointCloudPipeline

        self.condition = check_condition(condition)
        if self.condition == "pose":
            raise ValueError("a latent prior takes condition none or text; pose is a one-stage model's (configs/pointcloud_humans_pose.yaml)")
        ae = PointCloudPipeline.load_autoencoder(autoencoder)
        train = encode_clouds(ae.model, ae.normalized_split(root, "train"))
        self.mean, self.std = code_statistics(train)
        codes = train if split == "train" else encode_clouds(ae.model, ae.normalized_split(root, split))
        self.codes = (codes - self.mean) / self.std
        self.captions = read_texts(root, read_split(root, split))
        self.embeddings = caption_table(root, self.captions, text_encoder, text_encoder_params) if condition == "text" else {}

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"x": self.codes[index], "caption": draw_caption(self.captions[index])}

    def collate_fn(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {"x": torch.stack([i["x"] for i in items]), "captions": [i["caption"] for i in items]}
        if self.condition == "text":
            batch["text_emb"] = torch.stack([self.embeddings[c] for c in batch["captions"]])
        return batch


register_dataset("human_pointclouds", PointCloudTrainingSet)
register_dataset("pointcloud_latents", PointCloudLatentSet)
