"""Realism reference: kinematic distributions of the built-in motion set vs real mocap.

Run: python benchmarks/motion_realism.py [--clips 400] [--generated 128] [--plot PNG]
                                          [--bvh /usr/share/assimp/models/BVH]

The real clips are Debian's assimp-testmodels BVH files (CMU subject 1: 01_01, 01_03; and
Boxing_Toes), imported like `vhdiff prep bvh-motion` does (20 fps, on the floor). The
built-in set is made fresh (`write_synthetic_set`, seed 0). Generated motion: the bundled
model at its default settings (what `vhdiff motion` gives) on the test split's captions (at
most --generated), each at its clip's length, seed 0. Prints a markdown table of
percentiles (vhdiff.motion.metrics.kinematics) per quantity and set; --plot also draws the
distributions (cumulative, one panel per quantity).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from vhdiff.data_prep.bvh_motion import bvh_clip
from vhdiff.data_prep.synthetic_motion import write_synthetic_set

from vhdiff.body.smpl_motion import SMPLMotion
from vhdiff.motion.metrics.kinematics import (
    PERCENTILES,
    QUANTITIES,
    KinematicDistributions,
    kinematic_distributions,
)
from vhdiff.motion.representation.smpl import joints_from_motion

FPS = 20.0
CMU = ("01_01", "01_03")
BOXING = ("Boxing_Toes",)


def table(rows: dict[str, KinematicDistributions]) -> str:
    head = " | ".join(f"p{p}" for p in PERCENTILES)
    lines = [
        f"| quantity | set (clips, frames) | {head} |",
        "|---|---|" + "---|" * len(PERCENTILES),
    ]
    for name, unit in QUANTITIES.items():
        for label, dist in rows.items():
            cells = " | ".join(f"{v:.3g}" for v in dist.percentiles()[name].values())
            lines.append(f"| {name} ({unit}) | {label} ({dist.clips}, {dist.frames}) | {cells} |")
    return "\n".join(lines)


def generated_clips(set_dir: Path, num: int, *, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Joints [T, J, 3] of the bundled model's motions for the set's first `num` test captions,
    and of those captions' own clips (the ground truth they describe)."""
    from vhdiff.motion.pipeline import MotionPipeline

    pipe = MotionPipeline.from_pretrained()
    ids = (set_dir / "test.txt").read_text().split()[:num]
    prompts = [(set_dir / "texts" / f"{i}.txt").read_text().splitlines()[0] for i in ids]
    truth = [SMPLMotion.load(set_dir / "motions" / f"{i}.npz") for i in ids]
    seconds = [min(m.num_frames, pipe.max_frames) / FPS for m in truth]
    motions = pipe(prompts, seconds=seconds, seed=seed)
    return [joints_from_motion(m.smpl) for m in motions], [joints_from_motion(m) for m in truth]


# the plot's x range per quantity (log axis); values outside, exact zeros included, sit at its ends
PLOT_RANGE = {"joint_speed": (0.01, 5.0), "jerk": (1.0, 3000.0), "foot_clearance": (1e-4, 0.4),
              "root_speed": (1e-3, 3.0)}


def plot(rows: dict[str, KinematicDistributions], path: Path) -> None:
    """One panel per quantity: each set's cumulative share of frames against the value (log x,
    PLOT_RANGE): a curve far left of the mocap's means frames that barely move."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4 * len(QUANTITIES), 3.2))
    for ax, (name, unit) in zip(axes, QUANTITIES.items(), strict=True):
        lo, hi = PLOT_RANGE[name]
        for label, dist in rows.items():
            values = np.sort(np.clip(dist.values[name], lo, hi))
            ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=label)
        ax.set(xscale="log", xlim=(lo, hi), ylim=(0, 1), xlabel=f"{name.replace('_', ' ')} ({unit})")
    axes[0].set_ylabel("share of frames at or below")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=400, help="built-in clips (default 400)")
    parser.add_argument("--generated", type=int, default=128, help="generated clips (0 = none)")
    parser.add_argument("--plot", type=Path, help="also draw the distributions into this PNG")
    parser.add_argument("--bvh", default="/usr/share/assimp/models/BVH", help="folder of the clips")
    args = parser.parse_args()
    folder = Path(args.bvh)
    rows: dict[str, KinematicDistributions] = {}
    with tempfile.TemporaryDirectory() as temp:
        write_synthetic_set(Path(temp) / "set", clips=args.clips, seed=0, fps=FPS)
        paths = sorted((Path(temp) / "set" / "motions").glob("*.npz"))
        built_in = [joints_from_motion(SMPLMotion.load(p)) for p in paths]
        rows["built-in set"] = kinematic_distributions(built_in, fps=FPS)
        if args.generated:
            generated, truth = generated_clips(Path(temp) / "set", args.generated)
            rows["built-in test clips"] = kinematic_distributions(truth, fps=FPS)
            rows["generated for their captions"] = kinematic_distributions(generated, fps=FPS)
    for label, names in (("CMU mocap", CMU), ("boxing mocap", BOXING)):
        clips = [joints_from_motion(bvh_clip(folder / f"{n}.bvh", fps=FPS).motion) for n in names]
        rows[label] = kinematic_distributions(clips, fps=FPS)
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
