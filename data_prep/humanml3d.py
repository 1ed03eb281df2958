"""HumanML3D's released folder: a reader, and `vhdiff prep humanml3d` (-> our layout).

The folder (as released by Guo et al. 2022)::

    HumanML3D/new_joint_vecs/ID.npy   [T, 263] float32 vectors (vhdiff.motion.representation.humanml3d)
    HumanML3D/new_joints/ID.npy       [T + 1, 22, 3] joint positions (metres, Y up)
    HumanML3D/texts/ID.txt            'caption#word/POS ...#start#end' lines
    HumanML3D/train.txt val.txt test.txt (train_val.txt, all.txt)   one ID per line
    HumanML3D/Mean.npy Std.npy        [263] normalisation of new_joint_vecs
    (HumanML3D's repository root: index.csv, mapping AMASS files to IDs)

IDs starting with "M" are HumanML3D's mirrored copies.

:class:`HumanML3DFolder` reads it directly (263-dim vectors, joints, captions, splits).
HumanML3D holds no SMPL parameters, so ``vhdiff prep humanml3d HML_DIR OUT --amass DIR``
rebuilds them from the AMASS files its index.csv points to (``vhdiff.data_prep.amass``)
and copies HumanML3D's captions and splits, giving vhdiff's SMPL layout with HumanML3D's
text labels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vhdiff.array_files import load_npy_file
from vhdiff.motion.data import Caption, read_captions
from vhdiff.motion.representation.humanml3d import HUMANML3D_DIM, load_joint_vecs, recover_from_ric

__all__ = ["HumanML3DFolder"]

HUMANML3D_SPLITS = ("train", "val", "test", "train_val", "all")


@dataclass(frozen=True)
class FolderProblem:
    """A file of the folder that cannot be used, and why."""

    path: str
    reason: str


class HumanML3DFolder:
    """Read access to a HumanML3D folder (layout in the module docstring).

    ``mean`` / ``std`` are [263] float32 (Mean.npy / Std.npy); ``normalize`` /
    ``denormalize`` apply them. Per-file errors name the file.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not (self.root / "new_joint_vecs").is_dir():
            raise FileNotFoundError(
                f"{str(self.root)!r} is not a HumanML3D folder: new_joint_vecs/ is missing "
                "(point at the HumanML3D/ folder that holds new_joint_vecs/, texts/, Mean.npy)"
            )
        self.mean = self._stat("Mean.npy")
        self.std = self._stat("Std.npy")

    def _stat(self, name: str) -> np.ndarray:
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(path)!r} not found; HumanML3D ships Mean.npy and Std.npy"
            )
        array = load_npy_file(path, kind="HumanML3D statistics file", fmt=".npy array").astype(np.float32)
        if array.shape != (HUMANML3D_DIM,):
            raise ValueError(
                f"{str(path)!r}: expected shape [{HUMANML3D_DIM}], got {list(array.shape)}"
            )
        return array

    def ids(self, split: str) -> list[str]:
        """IDs listed in ``split``.txt (train, val, test, train_val or all)."""
        if split not in HUMANML3D_SPLITS:
            raise ValueError(f"split must be one of {HUMANML3D_SPLITS}, got {split!r}")
        path = self.root / f"{split}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"split file not found: {str(path)!r}")
        return path.read_text(encoding="utf-8").split()

    def joint_vecs(self, clip_id: str) -> np.ndarray:
        """[T, 263] float32 (not normalised)."""
        return load_joint_vecs(self.root / "new_joint_vecs" / f"{clip_id}.npy")

    def joints(self, clip_id: str) -> np.ndarray:
        """[T, 22, 3] positions: new_joints/ID.npy when present, else recovered from the
        vectors (:func:`vhdiff.motion.representation.humanml3d.recover_from_ric`)."""
        path = self.root / "new_joints" / f"{clip_id}.npy"
        if not path.is_file():
            return recover_from_ric(self.joint_vecs(clip_id))
        array = load_npy_file(path, kind="HumanML3D joints file", fmt=".npy array")
        if array.ndim != 3 or array.shape[1:] != (22, 3):
            raise ValueError(f"{str(path)!r}: expected joints [T, 22, 3], got {list(array.shape)}")
        return array.astype(np.float32)

    def captions(self, clip_id: str) -> list[Caption]:
        return read_captions(self.root / "texts" / f"{clip_id}.txt")

    def normalize(self, vectors: np.ndarray) -> np.ndarray:
        return (vectors - self.mean) / self.std

    def denormalize(self, vectors: np.ndarray) -> np.ndarray:
        return vectors * self.std + self.mean

    def check(self, split: str = "all") -> list[FolderProblem]:
        """Every clip of ``split`` whose vectors or captions cannot be read."""
        problems = []
        for clip_id in self.ids(split):
            for reader, path in (
                (self.joint_vecs, self.root / "new_joint_vecs" / f"{clip_id}.npy"),
                (self.captions, self.root / "texts" / f"{clip_id}.txt"),
            ):
                try:
                    reader(clip_id)
                except (ValueError, FileNotFoundError) as exc:
                    problems.append(FolderProblem(str(path), str(exc)))
        return problems


def index_path(root: Path, index: str | None) -> Path:
    if index is not None:
        return Path(index)
    for candidate in (root / "index.csv", root.parent / "index.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"index.csv not found in {str(root)!r} or its parent; pass --index (HumanML3D's "
        "repository root holds it)"
    )
