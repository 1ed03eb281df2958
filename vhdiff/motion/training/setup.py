"""What `vhdiff train configs/motion_*.yaml` needs: the motion dataset and the loss hook.

Importing this module (the configs list it under ``imports:``) registers

- dataset ``motion_text``: :class:`MotionTrainingSet`, clips of a dataset folder in
  vhdiff's layout (or HumanML3D's) with one caption per clip per epoch, each caption's
  pooled text embedding looked up in a table computed once per dataset and encoder
  (``ROOT/text_embeddings/<encoder>.safetensors``), so training never runs the text
  encoder. With ``build: true`` a missing folder is first filled with the built-in
  synthetic set (``vhdiff prep synthetic-motion``).
- loss hook ``motion_geometry``: :func:`vhdiff.motion.training.losses.motion_geometry_hook`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from vhdiff.atomic_io import atomic_folder
from vhdiff.registry import register_dataset, register_loss_hook
from vhdiff.text.embedding_table import caption_embeddings

__all__ = ["MotionTrainingSet", "ensure_builtin_set"]



def ensure_builtin_set(root: str | os.PathLike, *, clips: int = 4000, seed: int = 0) -> Path:
    """Make the built-in synthetic set at `root` unless a dataset is already there.

    Written into a temporary sibling folder and renamed, so concurrent processes (DDP ranks)
    and killed runs never leave a half-written set behind.
    """
    root = Path(root)
    if (root / "train.txt").is_file():
        return root
    if root.exists() and any(root.iterdir()):
        raise ValueError(
            f"{str(root)!r} exists but holds no dataset (no train.txt); point data.params.root "
            "at an empty or missing folder to build the built-in set there"
        )
    from vhdiff.data_prep.synthetic_motion import write_synthetic_set

    print(f"building the built-in motion set ({clips} clips) in {root} ...", flush=True)
    try:
        # the rename fails (OSError) if another process (a DDP rank) filled root first
        with atomic_folder(root) as tmp:
            write_synthetic_set(tmp, clips=clips, seed=seed, force=True)
    except OSError:
        if not (root / "train.txt").is_file():
            raise
    return root


class MotionTrainingSet(Dataset):
    """A split of a motion dataset for training, with caption embeddings.

    Args (keyword-only):
        root: the dataset folder (vhdiff layout, see vhdiff.motion.data; or HumanML3D's
            folder with representation="humanml3d").
        split, max_frames, min_frames, fps: as MotionTextDataset.
        representation: "smpl" (140-dim SMPL-parameter features) or "humanml3d" (263-dim).
        text_encoder: the vhdiff.text encoder name ("minilm", "clip"), or None for an
            unconditional model; text_encoder_params its keyword arguments.
        build: make the built-in synthetic set at `root` first when it is missing
            (`clips`, `seed`: its size and seed).

    The collated batch: x [B, T, D] normalised features, mask [B, T] bool, text_emb [B, C]
    (when a text encoder is set), captions list[str] - one caption per clip, drawn with
    torch's global RNG (so a resumed run draws the same ones).
    """

    def __init__(
        self, *, root: str, split: str = "train", max_frames: int = 196, min_frames: int = 40,
        fps: float = 20.0, representation: str = "smpl", text_encoder: str | None = "minilm",
        text_encoder_params: dict[str, Any] | None = None, build: bool = False, clips: int = 4000,
        seed: int = 0,
    ) -> None:
        from vhdiff.motion.data import open_motion_dataset
        from vhdiff.motion.representation import get_representation

        rep = get_representation(representation)
        if build:
            rep.require_smpl("build: true (the built-in set)")
            ensure_builtin_set(root, clips=clips, seed=seed)
        self.data = open_motion_dataset(
            root, split, representation=rep, max_frames=max_frames, min_frames=min_frames, fps=fps,
        )
        self.root = Path(root)
        self.representation = representation
        self.text_encoder = text_encoder
        self.embeddings: dict[str, Tensor] = {}
        if text_encoder:
            captions = [c for item in self.data.captions for c in item]
            self.embeddings = caption_embeddings(
                root, captions, encoder=text_encoder, encoder_params=text_encoder_params
            )

    @property
    def stats(self):
        return self.data.stats

    @property
    def feature_dim(self) -> int:
        return self.data.feature_dim

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.data[index]

    def collate_fn(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        from vhdiff.motion.data import collate_motion

        seed = int(torch.randint(0, 2**31 - 1, ()))
        batch = collate_motion(items, rng=np.random.default_rng(seed))
        out = {"x": batch["x"], "mask": batch["mask"], "captions": batch["captions"]}
        if self.text_encoder:
            out["text_emb"] = torch.stack([self.embeddings[c] for c in batch["captions"]])
        return out


register_dataset("motion_text", MotionTrainingSet)
register_loss_hook("motion_geometry", "vhdiff.motion.training.losses:motion_geometry_hook")
