"""AMASS motions -> vhdiff's motion layout (`vhdiff prep amass`).

An AMASS file (SMPL-H G, ``.npz``) holds ``poses`` [N, 156] (root, 21 body joints, 30 hand
joints; axis-angle), ``trans`` [N, 3], ``betas`` [16], ``mocap_framerate`` (or
``mocap_frame_rate``) and ``gender``, in a Z-up world. The conversion:

1. keeps the root and the 21 body joints (``poses[:, :66]``) and the first 10 betas;
2. resamples to ``fps`` (20 by default): frame k is taken at source time k / fps;
   rotations are slerped per joint (quaternions), translations lerped;
3. turns the Z-up world into our Y-up one with HumanML3D's choice
   ``C = [[-1, 0, 0], [0, 0, 1], [0, 1, 0]]`` ((x, y, z) -> (-x, z, y): their Y-up swap
   followed by negating x; a proper rotation, R_y(180 deg) R_x(-90 deg)). The root
   rotation becomes ``C R``; since SMPL rotates about the pelvis joint J0, the
   translation becomes ``C t + (C - I) J0`` (J0 of the neutral SMPL body: the bodies'
   own pelvis differs by ~1-2 cm, a constant shift);
4. puts the clip on the floor: the lowest joint over the clip (neutral-skeleton FK) at y = 0,
   as HumanML3D does.

With HumanML3D's ``index.csv`` (``source_path,start_frame,end_frame,new_name``) each row
becomes one clip named after ``new_name``. The frames follow HumanML3D's indexing: they
counted frames after keeping every ``int(framerate / 20)``-th source frame and after
cutting the first seconds of some subsets (Eyes_Japan_Dataset and MPI_HDM05 3 s,
TotalCapture and MPI_Limits 1 s, Transitions_mocap 0.5 s). The same SOURCE frames are
selected here and then resampled to a true ``fps`` (for 120/60/100 Hz sources that is
exactly HumanML3D's clip; for 59.94 Hz sources HumanML3D's clips play 1.5x slower than
real time, ours do not). ``--mirror`` also writes HumanML3D's mirrored copies
("M" + name: left and right swapped, x negated). Rows whose source is not in AMASS
(HumanAct12) are skipped and reported.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vhdiff.array_files import load_npz_file
from vhdiff.atomic_io import write_text_atomic
from vhdiff.body import rotations_np as nr
from vhdiff.body.skeleton import SMPL_NEUTRAL_REST_JOINTS, mirror_axis_angle
from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation.smpl import joints_from_motion

__all__ = [
    "HUMANML3D_TRIMS",
    "Z_UP_TO_Y_UP",
    "AmassConversionReport",
    "IndexRow",
    "convert_amass",
    "load_amass",
    "mirror_motion",
    "put_on_floor",
    "read_index",
    "resample_motion",
    "to_y_up",
    "write_splits",
]

Z_UP_TO_Y_UP = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
HUMANML3D_FPS = 20
# Seconds HumanML3D cut from the start of these AMASS subsets before indexing.
HUMANML3D_TRIMS = {
    "Eyes_Japan_Dataset": 3.0,
    "MPI_HDM05": 3.0,
    "TotalCapture": 1.0,
    "MPI_Limits": 1.0,
    "Transitions_mocap": 0.5,
}
_PELVIS = np.asarray(SMPL_NEUTRAL_REST_JOINTS[0], dtype=np.float64)


@dataclass(frozen=True)
class AmassSource:
    """One AMASS file read: poses [N, 22, 3] (root + body), trans [N, 3], betas [10], fps."""

    poses: np.ndarray
    trans: np.ndarray
    betas: np.ndarray
    fps: float
    gender: str


def load_amass(path: str | os.PathLike) -> AmassSource:
    """Read an AMASS ``.npz``; ValueError names the file and the problem."""
    path = Path(path)
    archive = load_npz_file(path, kind="AMASS file", fmt=".npz file")
    with archive:
        keys = set(archive.files)
        rate_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in keys), None)
        missing = [k for k in ("poses", "trans") if k not in keys] + (
            [] if rate_key else ["mocap_framerate"]
        )
        if missing:
            raise ValueError(
                f"{str(path)!r}: missing keys {missing}; an AMASS motion has poses, trans, betas "
                f"and mocap_framerate (this file has {sorted(keys)})"
            )
        try:
            poses = np.asarray(archive["poses"], dtype=np.float64)
            trans = np.asarray(archive["trans"], dtype=np.float64)
            fps = float(archive[rate_key])
            betas = (
                np.asarray(archive["betas"], dtype=np.float64) if "betas" in keys else np.zeros(10)
            )
            gender = archive["gender"].item() if "gender" in keys else "neutral"
        except ValueError as exc:  # object arrays (pickle) are refused
            raise ValueError(f"{str(path)!r}: {exc}") from exc
    if poses.ndim != 2 or poses.shape[1] < 66:
        raise ValueError(
            f"{str(path)!r}: poses must have shape [N, >= 66], got {list(poses.shape)}"
        )
    if trans.shape != (poses.shape[0], 3):
        raise ValueError(
            f"{str(path)!r}: trans must have shape [N, 3] = [{poses.shape[0]}, 3], got {list(trans.shape)}"
        )
    if poses.shape[0] < 2:
        raise ValueError(f"{str(path)!r}: needs at least 2 frames, got {poses.shape[0]}")
    if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
        raise ValueError(f"{str(path)!r}: poses or trans contain NaN or infinite values")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"{str(path)!r}: mocap_framerate must be positive, got {fps}")
    gender = (gender.decode("latin1") if isinstance(gender, bytes) else str(gender)).lower()
    return AmassSource(
        poses=poses[:, :66].reshape(-1, 22, 3),
        trans=trans,
        betas=betas.reshape(-1)[:10],
        fps=fps,
        gender=gender if gender in ("male", "female", "neutral") else "neutral",
    )


def resample_motion(
    poses: np.ndarray, trans: np.ndarray, fps_in: float, fps_out: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resample poses [N, J, 3] (axis-angle) and trans [N, 3] from fps_in to fps_out.

    Output frame k is at time k / fps_out (k = 0 .. floor((N - 1) fps_out / fps_in)):
    rotations slerped between the two nearest source frames, translations lerped.
    """
    count = int(np.floor((poses.shape[0] - 1) * fps_out / fps_in + 1e-9)) + 1
    source = np.arange(count) * fps_in / fps_out
    first = np.minimum(np.floor(source).astype(np.int64), poses.shape[0] - 1)
    second = np.minimum(first + 1, poses.shape[0] - 1)
    weight = source - first
    quats = nr.matrix_to_quaternion(nr.axis_angle_to_matrix(poses))
    mixed = nr.slerp(
        quats[first], quats[second], np.broadcast_to(weight[:, None], (count, poses.shape[1]))
    )
    out_poses = nr.matrix_to_axis_angle(nr.quaternion_to_matrix(mixed))
    out_trans = trans[first] + (trans[second] - trans[first]) * weight[:, None]
    return out_poses, out_trans


def to_y_up(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-up AMASS root rotation and translation -> Y-up (module docstring, step 3)."""
    root = Z_UP_TO_Y_UP @ nr.axis_angle_to_matrix(poses[:, 0])
    out = poses.copy()
    out[:, 0] = nr.matrix_to_axis_angle(root)
    return out, trans @ Z_UP_TO_Y_UP.T + (Z_UP_TO_Y_UP - np.eye(3)) @ _PELVIS


def put_on_floor(motion: SMPLMotion) -> SMPLMotion:
    """Shift transl so the lowest joint over the clip (neutral-skeleton FK) is at y = 0."""
    lowest = joints_from_motion(motion)[..., 1].min()
    motion.transl = (motion.transl - np.array([0.0, lowest, 0.0])).astype(np.float32)
    return motion


def _motion(poses: np.ndarray, trans: np.ndarray, source: AmassSource, fps: float) -> SMPLMotion:
    poses, trans = to_y_up(*resample_motion(poses, trans, source.fps, fps))
    motion = SMPLMotion(
        global_orient=poses[:, 0].astype(np.float32),
        body_pose=poses[:, 1:].astype(np.float32),
        transl=trans.astype(np.float32),
        betas=source.betas.astype(np.float32),
        fps=fps,
        gender=source.gender,
    )
    return put_on_floor(motion)


def mirror_motion(motion: SMPLMotion) -> SMPLMotion:
    """Left-right mirror (x -> -x): joints swapped, rotation vectors (x, -y, -z), and the
    translation mirrored about the neutral pelvis (``-t_x - 2 J0_x``)."""
    pose = mirror_axis_angle_np(motion.poses.reshape(-1, 22, 3))
    transl = motion.transl.astype(np.float64).copy()
    transl[:, 0] = -transl[:, 0] - 2 * _PELVIS[0]
    return SMPLMotion(
        global_orient=pose[:, 0], body_pose=pose[:, 1:], transl=transl.astype(np.float32),
        betas=motion.betas, fps=motion.fps, gender=motion.gender,
    )  # fmt: skip


def mirror_axis_angle_np(pose: np.ndarray) -> np.ndarray:
    """numpy front end of :func:`vhdiff.body.skeleton.mirror_axis_angle`."""
    import torch

    return mirror_axis_angle(torch.as_tensor(pose, dtype=torch.float64)).numpy().astype(np.float32)


@dataclass(frozen=True)
class IndexRow:
    """One row of HumanML3D's index.csv (frames at 20 fps, after the subset trims)."""

    source_path: str
    start_frame: int
    end_frame: int
    new_name: str

    @property
    def clip_id(self) -> str:
        return Path(self.new_name).stem


def read_index(path: str | os.PathLike) -> list[IndexRow]:
    """HumanML3D's index.csv (header ``source_path,start_frame,end_frame,new_name``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"index file not found: {str(path)!r}")
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        expected = {"source_path", "start_frame", "end_frame", "new_name"}
        if not reader.fieldnames or not expected <= set(reader.fieldnames):
            raise ValueError(
                f"{str(path)!r}: expected HumanML3D's header source_path,start_frame,end_frame,"
                f"new_name, got {reader.fieldnames}"
            )
        rows = []
        for number, row in enumerate(reader, 2):
            try:
                rows.append(
                    IndexRow(
                        row["source_path"],
                        int(row["start_frame"]),
                        int(row["end_frame"]),
                        row["new_name"],
                    )
                )
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{str(path)!r} line {number}: bad frame numbers ({exc})") from exc
    return rows


def _amass_file(root: Path, source_path: str) -> Path:
    """'./pose_data/KIT/3/x_poses.npy' -> ROOT/KIT/3/x_poses.npz."""
    relative = source_path.replace("\\", "/")
    for prefix in ("./pose_data/", "pose_data/", "./amass_data/", "amass_data/", "./"):
        if relative.startswith(prefix):
            relative = relative[len(prefix) :]
            break
    return root / Path(relative).with_suffix(".npz")


def _segment(source: AmassSource, row: IndexRow, fps: float) -> SMPLMotion:
    step = max(int(source.fps / HUMANML3D_FPS), 1)  # HumanML3D's down-sampling step
    trim = next((sec for name, sec in HUMANML3D_TRIMS.items() if name in row.source_path), 0.0)
    skip = int(trim * HUMANML3D_FPS)
    first, last = (skip + row.start_frame) * step, (skip + row.end_frame) * step
    if row.end_frame <= row.start_frame or last > source.poses.shape[0] + step:
        raise ValueError(
            f"frames [{row.start_frame}, {row.end_frame}) (at 20 fps after a {trim:g} s trim) do "
            f"not fit a {source.poses.shape[0]}-frame file at {source.fps:g} fps"
        )
    last = min(last, source.poses.shape[0])
    return _motion(source.poses[first:last], source.trans[first:last], source, fps)


@dataclass
class AmassConversionReport:
    """What a conversion wrote and what it skipped (path or row, reason)."""

    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)


def write_splits(out: Path, ids: list[str], splits_dir: Path | None, seed: int) -> dict[str, int]:
    """train/val/test.txt in `out`: from `splits_dir`'s lists, else a seeded 80/10/10 draw."""
    from vhdiff.data_prep.synthetic_motion import SPLIT_FRACTIONS

    chosen: dict[str, list[str]] = {}
    present = set(ids)
    if splits_dir is not None and all((splits_dir / f"{s}.txt").is_file() for s in SPLIT_FRACTIONS):
        for split in SPLIT_FRACTIONS:
            listed = (splits_dir / f"{split}.txt").read_text(encoding="utf-8").split()
            chosen[split] = [i for i in listed if i in present]
    else:
        # A mirrored copy (M + ID) goes to the split of its original.
        def group(clip_id: str) -> str:
            return clip_id[1:] if clip_id.startswith("M") and clip_id[1:] in present else clip_id

        groups = sorted({group(i) for i in ids})
        order = [str(g) for g in np.random.default_rng(seed).permutation(groups)]
        n_held = max(round(0.1 * len(order)), 1 if len(order) >= 3 else 0)
        split_of = {g: "val" for g in order[:n_held]}
        split_of.update({g: "test" for g in order[n_held : 2 * n_held]})
        chosen = {split: [] for split in SPLIT_FRACTIONS}
        for clip_id in ids:
            chosen[split_of.get(group(clip_id), "train")].append(clip_id)
    for split, members in chosen.items():
        write_text_atomic(out / f"{split}.txt", "".join(f"{i}\n" for i in members))
    return {split: len(members) for split, members in chosen.items()}


def convert_amass(
    amass_root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    fps: float = 20.0,
    index: str | os.PathLike | None = None,
    texts: str | os.PathLike | None = None,
    splits: str | os.PathLike | None = None,
    mirror: bool = False,
    seed: int = 0,
    force: bool = False,
) -> AmassConversionReport:
    """Convert AMASS files (all ``*.npz`` under ``amass_root``, or the rows of HumanML3D's
    ``index``) into ``out``: motions/, texts/ (copied from ``texts`` where it has the
    clip), split files (from ``splits`` if it holds train/val/test.txt, else a seeded
    80/10/10 draw) and feature_stats.npz (train split). Bad files are skipped and listed
    in the report; the rest is converted."""
    from vhdiff.motion.data import compute_feature_stats

    amass_root, out = Path(amass_root), Path(out)
    if not amass_root.is_dir():
        raise FileNotFoundError(f"AMASS folder not found: {str(amass_root)!r}")
    if (out / "motions").is_dir() and any((out / "motions").iterdir()) and not force:
        raise FileExistsError(f"{str(out)!r} already holds motions/; pass --force to overwrite it")
    report = AmassConversionReport()
    jobs: list[tuple[str, Path, IndexRow | None]] = []
    if index is not None:
        for row in read_index(index):
            if "humanact12" in row.source_path.lower():
                report.skipped.append((row.source_path, "HumanAct12 clip: not in AMASS"))
                continue
            jobs.append((row.clip_id, _amass_file(amass_root, row.source_path), row))
    else:
        for path in sorted(amass_root.rglob("*.npz")):
            clip_id = "__".join(path.relative_to(amass_root).with_suffix("").parts)
            jobs.append((clip_id, path, None))
    cache: dict[Path, AmassSource] = {}
    for clip_id, path, row in jobs:
        try:
            if path not in cache:
                cache.clear()  # index rows of one file are consecutive: keep just one file
                cache[path] = load_amass(path)
            source = cache[path]
            if row is None:
                motion = _motion(source.poses, source.trans, source, fps)
            else:
                motion = _segment(source, row, fps)
        except (ValueError, FileNotFoundError) as exc:
            where = str(path) if row is None else f"{row.source_path} -> {row.new_name}"
            report.skipped.append((where, str(exc)))
            continue
        motion.save(out / "motions" / f"{clip_id}.npz")
        report.written.append(clip_id)
        if mirror:
            mirror_motion(motion).save(out / "motions" / f"M{clip_id}.npz")
            report.written.append(f"M{clip_id}")
    if not report.written:
        first = report.skipped[0][1] if report.skipped else "no .npz files found"
        raise ValueError(f"nothing converted from {str(amass_root)!r}: {first}")
    if texts is not None:
        texts = Path(texts)
        for clip_id in report.written:
            if (texts / f"{clip_id}.txt").is_file():
                caption = (texts / f"{clip_id}.txt").read_text(encoding="utf-8")
                write_text_atomic(out / "texts" / f"{clip_id}.txt", caption)
    report.splits = write_splits(out, report.written, Path(splits) if splits else None, seed)
    compute_feature_stats(out, fps=fps).save(out / "feature_stats.npz")
    return report
