"""Varied takes: how different are the bundled model's takes of one caption, against the
clips of the built-in set that the caption describes?

    python benchmarks/motion_takes.py [--captions 16] [--takes 10] [--clips 4000]

The built-in set is made fresh (`write_synthetic_set`, seed 0, the bundled model's data).
A caption's ground-truth clips are the clips with the same segments (families and their
parameters; only start heading and body shape vary): test-split captions whose group
has at least 3 clips are used. Spread of a set of motions = the mean over its pairs of the
mean per-joint distance (22 joints, frames up to the shorter one) after putting each motion
in its own start frame (root at the origin, facing +Z at frame 0), in millimetres. Each
generation setting gives --takes takes of each caption (`num_per_prompt`, one seed) at
its ground-truth clip's length; the table prints the median over captions of each
setting's spread and its ratio to the ground truth's (issue 21's target: >= 70 %).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from vhdiff.data_prep.synthetic_motion import write_synthetic_set

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.representation.smpl import joints_from_motion, root_heading

FPS = 20.0
# generation settings compared (MotionGeneration fields; {} = the bundled defaults)
SETTINGS: dict[str, dict] = {
    "defaults (DPM++ 10, guidance 2.5, snap 0.5)": {},
    "no guidance": {"guidance": 1.0},
    "no snapping": {"snap": 0.0},
    "no guidance, no snapping": {"guidance": 1.0, "snap": 0.0},
    "DDIM 50, eta 1 (stochastic)": {"sampler": "ddim", "steps": 50, "eta": 1.0},
}


def start_frame_joints(motion: SMPLMotion) -> np.ndarray:
    """Joints [T, 22, 3] with the root at the origin and facing +Z at frame 0."""
    joints = joints_from_motion(motion)
    psi = root_heading(motion)[0]
    c, s = np.cos(-psi), np.sin(-psi)
    yaw = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    origin = joints[0, 0] * np.array([1.0, 0.0, 1.0])
    return (joints - origin) @ yaw.T


def spread_mm(motions: list[np.ndarray]) -> float:
    """Mean over pairs of the mean per-joint distance (mm), frames up to the shorter one."""
    dists = []
    for a, b in itertools.combinations(motions, 2):
        n = min(len(a), len(b))
        dists.append(np.linalg.norm(a[:n] - b[:n], axis=-1).mean())
    return 1000.0 * float(np.mean(dists))


def caption_groups(set_dir: Path, num: int, min_clips: int = 3) -> list[tuple[str, list[str]]]:
    """(caption, ids of its ground-truth clips) for up to `num` test clips of distinct groups."""
    clips = [json.loads(line) for line in (set_dir / "clips.jsonl").read_text().splitlines()]
    groups: dict[str, list[str]] = defaultdict(list)
    for clip in clips:
        groups[json.dumps(clip["segments"], sort_keys=True)].append(clip["id"])
    chosen, seen = [], set()
    for clip in clips:
        key = json.dumps(clip["segments"], sort_keys=True)
        if clip["split"] == "test" and len(groups[key]) >= min_clips and key not in seen:
            seen.add(key)
            chosen.append((clip["captions"][0], groups[key][:10]))
    return chosen[:num]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captions", type=int, default=16)
    parser.add_argument("--takes", type=int, default=10)
    parser.add_argument("--clips", type=int, default=4000, help="built-in clips (default 4000)")
    args = parser.parse_args()
    from vhdiff.motion.pipeline import MotionPipeline

    pipe = MotionPipeline.from_pretrained()
    with tempfile.TemporaryDirectory() as temp:
        set_dir = Path(temp) / "set"
        write_synthetic_set(set_dir, clips=args.clips, seed=0, fps=FPS)
        groups = caption_groups(set_dir, args.captions)
        truth = [[SMPLMotion.load(set_dir / "motions" / f"{i}.npz") for i in ids] for _, ids in groups]
    gt = [spread_mm([start_frame_joints(m) for m in clips]) for clips in truth]
    print(f"{len(groups)} test captions, {np.mean([len(c) for c in truth]):.1f} ground-truth clips each, "
          f"{args.takes} takes per caption")
    floor = float(np.median(gt))
    print("| setting | spread of takes (mm, median over captions) | ratio to the ground truth's |")
    print("|---|---|---|")
    print(f"| ground truth: the caption's clips | {floor:.1f} | 100% |")
    for name, settings in SETTINGS.items():
        spreads = []
        for (caption, _), clips in zip(groups, truth, strict=True):
            seconds = min(clips[0].num_frames, pipe.max_frames) / FPS
            takes = pipe([caption], seconds=seconds, num_per_prompt=args.takes, seed=0, **settings)
            spreads.append(spread_mm([start_frame_joints(t.smpl) for t in takes]))
        ratio = f"{np.median(spreads) / floor:.0%}" if floor > 0.5 else "- (no ground-truth spread)"
        print(f"| {name} | {np.median(spreads):.1f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
