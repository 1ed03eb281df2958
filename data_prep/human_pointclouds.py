"""`vhdiff prep human-pointclouds OUT`: human point clouds sampled from posed bodies, or from a
folder of meshes / point files, in the layout of vhdiff.pointcloud.data.

Posed bodies (the default). Each cloud is one frame of a motion on a body of its own shape:

- the motion: by default a fresh one-action clip of the built-in motion vocabulary
  (vhdiff.data_prep.motion_vocab, the procedure behind the built-in motion set; the families
  in turn, so every family is equally common), captioned as that set is; with `motion=DIR`
  a random clip of DIR's split (any motion set in vhdiff's layout: the built-in set,
  converted AMASS / HumanML3D) with its captions;
- the frame: uniform over the clip; its pose is made canonical (vhdiff.pointcloud.pose: the
  heading removed, so every body faces +Z), the pelvis put above the origin and the lowest
  point on the floor y = 0;
- the body: the licence-free mannequin by default, a real SMPL body with `body="smpl"` (the
  user's files), with betas drawn per cloud (motion_vocab.clips.sample_betas);
- the points: exactly `points` of them, uniform on the surface (area-weighted faces).

Train / val / test clouds come from distinct clips (the built-in source: 80 / 10 / 10 %;
`motion=DIR`: DIR's own splits), and test captions use the held-out templates as the motion
set's do. From a folder (`source=DIR`): every mesh (.obj .ply .off .stl .glb) is surface-
sampled, every point file (.npy .xyz .ply) randomly subsampled to `points`; captions from a
same-name .txt; unreadable, empty, NaN, degenerate files and point files with fewer points
are skipped and counted by reason; an 80 / 10 / 10 % random split.

The whole set is written into a temporary folder and renamed into place (vhdiff.atomic_io);
an existing OUT is replaced only when it is an earlier point-cloud set and force=True.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.atomic_io import atomic_folder, check_writable, write_npz_atomic, write_text_atomic
from vhdiff.pointcloud.bodies import placed_body
from vhdiff.pointcloud.data import (
    DATASET_FILE,
    POINTCLOUD_SET,
    POINTS_DIR,
    POSES_DIR,
    SET_KIND,
    SPLITS,
    TEXTS_DIR,
)
from vhdiff.pointcloud.files import (
    MESH_SUFFIXES,
    POINT_SUFFIXES,
    read_mesh,
    read_points,
    sample_surface,
)
from vhdiff.pointcloud.normalization import NORMALIZATIONS, Normalization
from vhdiff.pointcloud.pose import canonical_pose

__all__ = ["MAX_CLOUDS", "MAX_POINTS", "PointCloudSetReport", "write_human_pointclouds", "write_pointcloud_folder"]

MAX_CLOUDS = 1_000_000
MAX_POINTS = 1_000_000  # per cloud; more is a typo (a set is held in memory for training)
SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
CAPTIONS_PER_CLOUD = 3


@dataclass
class PointCloudSetReport:
    """What a prep run wrote: counts per split, skipped inputs by reason, timing."""

    out: str
    clouds: int
    points: int
    seed: int
    source: str
    splits: dict[str, int]
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _check_counts(num: int | None, points: int) -> None:
    if num is not None and (isinstance(num, bool) or not isinstance(num, int) or not 3 <= num <= MAX_CLOUDS):
        raise ValueError(f"--num must be a whole number in [3, {MAX_CLOUDS}] (one cloud per split at least); got {num!r}")
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
        raise ValueError(f"--points must be a whole number in [1, {MAX_POINTS}]; got {points!r}")


def _random_splits(count: int, rng: np.random.Generator) -> list[str]:
    """80 / 10 / 10 % in random order, at least one of each."""
    n_val = max(1, round(count * SPLIT_FRACTIONS["val"]))
    n_test = max(1, round(count * SPLIT_FRACTIONS["test"]))
    labels = ["val"] * n_val + ["test"] * n_test
    labels += ["train"] * (count - len(labels))
    return [labels[i] for i in rng.permutation(count)]


def _write_set(tmp: Path, items: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, int]:
    """Write the items (id, split, points, texts, pose, betas) and dataset.json into tmp."""
    ids: dict[str, list[str]] = {name: [] for name in SPLITS}
    for item in items:
        np.save(tmp / POINTS_DIR / f"{item['id']}.npy", item["points"].astype(np.float32))
        if item.get("texts"):
            (tmp / TEXTS_DIR / f"{item['id']}.txt").write_text("\n".join(item["texts"]) + "\n", encoding="utf-8")
        if item.get("pose") is not None:
            write_npz_atomic(tmp / POSES_DIR / f"{item['id']}.npz", {"pose": item["pose"], "betas": item["betas"]})
        ids[item["split"]].append(item["id"])
    for name, members in ids.items():
        if not members:
            raise ValueError(f"no cloud fell into the {name} split; prepare more clouds (--num)")
        write_text_atomic(tmp / f"{name}.txt", "".join(f"{i}\n" for i in members))
    train = np.stack([item["points"] for item in items if item["split"] == "train"])
    meta["normalization"] = {kind: Normalization.fit(train, kind).to_dict() for kind in NORMALIZATIONS}
    meta["splits"] = {name: len(members) for name, members in ids.items()}
    write_text_atomic(tmp / DATASET_FILE, json.dumps(meta, indent=2) + "\n")
    return meta["splits"]


def _staged(out: Path, force: bool, texts: bool, poses: bool):
    check_writable(out.parent if not out.exists() else out)
    folder = atomic_folder(out, kind=POINTCLOUD_SET, force=force)
    return folder, (POINTS_DIR, *((TEXTS_DIR,) if texts else ()), *((POSES_DIR,) if poses else ()))


# ---------------------------------------------------------------------- posed bodies
def _builtin_clip(rng: np.random.Generator, family: str, split: str) -> tuple[Any, list[str]]:
    from vhdiff.data_prep.motion_vocab.captions import clip_captions
    from vhdiff.data_prep.motion_vocab.clips import make_motion, sample_clip

    spec = sample_clip(rng, family=family)
    captions = clip_captions(spec.segments, rng, count=CAPTIONS_PER_CLOUD, held_out=split == "test")
    return make_motion(spec), captions


def _motion_source(motion_dir: Path) -> dict[str, list[str]]:
    from vhdiff.motion.data import read_split

    return {name: read_split(motion_dir, name) for name in SPLITS}


def _motion_clip(motion_dir: Path, clip_id: str) -> tuple[Any, list[str]]:
    from vhdiff.motion.data import load_motion_checked, read_captions

    motion = load_motion_checked(motion_dir / "motions" / f"{clip_id}.npz", fps=20.0)
    text_path = motion_dir / "texts" / f"{clip_id}.txt"
    captions = [c.text for c in read_captions(text_path)] if text_path.is_file() else []
    return motion, captions[:CAPTIONS_PER_CLOUD]


def write_human_pointclouds(
    out: str | os.PathLike, *, num: int = 4000, points: int = 2048, seed: int = 0,
    motion: str | os.PathLike | None = None, body: str = "mannequin", smpl_path: str | None = None,
    force: bool = False, progress: bool = False,
) -> PointCloudSetReport:
    """Sample `num` clouds of posed bodies into `out` (module docstring); returns the report."""
    from vhdiff.data_prep.motion_vocab.actions import FAMILIES
    from vhdiff.data_prep.motion_vocab.clips import sample_betas

    from vhdiff.body.posing import body_model_for

    _check_counts(num, points)
    if body not in ("mannequin", "smpl"):
        raise ValueError(f"--body must be mannequin or smpl, got {body!r}")
    out = Path(out)
    source = _motion_source(Path(motion)) if motion is not None else None
    model = body_model_for(body, smpl_path)
    rng = np.random.default_rng(seed)
    families = list(FAMILIES)
    start = time.perf_counter()
    folder, subdirs = _staged(out, force, texts=True, poses=True)
    with folder as tmp:
        for sub in subdirs:
            (tmp / sub).mkdir()
        items = []
        for index, split in enumerate(_random_splits(num, rng)):
            if source is None:
                clip, texts = _builtin_clip(rng, families[index % len(families)], split)
            else:
                clip_id = str(rng.choice(source[split]))
                clip, texts = _motion_clip(Path(motion), clip_id)
            frame = int(rng.integers(clip.num_frames))
            pose = canonical_pose(clip.global_orient[frame], clip.body_pose[frame])
            betas = sample_betas(rng)
            items.append({
                "id": f"{index:06d}", "split": split, "texts": texts, "pose": pose, "betas": betas,
                "points": sample_surface(*placed_body(model, pose, betas), points, rng),
            })
            if progress and (index + 1) % 500 == 0:
                print(f"  {index + 1}/{num} clouds", file=sys.stderr)
        meta = {
            "kind": SET_KIND, "format": 1, "points": points, "seed": seed, "units": "metres, Y up",
            "source": "motion set " + str(motion) if motion is not None else "built-in motion vocabulary",
            "body": body, "families": families if source is None else None,
            "placement": "heading removed (faces +Z), pelvis above the origin, lowest point at y = 0",
        }
        splits = _write_set(tmp, items, meta)
    return PointCloudSetReport(
        out=str(out), clouds=num, points=points, seed=seed, source=meta["source"], splits=splits,
        seconds=round(time.perf_counter() - start, 2),
    )


# ---------------------------------------------------------------------- a folder of files
def _read_any(path: Path, points: int, rng: np.random.Generator) -> np.ndarray:
    """`points` points of a mesh or point file; ValueError(reason) when it cannot give them."""
    suffix = path.suffix.lower()
    mesh = None
    if suffix in MESH_SUFFIXES:
        try:
            mesh = read_mesh(path)
        except ValueError:
            if suffix not in POINT_SUFFIXES:
                raise
    if mesh is not None:
        return sample_surface(*mesh, points, rng)
    cloud = read_points(path)
    if len(cloud) < points:
        raise ValueError(f"fewer points than --points ({len(cloud)} < {points})")
    return cloud[rng.choice(len(cloud), size=points, replace=False)]


# words of a reader's ValueError -> the reason a skipped file is counted under
SKIP_REASONS = (
    ("fewer points", "fewer points"), ("NaN", "NaN"), ("no triangles", "empty"),
    ("zero surface area", "degenerate"), ("no [P, 3] points", "empty"),
)


def _skip_reason(message: str) -> str:
    return next((reason for words, reason in SKIP_REASONS if words in message), "unreadable")


def write_pointcloud_folder(
    out: str | os.PathLike, *, source: str | os.PathLike, points: int = 2048, seed: int = 0,
    force: bool = False,
) -> PointCloudSetReport:
    """A set from every mesh / point file under `source` (recursively; module docstring)."""
    _check_counts(None, points)
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"--from {str(source)!r} is not a folder of meshes or point files")
    suffixes = set(MESH_SUFFIXES) | set(POINT_SUFFIXES)
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise ValueError(
            f"{str(source)!r} holds no mesh or point file ({', '.join(sorted(suffixes))}); nothing to prepare"
        )
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    skipped: Counter[str] = Counter()
    clouds = []
    for path in files:
        try:
            cloud = _read_any(path, points, rng)
        except ValueError as exc:
            skipped[_skip_reason(str(exc))] += 1
            continue
        caption = path.with_suffix(".txt")
        texts = [t.strip() for t in caption.read_text(encoding="utf-8").splitlines() if t.strip()] if caption.is_file() else []
        clouds.append({"points": cloud, "texts": texts, "file": str(path.relative_to(source))})
    if len(clouds) < 3:
        raise ValueError(
            f"only {len(clouds)} usable file(s) in {str(source)!r} (skipped: {dict(skipped) or 'none'}); "
            "a set needs at least 3 (one per split)"
        )
    for index, (item, split) in enumerate(zip(clouds, _random_splits(len(clouds), rng), strict=True)):
        item.update(id=f"{index:06d}", split=split)
    out = Path(out)
    folder, subdirs = _staged(out, force, texts=any(c["texts"] for c in clouds), poses=False)
    with folder as tmp:
        for sub in subdirs:
            (tmp / sub).mkdir()
        meta = {
            "kind": SET_KIND, "format": 1, "points": points, "seed": seed, "units": "as in the source files",
            "source": f"folder {source}", "skipped": dict(skipped),
            "files": {c["id"]: c["file"] for c in clouds},
        }
        splits = _write_set(tmp, clouds, meta)
    return PointCloudSetReport(
        out=str(out), clouds=len(clouds), points=points, seed=seed, source=meta["source"], splits=splits,
        skipped=dict(skipped), seconds=round(time.perf_counter() - start, 2),
    )

