"""BVH motion capture -> vhdiff's motion layout (`vhdiff prep bvh-motion IN OUT`).

IN is one ``.bvh`` file or a folder (searched recursively). Each file is read
(``vhdiff.body.bvh.read_bvh``), retargeted onto the neutral SMPL body
(``vhdiff.body.bvh_retarget.retarget_bvh``: joints by name, rest-pose offsets, leg-length
scale), then:

1. a leading bind-pose frame is dropped: when some joint turns by more than
   ``BIND_JUMP_DEGREES`` between frames 0 and 1 (cgspeed's CMU conversions start with a
   T-pose calibration frame; no body turns a joint that far in 1/120 s);
2. resampled to ``fps`` (``vhdiff.data_prep.amass.resample_motion``: rotations slerped,
   translation lerped);
3. put on the floor: the lowest joint over the clip at y = 0, as for AMASS / HumanML3D.

Written, in the layout of :mod:`vhdiff.motion.data` (the built-in set's)::

    OUT/motions/ID.npz       SMPLMotion (neutral betas) at fps
    OUT/texts/ID.txt         CAPTIONS/ID.txt copied, else DEFAULT_CAPTION
    OUT/train.txt val.txt test.txt   seeded 80/10/10 (vhdiff.data_prep.amass.write_splits)
    OUT/feature_stats.npz    FeatureStats of the train split
    OUT/bvh_motion.json      what was converted (per clip: source, frames, naming, scale)
                             and skipped (file, reason); written last: it marks the folder

ID is the file's path under IN without ``.bvh``, folders joined by ``__`` (the file's
stem for a single file). The whole folder is written under a temporary name and renamed
into place at the end (``vhdiff.atomic_io.atomic_folder``): an existing OUT is replaced
only when it is empty or an earlier output of this command (it holds bvh_motion.json and
nothing else than what the command writes: not, e.g., an evaluator/ trained on it since),
and then only with force=True.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from vhdiff.data_prep.amass import put_on_floor, resample_motion, write_splits

from vhdiff.atomic_io import FolderKind, atomic_folder, write_text_atomic
from vhdiff.body import rotations_np as nr
from vhdiff.body.bvh import read_bvh
from vhdiff.body.bvh_names import load_mapping
from vhdiff.body.bvh_retarget import retarget_bvh
from vhdiff.body.smpl_motion import SMPLMotion

__all__ = [
    "BIND_JUMP_DEGREES",
    "DEFAULT_CAPTION",
    "MARKER",
    "BVHClip",
    "BVHConversionReport",
    "bvh_clip",
    "convert_bvh",
]

MARKER = "bvh_motion.json"
# Everything convert_bvh writes into OUT; a folder holding anything else is not replaced.
WRITTEN = frozenset(
    {"motions", "texts", "train.txt", "val.txt", "test.txt", "feature_stats.npz", MARKER}
)
BVH_SET = FolderKind(
    name="BVH motion set",
    rule=f"holds {MARKER} and nothing but what `vhdiff prep bvh-motion` writes",
    test=lambda folder: (
        (folder / MARKER).is_file() and all(child.name in WRITTEN for child in folder.iterdir())
    ),
)
DEFAULT_CAPTION = "a person moves."
BIND_JUMP_DEGREES = 45.0


@dataclass(frozen=True)
class BVHClip:
    """One converted file: the motion at the target fps and how it was made."""

    motion: SMPLMotion
    source_frames: int
    source_fps: float
    convention: str
    scale: float
    dropped_bind_frame: bool


def _bind_frame(motion: SMPLMotion) -> bool:
    """True when frame 0 is a calibration pose: a joint turns > BIND_JUMP_DEGREES to frame 1."""
    if motion.num_frames < 2:
        return False
    pose = nr.axis_angle_to_matrix(motion.poses[:2].reshape(2, -1, 3).astype(np.float64))
    relative = np.swapaxes(pose[0], -1, -2) @ pose[1]  # [22, 3, 3]
    angle = np.linalg.norm(nr.matrix_to_axis_angle(relative), axis=-1)
    return bool(np.degrees(angle).max() > BIND_JUMP_DEGREES)


def bvh_clip(
    path: str | os.PathLike, *, fps: float = 20.0, mapping: Mapping[str, str] | None = None
) -> BVHClip:
    """Read, retarget, resample and floor one BVH file (module docstring, steps 1-3)."""
    where = repr(str(path))
    bvh = read_bvh(path)
    try:
        retargeted = retarget_bvh(bvh, mapping=mapping, where=where)
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(where) else f"{where}: {message}") from None
    source = retargeted.motion
    dropped = _bind_frame(source)
    first = 1 if dropped else 0
    poses, transl = resample_motion(
        source.poses[first:].reshape(-1, 22, 3).astype(np.float64),
        source.transl[first:].astype(np.float64), source.fps, fps,
    )  # fmt: skip
    motion = SMPLMotion(
        global_orient=poses[:, 0].astype(np.float32),
        body_pose=poses[:, 1:].astype(np.float32),
        transl=transl.astype(np.float32),
        betas=source.betas,
        fps=fps,
    )
    return BVHClip(
        motion=put_on_floor(motion),
        source_frames=bvh.num_frames,
        source_fps=bvh.fps,
        convention=retargeted.match.convention,
        scale=retargeted.scale,
        dropped_bind_frame=dropped,
    )


@dataclass
class BVHConversionReport:
    """What a conversion wrote (clip IDs), what it skipped ((file, reason)), split sizes."""

    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    uncaptioned: int = 0


def _sources(source: Path) -> list[tuple[str, Path]]:
    if source.is_file():
        return [(source.stem, source)]
    if not source.is_dir():
        raise FileNotFoundError(f"BVH file or folder not found: {str(source)!r}")
    files = sorted(p for p in source.rglob("*") if p.suffix.lower() == ".bvh" and p.is_file())
    if not files:
        raise FileNotFoundError(
            f"no .bvh files under {str(source)!r}; pass a BVH file or a folder of them"
        )
    return [("__".join(p.relative_to(source).with_suffix("").parts), p) for p in files]


def convert_bvh(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    fps: float = 20.0,
    captions: str | os.PathLike | None = None,
    mapping: str | os.PathLike | None = None,
    seed: int = 0,
    force: bool = False,
) -> BVHConversionReport:
    """Convert a BVH file or folder into the dataset folder `out` (module docstring).

    Bad files are skipped and listed in the report; the rest is converted. A single
    file that fails, or a folder of which none converts, raises its ValueError.
    """
    from vhdiff.motion.data import compute_feature_stats

    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"--fps must be a positive number, got {fps}")
    source, out = Path(source), Path(out)
    jobs = _sources(source)
    joint_map = load_mapping(mapping) if mapping is not None else None
    captions_dir = Path(captions) if captions is not None else None
    if captions_dir is not None and not captions_dir.is_dir():
        raise FileNotFoundError(f"captions folder not found: {str(captions_dir)!r}")
    report = BVHConversionReport()
    clips: dict[str, dict[str, object]] = {}
    with atomic_folder(out, kind=BVH_SET, force=force) as temp:
        for clip_id, path in jobs:
            try:
                clip = bvh_clip(path, fps=fps, mapping=joint_map)
            except (ValueError, FileNotFoundError) as exc:
                if source.is_file():
                    raise
                report.skipped.append((str(path), str(exc)))
                continue
            clip.motion.save(temp / "motions" / f"{clip_id}.npz")
            caption_file = captions_dir / f"{clip_id}.txt" if captions_dir else None
            if caption_file is not None and caption_file.is_file():
                text = caption_file.read_text(encoding="utf-8")
            else:
                text, report.uncaptioned = DEFAULT_CAPTION + "\n", report.uncaptioned + 1
            write_text_atomic(temp / "texts" / f"{clip_id}.txt", text)
            report.written.append(clip_id)
            clips[clip_id] = {
                "source": str(path), "frames": clip.motion.num_frames,
                "source_frames": clip.source_frames, "source_fps": clip.source_fps,
                "convention": clip.convention, "scale": clip.scale,
                "dropped_bind_frame": clip.dropped_bind_frame,
            }  # fmt: skip
        if not report.written:
            raise ValueError(f"nothing converted from {str(source)!r}: {report.skipped[0][1]}")
        report.splits = write_splits(temp, report.written, None, seed)
        compute_feature_stats(temp, fps=fps).save(temp / "feature_stats.npz")
        record = {
            "kind": "bvh-motion",
            "fps": fps,
            "seed": seed,
            "splits": report.splits,
            "clips": clips,
            "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
        }
        write_text_atomic(temp / MARKER, json.dumps(record, indent=2) + "\n")
    return report
