"""`vhdiff prep synthetic-motion OUT`: a labelled text-motion set from a procedural vocabulary.

Writes, in the layout :mod:`vhdiff.motion.data` reads::

    OUT/motions/ID.npz       SMPLMotion at --fps (20), neutral-skeleton kinematics
    OUT/texts/ID.txt         3 captions (paraphrases stating the clip's parameters)
    OUT/train.txt val.txt test.txt    80 / 10 / 10 % of the IDs
    OUT/feature_stats.npz    FeatureStats of the train split (140-dim features)
    OUT/clips.jsonl          one JSON line per clip: id, split, segments with parameters,
                             start heading, betas, frames (what the captions state)
    OUT/dataset.json         counts, fps, seed, the families and the held-out templates

The motions come from :mod:`vhdiff.data_prep.motion_vocab`: 14 action families with
parameters (speed, direction, side, repetitions, amplitude, duration), 30% of the clips a
sequence of two ("walks forward, then turns left"), random body shapes (betas). Feet stay
planted while in contact and the lowest joint touches the ground (y = 0) at every frame
(see ``motion_vocab.track``). Test captions include one written with HELD-OUT templates
(``motion_vocab.captions.HELD_OUT_TEMPLATES``) never used for train / val.

Kinematics use the neutral SMPL skeleton (``SMPL_NEUTRAL_REST_JOINTS``, like
``vhdiff.motion.joints_from_motion``); a body with other betas driven by these
parameters has slightly different bone lengths, so its feet can slide or float by a few
centimetres.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from vhdiff.data_prep.motion_vocab.actions import FAMILIES
from vhdiff.data_prep.motion_vocab.captions import HELD_OUT_TEMPLATES, clip_captions
from vhdiff.data_prep.motion_vocab.clips import make_motion, sample_clip

from vhdiff.atomic_io import atomic_path, write_text_atomic
from vhdiff.motion.representation.smpl import to_features
from vhdiff.motion.representation.stats import FeatureStats

__all__ = ["SyntheticSetReport", "write_synthetic_set"]

SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
CAPTIONS_PER_CLIP = 3
MAX_CLIPS = 1_000_000


def _splits(count: int, rng: np.random.Generator) -> list[str]:
    """A split name per clip: shuffled, with at least one clip in each split when count >= 3."""
    sizes = {name: round(fraction * count) for name, fraction in SPLIT_FRACTIONS.items()}
    if count >= 3:
        sizes["val"] = max(sizes["val"], 1)
        sizes["test"] = max(sizes["test"], 1)
    sizes["train"] = count - sizes["val"] - sizes["test"]
    names = ["train"] * sizes["train"] + ["val"] * sizes["val"] + ["test"] * sizes["test"]
    return [str(n) for n in rng.permutation(names)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class SyntheticSetReport(dict):
    """Summary of a written set: clips, frames, seconds (generation time), per split counts."""


def write_synthetic_set(
    out: str | os.PathLike,
    *,
    clips: int = 4000,
    seed: int = 0,
    fps: float = 20.0,
    force: bool = False,
    progress: bool = False,
) -> SyntheticSetReport:
    """Generate and write the set (module docstring); returns a summary dict."""
    if not 3 <= clips <= MAX_CLIPS:  # at least one per split; each train clip's features are held
        raise ValueError(f"--clips (data.params.clips) must be between 3 and {MAX_CLIPS}, got {clips}")
    out = Path(out)
    if (out / "motions").is_dir() and any((out / "motions").iterdir()) and not force:
        raise FileExistsError(
            f"{str(out)!r} already holds motions/; choose another folder or pass --force to "
            "overwrite it"
        )
    rng = np.random.default_rng(seed)
    splits = _splits(clips, rng)
    ids = {name: [] for name in SPLIT_FRACTIONS}
    train_features = []
    frames = 0
    start = time.perf_counter()
    clips_file = out / "clips.jsonl"
    with atomic_path(clips_file) as temp, open(temp, "w", encoding="utf-8") as meta:
        for index, split in enumerate(splits):
            clip_id = f"{index:06d}"
            spec = sample_clip(rng, fps=fps)
            motion = make_motion(spec, fps=fps)
            captions = clip_captions(
                spec.segments, rng, count=CAPTIONS_PER_CLIP, held_out=split == "test"
            )
            motion.save(out / "motions" / f"{clip_id}.npz")
            write_text_atomic(out / "texts" / f"{clip_id}.txt", "\n".join(captions) + "\n")
            if split == "train":
                train_features.append(to_features(motion))
            ids[split].append(clip_id)
            frames += motion.num_frames
            record = {
                "id": clip_id,
                "split": split,
                "frames": motion.num_frames,
                "start_heading": spec.start_heading,
                "betas": [round(float(b), 4) for b in spec.betas],
                "segments": [{k: _jsonable(v) for k, v in s.items()} for s in spec.segments],
                "captions": captions,
            }
            meta.write(json.dumps(record) + "\n")
            if progress and (index + 1) % 500 == 0:
                print(f"  {index + 1}/{clips} clips", file=sys.stderr)
    elapsed = time.perf_counter() - start
    for name, members in ids.items():
        write_text_atomic(out / f"{name}.txt", "".join(f"{i}\n" for i in members))
    FeatureStats.from_features(train_features).save(out / "feature_stats.npz")
    report = SyntheticSetReport(
        clips=clips,
        frames=frames,
        fps=fps,
        seed=seed,
        seconds=round(elapsed, 3),
        clips_per_second=round(clips / elapsed, 1),
        splits={name: len(members) for name, members in ids.items()},
        families=list(FAMILIES),
        held_out_templates=HELD_OUT_TEMPLATES,
    )
    write_text_atomic(out / "dataset.json", json.dumps(report, indent=2) + "\n")
    return report

