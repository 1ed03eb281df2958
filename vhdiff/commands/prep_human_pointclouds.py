"""`vhdiff prep human-pointclouds OUT`: human point clouds (vhdiff.data_prep.human_pointclouds).

    vhdiff prep human-pointclouds OUT [--num N] [--points 2048] [--seed S] [--motion DIR]
                                      [--body mannequin|smpl [--smpl-dir DIR]] [--force]
    vhdiff prep human-pointclouds OUT --from MESHES/ [--points 2048] [--seed S] [--force]
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="output folder (new or empty; an earlier set with --force)")
    parser.add_argument("--num", type=int, default=4000, help="clouds to sample from posed bodies (default 4000)")
    parser.add_argument("--points", type=int, default=2048, help="points per cloud (default 2048)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--motion", default=None, metavar="DIR",
                        help="pose the bodies from this motion set (vhdiff layout; default: the built-in vocabulary)")
    parser.add_argument("--body", choices=("mannequin", "smpl"), default="mannequin",
                        help="the body: the licence-free mannequin (default) or your SMPL files")
    parser.add_argument("--smpl-dir", default=None, help="SMPL model file or folder (default $VHDIFF_SMPL_DIR)")
    parser.add_argument("--from", dest="source", default=None, metavar="DIR",
                        help="instead: every mesh (.obj .ply .off .stl .glb) / point file (.npy .xyz .ply) under DIR")
    parser.add_argument("--force", action="store_true", help="replace OUT if it is an earlier point-cloud set")


def run(args: argparse.Namespace) -> int:
    from vhdiff.commands.options import check_range, check_seed
    from vhdiff.data_prep.human_pointclouds import MAX_CLOUDS, MAX_POINTS

    check_range("--points", args.points, 1, MAX_POINTS, unit="points per cloud")
    check_seed("--seed", args.seed)
    if args.source is not None:
        if args.motion is not None:
            raise ValueError("--from reads meshes or point files; --motion poses bodies: give one of them")
        from vhdiff.data_prep.human_pointclouds import write_pointcloud_folder

        report = write_pointcloud_folder(args.out, source=args.source, points=args.points, seed=args.seed, force=args.force)
    else:
        check_range("--num", args.num, 3, MAX_CLOUDS, unit="clouds")
        from vhdiff.data_prep.human_pointclouds import write_human_pointclouds

        report = write_human_pointclouds(
            args.out, num=args.num, points=args.points, seed=args.seed, motion=args.motion, body=args.body,
            smpl_path=args.smpl_dir, force=args.force, progress=True,
        )
    splits = ", ".join(f"{k} {v}" for k, v in report.splits.items())
    skipped = ", ".join(f"{v} {k}" for k, v in report.skipped.items())
    print(
        f"wrote {report.clouds} clouds of {report.points} points ({splits}) from {report.source} "
        f"to {report.out} in {report.seconds:.1f} s" + (f"; skipped {skipped}" if skipped else "")
    )
    return 0
