"""Text-motion datasets in vhdiff's on-disk layout, and batching.

Layout (written by ``vhdiff prep synthetic-motion | amass | humanml3d``)::

    ROOT/motions/ID.npz        SMPLMotion (vhdiff.body.smpl_motion) at the dataset fps
    ROOT/texts/ID.txt          one caption per line; HumanML3D lines
                               ``caption#tokens#start#end`` are read too (start/end in
                               seconds; both 0 (or nan) = the whole clip, otherwise the
                               caption describes only frames [start*fps, end*fps))
    ROOT/train.txt | val.txt | test.txt    one ID per line
    ROOT/feature_stats.npz     FeatureStats of the train split (mean/std [D])

Every file is checked on its own (:func:`load_motion_checked`, :func:`read_captions`):
a malformed ``.npz``, missing keys, wrong shapes, an fps other than the dataset's, or a
caption file without captions raise a ``ValueError`` naming the file and the problem.
:class:`MotionTextDataset` catches those per file, skips the clip, lists it in
``dataset.skipped`` and emits ONE warning with the count; the rest loads.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation import STATS_FILE
from vhdiff.motion.representation.smpl import feature_dim, to_features
from vhdiff.motion.representation.stats import FeatureStats

__all__ = [
    "SPLITS",
    "Caption",
    "HumanML3DDataset",
    "MotionTextDataset",
    "SkippedFile",
    "collate_motion",
    "compute_feature_stats",
    "load_motion_checked",
    "open_motion_dataset",
    "read_captions",
    "read_split",
    "require_dataset_folder",
]

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Caption:
    """One caption line: text, optional HumanML3D tokens (``word/POS`` strings) and the
    described segment in seconds (start = end = 0 means the whole clip)."""

    text: str
    tokens: tuple[str, ...] = ()
    start: float = 0.0
    end: float = 0.0

    @property
    def whole_clip(self) -> bool:
        return self.start == 0.0 and self.end == 0.0


@dataclass(frozen=True)
class SkippedFile:
    """A clip left out of a dataset: the offending file and why."""

    path: str
    reason: str


def _seconds(text: str) -> float:
    value = float(text) if text.strip() else 0.0
    return 0.0 if math.isnan(value) else value


def read_captions(path: str | os.PathLike) -> list[Caption]:
    """Captions of one clip: plain lines, or HumanML3D ``caption#tokens#start#end`` lines.

    Blank lines are ignored. Raises ValueError naming the file when it holds no caption
    or a HumanML3D line has bad start/end fields; FileNotFoundError when it is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"caption file not found: {str(path)!r}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(path)!r}: captions must be UTF-8 text ({exc})") from exc
    captions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split("#")
        text = fields[0].strip()
        if not text:
            raise ValueError(f"{str(path)!r} line {number}: empty caption before '#'")
        if len(fields) == 1:
            captions.append(Caption(text=text))
            continue
        if len(fields) != 4:
            raise ValueError(
                f"{str(path)!r} line {number}: expected 'caption' or HumanML3D's "
                f"'caption#tokens#start#end', got {len(fields)} '#'-separated fields"
            )
        try:
            start, end = _seconds(fields[2]), _seconds(fields[3])
        except ValueError as exc:
            raise ValueError(
                f"{str(path)!r} line {number}: start/end must be seconds, got "
                f"{fields[2]!r}, {fields[3]!r}"
            ) from exc
        if not (start == end == 0.0) and not (0.0 <= start < end):
            raise ValueError(
                f"{str(path)!r} line {number}: segment start={start} end={end} is empty"
            )
        captions.append(Caption(text=text, tokens=tuple(fields[1].split()), start=start, end=end))
    if not captions:
        raise ValueError(f"{str(path)!r}: caption file is empty; write one caption per line")
    return captions


def load_motion_checked(path: str | os.PathLike, *, fps: float) -> SMPLMotion:
    """Load one motion `.npz` and check it is usable at ``fps``.

    Raises ValueError (naming the file) for unreadable / malformed files, missing keys,
    wrong shapes, NaNs (all from :meth:`SMPLMotion.load`) and an fps mismatch.
    """
    motion = SMPLMotion.load(path)
    if abs(motion.fps - fps) > 1e-3:
        raise ValueError(
            f"{str(path)!r}: fps is {motion.fps:g} but the dataset expects {fps:g}; "
            f"convert it again with the prep command's --fps {fps:g}"
        )
    return motion


def require_dataset_folder(root: str | os.PathLike, *, what: str = "dataset folder") -> Path:
    """`root` as a Path; FileNotFoundError with the command that makes one when it is no folder."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{what} {str(root)!r} is not a folder; make a dataset with "
            "`vhdiff prep synthetic-motion DIR` (or convert one with `vhdiff prep amass` / "
            "`vhdiff prep humanml3d`)"
        )
    return root


def read_split(root: str | os.PathLike, split: str) -> list[str]:
    """IDs of one split (``ROOT/SPLIT.txt``, one per line, blanks ignored)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = Path(root) / f"{split}.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"split file not found: {str(path)!r}; a dataset folder holds motions/, texts/ "
            "and train.txt / val.txt / test.txt (make one with `vhdiff prep synthetic-motion OUT`)"
        )
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class _Clip:
    id: str
    motion_path: Path
    captions: list[str]
    first: int  # frame range [first, last) of the motion this item covers
    last: int
    features: np.ndarray | None  # normalised [T, D] of the WHOLE motion, when cached


class MotionTextDataset(Dataset):
    """Clips of one split as normalised features with their captions.

    Args:
        root: the dataset folder (layout in the module docstring).
        split: "train", "val" or "test".
        max_frames: longer clips are cropped to this many frames: a random window in
            "train", the first ``max_frames`` frames otherwise.
        min_frames: shorter clips (or caption segments) are skipped.
        stats: FeatureStats to normalise with; default ``ROOT/feature_stats.npz``.
        contacts: include the 4 foot-contact features (D = 140, else 136).
        fps: the frame rate every motion must have.
        cache: keep every clip's features in memory (computed once at construction);
            otherwise the file is read again on each access.
        generator: torch.Generator for the train crops (default: torch's global RNG, which
            DataLoader re-seeds per worker).

    Item ``i`` is a dict: ``features`` float32 tensor [T, D] (normalised, T <= max_frames),
    ``length`` int (= T), ``captions`` list[str] (>= 1), ``id`` str.
    A HumanML3D caption with a start/end segment becomes its own item over that segment.

    Attributes: ``skipped`` (list of :class:`SkippedFile`), ``stats``, ``feature_dim``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: Literal["train", "val", "test"] = "train",
        *,
        max_frames: int = 196,
        min_frames: int = 40,
        stats: FeatureStats | None = None,
        contacts: bool = True,
        fps: float = 20.0,
        cache: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        self.root = require_dataset_folder(root)
        if not 1 <= min_frames <= max_frames:
            raise ValueError(
                f"need 1 <= min_frames <= max_frames, got min_frames={min_frames}, "
                f"max_frames={max_frames}"
            )
        self.split = split
        self.max_frames = max_frames
        self.min_frames = min_frames
        self.contacts = contacts
        self.fps = float(fps)
        self.cache = cache
        self.generator = generator
        self._set_representation(stats)
        self.skipped: list[SkippedFile] = []
        self._clips: list[_Clip] = []
        ids = read_split(self.root, split)
        for clip_id in ids:
            self._add(clip_id)
        if self.skipped:
            shown = "; ".join(
                s.reason if s.path in s.reason else f"{s.path}: {s.reason}"
                for s in self.skipped[:3]
            )
            warnings.warn(
                f"{str(self.root)!r} split {split!r}: skipped {len(self.skipped)} of {len(ids)} "
                f"clips (see dataset.skipped): {shown}{' ...' if len(self.skipped) > 3 else ''}",
                stacklevel=2,
            )
        if not self._clips:
            raise ValueError(
                f"{str(self.root)!r} split {split!r}: no usable clips ({len(ids)} listed, "
                f"{len(self.skipped)} skipped); first problem: "
                f"{self.skipped[0].reason if self.skipped else 'the split file is empty'}"
            )

    # -- representation hooks (HumanML3DDataset overrides them) --------------------------

    def _set_representation(self, stats: FeatureStats | None) -> None:
        """Set ``feature_dim`` and ``stats`` (default: ROOT/feature_stats.npz)."""
        self.feature_dim = feature_dim(contacts=self.contacts)
        self.stats = stats if stats is not None else FeatureStats.load(self.root / STATS_FILE)
        if self.stats.dim != self.feature_dim:
            raise ValueError(
                f"feature stats have {self.stats.dim} dims but contacts={self.contacts} features "
                f"have {self.feature_dim}; pass contacts={self.stats.dim == 140} or matching stats"
            )

    def _motion_file(self, clip_id: str) -> Path:
        return self.root / "motions" / f"{clip_id}.npz"

    def _read_features(self, path: Path) -> np.ndarray:
        """Normalised float32 features [T, D] of one motion file (errors name the file)."""
        motion = load_motion_checked(path, fps=self.fps)
        features = self.stats.normalize(to_features(motion, contacts=self.contacts))
        if not np.isfinite(features).all():
            raise ValueError(f"{str(path)!r}: features are not finite")
        return features.astype(np.float32)

    # -----------------------------------------------------------------------------------

    def _add(self, clip_id: str) -> None:
        motion_path = self._motion_file(clip_id)
        text_path = self.root / "texts" / f"{clip_id}.txt"
        try:
            captions = read_captions(text_path)
        except (ValueError, FileNotFoundError) as exc:
            self.skipped.append(SkippedFile(path=str(text_path), reason=str(exc)))
            return
        try:
            features = self._read_features(motion_path)
        except (ValueError, FileNotFoundError) as exc:
            self.skipped.append(SkippedFile(path=str(motion_path), reason=str(exc)))
            return
        frames = features.shape[0]
        if not self.cache:
            features = None
        whole = [c.text for c in captions if c.whole_clip]
        segments: dict[tuple[int, int], list[str]] = {}
        for caption in captions:
            if not caption.whole_clip:
                key = (int(caption.start * self.fps), min(int(caption.end * self.fps), frames))
                segments.setdefault(key, []).append(caption.text)
        for (first, last), texts in [((0, frames), whole)] + sorted(segments.items()):
            if not texts:
                continue
            if last - first < self.min_frames:
                self.skipped.append(
                    SkippedFile(
                        path=str(motion_path),
                        reason=f"frames [{first}, {last}) are {last - first} frames, fewer than "
                        f"min_frames={self.min_frames}",
                    )
                )
                continue
            self._clips.append(_Clip(clip_id, motion_path, texts, first, last, features))

    def __len__(self) -> int:
        return len(self._clips)

    @property
    def captions(self) -> list[list[str]]:
        """Every item's captions, in item order (without reading any motion)."""
        return [list(clip.captions) for clip in self._clips]

    @property
    def ids(self) -> list[str]:
        """Clip IDs in item order (an ID repeats for each of its caption segments)."""
        return [clip.id for clip in self._clips]

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip = self._clips[index]
        features = clip.features
        if features is None:
            features = self._read_features(clip.motion_path)
        first, last = clip.first, clip.last
        if last - first > self.max_frames:
            if self.split == "train":
                first += int(
                    torch.randint(
                        0, last - first - self.max_frames + 1, (), generator=self.generator
                    )
                )
            last = first + self.max_frames
        window = torch.from_numpy(np.ascontiguousarray(features[first:last]))
        return {
            "features": window,
            "length": last - first,
            "captions": list(clip.captions),
            "id": clip.id,
        }


class HumanML3DDataset(MotionTextDataset):
    """HumanML3D's released folder as items of 263-dim vectors (the second representation).

    Reads ``ROOT/new_joint_vecs/ID.npy`` [T, 263], ``ROOT/texts/ID.txt`` (with their
    start/end segments), ``ROOT/train.txt | val.txt | test.txt`` and normalises with
    ``ROOT/Mean.npy`` / ``ROOT/Std.npy`` (used as they are: ``min_std`` 1e-8). Items, crops,
    skipping of bad files and :func:`collate_motion` are those of
    :class:`MotionTextDataset`; ``features`` are [T, 263]. Turn (denormalised) vectors
    into joints with :func:`vhdiff.motion.representation.humanml3d.recover_from_ric`. With ``cache=True``
    the whole of HumanML3D takes about 4 GB of memory; ``cache=False`` reads on access.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: Literal["train", "val", "test"] = "train",
        *,
        max_frames: int = 196,
        min_frames: int = 40,
        cache: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(
            root, split, max_frames=max_frames, min_frames=min_frames, fps=20.0, cache=cache,
            generator=generator,
        )  # fmt: skip

    def _set_representation(self, stats: FeatureStats | None) -> None:
        from vhdiff.motion.representation.humanml3d import HUMANML3D_DIM, load_feature_stats

        self.stats = load_feature_stats(self.root)
        self.feature_dim = HUMANML3D_DIM

    def _motion_file(self, clip_id: str) -> Path:
        return self.root / "new_joint_vecs" / f"{clip_id}.npy"

    def _read_features(self, path: Path) -> np.ndarray:
        from vhdiff.motion.representation.humanml3d import load_joint_vecs

        return self.stats.normalize(load_joint_vecs(path)).astype(np.float32)


def collate_motion(
    batch: list[dict[str, Any]], *, rng: np.random.Generator | int | None = None
) -> dict[str, Any]:
    """Pad a list of dataset items into a batch.

    Returns a dict: ``x`` float32 [B, Tmax, D] (zeros after each length), ``mask`` bool
    [B, Tmax] (True = real frame), ``lengths`` long [B], ``captions`` list[str] (one per
    item, chosen uniformly with ``rng``: a numpy Generator, a seed, or None = fresh
    randomness), ``ids`` list[str]. Use ``functools.partial(collate_motion, rng=...)`` as
    a DataLoader's ``collate_fn``.
    """
    if not batch:
        raise ValueError("collate_motion got an empty batch")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    lengths = torch.tensor([int(item["length"]) for item in batch], dtype=torch.long)
    dims = {int(item["features"].shape[-1]) for item in batch}
    if len(dims) != 1:
        raise ValueError(
            f"items have different feature sizes {sorted(dims)}; use one representation"
        )
    x = torch.zeros(len(batch), int(lengths.max()), dims.pop(), dtype=torch.float32)
    for row, item in enumerate(batch):
        x[row, : item["length"]] = torch.as_tensor(item["features"], dtype=torch.float32)
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    captions = [item["captions"][int(rng.integers(len(item["captions"])))] for item in batch]
    return {
        "x": x,
        "mask": mask,
        "lengths": lengths,
        "captions": captions,
        "ids": [i["id"] for i in batch],
    }


def compute_feature_stats(
    root: str | os.PathLike,
    *,
    split: str = "train",
    fps: float = 20.0,
    contacts: bool = True,
    min_std: float = 1e-2,
) -> FeatureStats:
    """FeatureStats over every readable motion of ``split`` (bad files are left out)."""
    features = []
    for clip_id in read_split(root, split):
        try:
            motion = load_motion_checked(Path(root) / "motions" / f"{clip_id}.npz", fps=fps)
        except (ValueError, FileNotFoundError):
            continue
        features.append(to_features(motion, contacts=contacts))
    if not features:
        raise ValueError(
            f"{str(root)!r} split {split!r}: no readable motions to compute stats from"
        )
    return FeatureStats.from_features(features, min_std=min_std)


def open_motion_dataset(
    root: str | os.PathLike, split: str, *, representation: Any, max_frames: int = 196,
    min_frames: int = 40, fps: float = 20.0,
) -> MotionTextDataset:
    """The dataset class that reads `representation`'s folders (vhdiff's layout for
    "smpl", HumanML3D's released folder for "humanml3d"), opened on one split."""
    from vhdiff.motion.representation import get_representation

    rep = get_representation(representation)
    if rep.has_smpl:
        return MotionTextDataset(
            root, split, max_frames=max_frames, min_frames=min_frames, fps=fps,
            contacts=getattr(rep, "contacts", True),
        )
    return HumanML3DDataset(root, split, max_frames=max_frames, min_frames=min_frames)
