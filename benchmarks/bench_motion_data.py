"""Motion data path: procedural clips per second, feature/FK speed, dataset loading, and
the physical quality of the generated set (foot skating, ground contact, round trip).

Run: python benchmarks/bench_motion_data.py [--clips 400] [--body]
Prints one line per figure. Clips/s counts everything `vhdiff prep synthetic-motion`
does per clip (sample, build, place, captions, save .npz + .txt, train features).
With --body, also drives the default body model (mannequin) with non-zero betas and
measures how much its feet slide (the generator plans on the neutral skeleton).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from vhdiff.data_prep.synthetic_motion import write_synthetic_set

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.data import MotionTextDataset, collate_motion
from vhdiff.motion.representation.smpl import (
    from_features,
    joints_from_features,
    joints_from_motion,
    root_heading,
    to_features,
)

GAITS = ("walk", "run", "turn")


def skating(joints: np.ndarray, fps: float) -> tuple[float, float]:
    """(fraction of transitions where a foot joint 10/11 below 5 cm at both frames moves
    faster than 0.5 m/s horizontally, mean horizontal speed of such low feet in m/s)."""
    feet = joints[:, [10, 11]]
    low = (feet[1:, :, 1] < 0.05) & (feet[:-1, :, 1] < 0.05)
    speed = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1) * fps
    return float((low & (speed > 0.5)).any(axis=1).mean()), float(speed[low].mean())


def best_of(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--body", action="store_true", help="measure a betas != 0 mannequin too")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "set"
        report = write_synthetic_set(root, clips=args.clips, seed=0)
        minutes = report["frames"] / report["fps"] / 60
        print(
            f"generate: {report['clips']} clips ({minutes:.1f} min of motion) in "
            f"{report['seconds']:.2f} s = {report['clips_per_second']:.1f} clips/s"
        )
        records = [json.loads(line) for line in (root / "clips.jsonl").read_text().splitlines()]
        ratios = {"gait": [], "other": []}
        speeds, lowest, contact_gap, round_trip = [], [], [], []
        for record in records:
            motion = SMPLMotion.load(root / "motions" / f"{record['id']}.npz")
            joints = joints_from_motion(motion)
            kind = "gait" if all(s["family"] in GAITS for s in record["segments"]) else "other"
            ratio, speed = skating(joints, motion.fps)
            ratios[kind].append(ratio)
            speeds.append(speed)
            heights = joints[..., 1].min(axis=1)
            lowest.append(heights.min())
            if not any(s["family"] == "jump" for s in record["segments"]):
                contact_gap.append(heights.max())
            back = joints_from_features(
                to_features(motion), fps=motion.fps, start_heading=root_heading(motion)[0],
                start_xz=(motion.transl[0, 0], motion.transl[0, 2]),
            )  # fmt: skip
            round_trip.append(np.abs(back - joints).max())
        print(
            f"skating ratio (GMD-style, 5 cm / 0.5 m/s): gaits {np.mean(ratios['gait']):.4f} "
            f"(max {np.max(ratios['gait']):.4f}, {len(ratios['gait'])} clips), other "
            f"{np.mean(ratios['other']):.4f} (max {np.max(ratios['other']):.4f})"
        )
        print(f"mean horizontal speed of feet below 5 cm: {np.mean(speeds) * 100:.2f} cm/s")
        print(
            f"lowest joint: min {min(lowest) * 1000:.3f} mm (penetration), highest lowest joint "
            f"of a non-jump frame {max(contact_gap) * 1000:.3f} mm (always touching)"
        )
        print(f"features -> joints round trip: max error {max(round_trip) * 1000:.4f} mm")

        motion = SMPLMotion.load(root / "motions" / f"{records[0]['id']}.npz")
        feats = to_features(motion)
        print(
            f"to_features {best_of(lambda: to_features(motion)) * 1e3:.2f} ms, from_features "
            f"{best_of(lambda: from_features(feats)) * 1e3:.2f} ms, joints_from_motion "
            f"{best_of(lambda: joints_from_motion(motion)) * 1e3:.2f} ms per {motion.num_frames}-frame clip"
        )
        start = time.perf_counter()
        data = MotionTextDataset(root, "train")
        load = time.perf_counter() - start
        print(f"MotionTextDataset(train): {len(data)} clips loaded + cached in {load:.2f} s")
        loader = torch.utils.data.DataLoader(
            data, batch_size=64, shuffle=True, collate_fn=collate_motion
        )
        start = time.perf_counter()
        batches = sum(1 for _ in loader)
        print(
            f"one epoch of batches of 64 (crop + collate): {batches} batches in {time.perf_counter() - start:.3f} s"
        )

        if args.body:
            from vhdiff.body import load_body_model

            model = load_body_model()
            walk = next(r for r in records if [s["family"] for s in r["segments"]] == ["walk"])
            motion = SMPLMotion.load(root / "motions" / f"{walk['id']}.npz")
            for betas in (np.zeros(10), motion.betas, np.r_[2.0, np.zeros(9)]):
                params = motion.to_torch()
                params["betas"] = torch.as_tensor(
                    np.tile(betas, (motion.num_frames, 1)), dtype=torch.float32
                )
                with torch.no_grad():
                    joints = model(**params).joints[:, :22].numpy()
                joints[..., 1] -= joints[..., 1].min()
                ratio, speed = skating(joints, motion.fps)
                print(
                    f"{model.kind} body, betas[0:2] = {np.round(betas[:2], 2)}: skating ratio "
                    f"{ratio:.3f}, low-foot speed {speed * 100:.1f} cm/s, lowest joint over clip "
                    f"{joints[..., 1].min(axis=1).max() * 100:.1f} cm max above ground"
                )


if __name__ == "__main__":
    main()
