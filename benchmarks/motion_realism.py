"""Realism reference: kinematic distributions of the built-in motion set vs real mocap.

Run: python benchmarks/motion_realism.py [--clips 400] [--bvh /usr/share/assimp/models/BVH]

The real clips are Debian's assimp-testmodels BVH files (CMU subject 1: 01_01, 01_03; and
Boxing_Toes), imported like `vhdiff prep bvh-motion` does (20 fps, on the floor). The
built-in set is made fresh (`write_synthetic_set`, seed 0). Prints a markdown table of
percentiles (vhdiff.motion.metrics.kinematics) per quantity and set.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=400, help="built-in clips (default 400)")
    parser.add_argument("--bvh", default="/usr/share/assimp/models/BVH", help="folder of the clips")
    args = parser.parse_args()
    folder = Path(args.bvh)
    rows: dict[str, KinematicDistributions] = {}
    with tempfile.TemporaryDirectory() as temp:
        write_synthetic_set(Path(temp) / "set", clips=args.clips, seed=0, fps=FPS)
        paths = sorted((Path(temp) / "set" / "motions").glob("*.npz"))
        built_in = [joints_from_motion(SMPLMotion.load(p)) for p in paths]
    rows["built-in set"] = kinematic_distributions(built_in, fps=FPS)
    for label, names in (("CMU mocap", CMU), ("boxing mocap", BOXING)):
        clips = [joints_from_motion(bvh_clip(folder / f"{n}.bvh", fps=FPS).motion) for n in names]
        rows[label] = kinematic_distributions(clips, fps=FPS)
    print(table(rows))


if __name__ == "__main__":
    main()
