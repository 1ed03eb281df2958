"""Point-cloud set folders: the layout, reading it, and the clouds of a split.

A set (written by `vhdiff prep human-pointclouds`, vhdiff.data_prep.human_pointclouds)::

    OUT/points/ID.npy     float32 [P, 3], metres, Y up, exactly as sampled (P the same for all)
    OUT/texts/ID.txt      optional captions, one per line
    OUT/poses/ID.npz      optional: "pose" [22, 3] axis-angle (vhdiff.pointcloud.pose, the
                          heading removed) and "betas" [10] of the body the cloud was sampled from
    OUT/train.txt val.txt test.txt    the IDs of each split
    OUT/dataset.json      {"kind": "pointclouds", "points": P, "normalization": {"global":
                          {...}, "shape_bbox": {...}} fitted on train, how the set was made}

    clouds = load_clouds(root, read_split(root, "test"))     # float32 [K, P, 3], metres
    norm = set_normalization(root, "global")                  # vhdiff.pointcloud.normalization
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.atomic_io import FolderKind
from vhdiff.pointcloud.normalization import Normalization, check_normalization

__all__ = [
    "CONDITIONS", "DATASET_FILE", "POINTCLOUD_SET", "POINTS_DIR", "POSES_DIR", "SET_KIND", "SPLITS", "TEXTS_DIR",
    "check_condition", "load_clouds", "load_poses", "read_set_info", "read_split", "read_texts", "set_normalization",
]

POINTS_DIR, TEXTS_DIR, POSES_DIR = "points", "texts", "poses"
DATASET_FILE = "dataset.json"
SET_KIND = "pointclouds"
SPLITS = ("train", "val", "test")
CONDITIONS = ("none", "text", "pose")  # what a point-cloud model is conditioned on


def check_condition(condition: Any) -> str:
    """`condition` if it is one of CONDITIONS, else a ValueError listing them."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose one of {', '.join(CONDITIONS)}")
    return str(condition)


def _is_set(folder: Path) -> bool:
    try:
        return json.loads((folder / DATASET_FILE).read_text(encoding="utf-8")).get("kind") == SET_KIND
    except (OSError, ValueError, AttributeError):
        return False


# what the prep command may replace (with --force): a folder holding a point-cloud dataset.json
POINTCLOUD_SET = FolderKind(name="point-cloud set", rule=f"holds a {DATASET_FILE} of kind {SET_KIND!r}", test=_is_set)


def read_set_info(root: str | os.PathLike) -> dict[str, Any]:
    """dataset.json of a point-cloud set, checked (one-line errors saying what the folder is)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"no point-cloud set at {str(root)!r}; make one with `vhdiff prep human-pointclouds {root}`"
        )
    path = root / DATASET_FILE
    if not _is_set(root):
        hint = " (it looks like a motion set)" if (root / "motions").is_dir() else ""
        raise ValueError(
            f"{str(root)!r} is not a point-cloud set (no {DATASET_FILE} of kind {SET_KIND!r}){hint}; "
            f"make one with `vhdiff prep human-pointclouds OUT`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def read_split(root: str | os.PathLike, split: str) -> list[str]:
    """IDs of one split (ROOT/SPLIT.txt)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    path = Path(root) / f"{split}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {str(path)!r}; the set is incomplete, prepare it again")
    ids = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not ids:
        raise ValueError(f"{str(path)!r} lists no clouds; prepare the set with more clouds")
    return ids


def load_clouds(root: str | os.PathLike, ids: list[str]) -> np.ndarray:
    """float32 [K, P, 3] (metres) of the IDs; a file with another point count, NaN or the
    wrong shape is a one-line ValueError naming it."""
    folder = Path(root) / POINTS_DIR
    clouds = []
    for cloud_id in ids:
        path = folder / f"{cloud_id}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"missing point file {str(path)!r}; prepare the set again")
        array = np.load(path, allow_pickle=False)
        if array.ndim != 2 or array.shape[1] != 3 or not np.isfinite(array).all():
            raise ValueError(f"{str(path)!r} is not a finite [P, 3] cloud (shape {list(array.shape)})")
        if clouds and len(array) != len(clouds[0]):
            raise ValueError(
                f"{str(path)!r} has {len(array)} points but {ids[0]!r} has {len(clouds[0])}: every "
                "cloud of a set must have the same count; prepare the set again with --points"
            )
        clouds.append(array.astype(np.float32))
    return np.stack(clouds)


def read_texts(root: str | os.PathLike, ids: list[str]) -> list[list[str]]:
    """The captions of each ID (an empty list where the cloud has none)."""
    folder = Path(root) / TEXTS_DIR
    out = []
    for cloud_id in ids:
        path = folder / f"{cloud_id}.txt"
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        out.append([line.strip() for line in lines if line.strip()])
    return out


def load_poses(root: str | os.PathLike, ids: list[str]) -> np.ndarray:
    """float32 [K, 22, 3] canonical poses of the IDs (vhdiff.pointcloud.pose); a set made from
    meshes has none: a ValueError saying so."""
    folder = Path(root) / POSES_DIR
    poses = []
    for cloud_id in ids:
        path = folder / f"{cloud_id}.npz"
        if not path.is_file():
            raise ValueError(
                f"{str(root)!r} has no pose for {cloud_id!r} ({POSES_DIR}/ missing): pose conditioning "
                "needs a set made from posed bodies (`vhdiff prep human-pointclouds`, not --from)"
            )
        with np.load(path, allow_pickle=False) as data:
            poses.append(np.asarray(data["pose"], dtype=np.float32))
    return np.stack(poses)


def set_normalization(root: str | os.PathLike, kind: str) -> Normalization:
    """The set's `kind` normalization (fitted on its train split when it was prepared)."""
    info = read_set_info(root)
    stats = info.get("normalization", {}).get(check_normalization(kind))
    if stats is None:
        return Normalization.fit(load_clouds(root, read_split(root, "train")), kind)
    return Normalization.from_dict(stats, source=f"{str(Path(root) / DATASET_FILE)!r} normalization")
