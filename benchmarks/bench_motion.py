"""Text-to-motion speed: one 6 s motion (120 frames at 20 fps) with the model's own settings.

Run: python benchmarks/bench_motion.py [--checkpoint DIR] [--runs 3] [--size 512]

Prints, for the bundled model (or --checkpoint; when the bundled weights are not installed
yet, a RANDOM model of the same config, configs/motion_synthetic.yaml, and it says so):

1. end to end: `vhdiff motion PROMPT --out walk.mp4` run in this process (cli.main) with the
   model's generation settings (pipeline.json), i.e.
   everything but the interpreter start and `import torch`: model and text-encoder
   loading, generation, posing the mannequin, rendering a SIZE x SIZE MP4, writing the
   .npz. Measured first, so the lazy imports (pyrender, tokenizers, ...) count. Split into
   load + generate and pose + render + write, the latter into posing, starting the
   renderer (importing pyrender and OpenGL) and drawing the frames while ffmpeg encodes;
2. generation alone, warm (text encoding + sampling + features -> SMPL): the model's settings
   against reference settings (DDIM 50 on the trailing grid, the motion default before
   issue 18, with guidance at every step and on t 500-999 only, and without guidance),
   --runs interleaved rounds (each round runs every setting once), medians, and each
   setting's median ratio to the model's;
3. the output clean-ups on that motion (smoothing, foot locking with and without leg IK),
   the median of 20 calls each;
4. peak resident memory of the process (resource.getrusage ru_maxrss) after step 1 and at
   the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np
import torch

from vhdiff.motion.pipeline import MotionPipeline, bundled_model_dir

PROMPT = "a person walks forward"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "motion_synthetic.yaml"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def random_model_dir(folder: Path) -> Path:
    """A pipeline folder with the bundled model's config and random weights."""
    from vhdiff.config import load_config
    from vhdiff.motion.representation.stats import FeatureStats
    from vhdiff.registry import build_model

    cfg = load_config(CONFIG)
    for module in cfg.imports:
        __import__(module)
    model = build_model(cfg.model.name, cfg.model.params)
    dim = int(cfg.model.params["input_dim"])
    import dataclasses

    pipe = MotionPipeline(
        model=model,
        diffusion=dataclasses.asdict(cfg.diffusion),
        stats=FeatureStats(mean=np.zeros(dim), std=np.full(dim, 0.2)),
        text_encoder={"name": cfg.data.params["text_encoder"], "params": {}},
        fps=float(cfg.data.params.get("fps", 20.0)),
    )
    return pipe.save_pretrained(folder / "random_motion_model", fp16=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="pipeline folder (default: bundled)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_motion_"))

    checkpoint = args.checkpoint
    if checkpoint is None and not (bundled_model_dir() / "pipeline.json").is_file():
        checkpoint = str(random_model_dir(work))
        model_note = (
            f"NOTE: the bundled weights are not in {bundled_model_dir()} yet: timing a RANDOM "
            f"model of the same config ({CONFIG.name}); speed is the same, motions are noise"
        )
    else:
        model_note = f"model: {checkpoint or bundled_model_dir()}"
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"PYOPENGL_PLATFORM={os.environ['PYOPENGL_PLATFORM']}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(model_note)

    from vhdiff.cli import main as cli
    from vhdiff.commands import motion as motion_command

    stages: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    # split the end-to-end time: model loading + generation, then posing + rendering + writing,
    # and within the latter: posing the body, starting the renderer (importing pyrender,
    # OpenGL), and the rest: drawing the frames while ffmpeg encodes them
    from vhdiff.viz import mesh_renderer

    from vhdiff.body import posing
    from vhdiff.motion.export import MotionExporter

    motion_command.generate = timed("load + generate", motion_command.generate)
    MotionExporter.export = timed(
        "pose + render + write", MotionExporter.export
    )
    posing.pose_motion = timed("pose", posing.pose_motion)
    mesh_renderer.MeshRenderer.__init__ = timed(
        "renderer start", mesh_renderer.MeshRenderer.__init__
    )

    out = work / "walk.mp4"
    argv = ["motion", PROMPT, "--out", str(out), "--size", str(args.size), "--seed", "0"]
    argv += ["--length", f"{args.seconds:g}"] + (["--checkpoint", checkpoint] if checkpoint else [])
    start = time.perf_counter()
    status = cli(argv)
    end_to_end = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"vhdiff motion failed with status {status}")
    after_cli = peak_mb()
    print(
        f"end to end `vhdiff motion` ({args.seconds:g} s, the model's settings, "
        f"{args.size}x{args.size} MP4, mannequin): {end_to_end:.2f} s; "
        f"peak memory so far {after_cli:.0f} MB"
    )
    outer = ("load + generate", "pose + render + write")
    print("  of which " + ", ".join(f"{name} {stages[name]:.2f} s" for name in outer))
    inner = {name: seconds for name, seconds in stages.items() if name not in outer}
    rest = stages["pose + render + write"] - sum(inner.values())
    print(
        "  pose + render + write: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in inner.items())
        + f", drawing the frames + encoding + .npz {rest:.2f} s"
    )

    pipe = MotionPipeline.from_pretrained(checkpoint)
    frames = pipe.frames_for(args.seconds)
    pipe([PROMPT], seconds=args.seconds, steps=2, seed=0)  # warm-up
    g = pipe.generation
    ddim = {"sampler": "ddim", "steps": 50, "timestep_spacing": "trailing"}
    rows = {
        f"the model's settings ({g.sampler} {g.resolved_steps}, {g.resolved_spacing}, guidance "
        f"{g.guidance:g}" + (f" on t {g.guidance_interval[0]}-{g.guidance_interval[1]})" if g.guidance_interval else ")"): {},
        "DDIM 50, guidance 2.5 at every step": {**ddim, "guidance": 2.5, "guidance_interval": "all"},
        "DDIM 50, guidance 2.5 on t 500-999": {**ddim, "guidance": 2.5, "guidance_interval": (500, 999)},
        "DDIM 50, no guidance (1.0)": {**ddim, "guidance": 1.0},
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    for run in range(args.runs):  # interleaved: every setting once per round
        for name, settings in rows.items():
            start = time.perf_counter()
            motion = pipe([PROMPT], seconds=args.seconds, seed=run, **settings)[0]
            times[name].append(time.perf_counter() - start)
            assert motion.smpl.num_frames == frames
    base = times[next(iter(rows))]
    for name, ts in times.items():
        ratio = statistics.median(t / b for t, b in zip(ts, base))
        print(
            f"generation, {frames} frames, {name}: median {statistics.median(ts):.2f} s "
            f"(min {min(ts):.2f} s, {args.runs} interleaved runs; x{ratio:.2f} the model's settings)"
        )
    motion = pipe([PROMPT], seconds=args.seconds, seed=0)[0]
    from vhdiff.motion.postprocess.foot_lock import lock_feet
    from vhdiff.motion.postprocess.smoothing import smooth_features

    features = motion.features.astype(np.float64)
    cleanups = {
        "smoothing 0.7": lambda: smooth_features(features, sigma=0.7),
        "foot lock, root only": lambda: lock_feet(features, fps=pipe.fps, legs=False),
        "foot lock, root + leg IK (the default)": lambda: lock_feet(features, fps=pipe.fps),
    }
    for label, fn in cleanups.items():
        times = []
        for _ in range(20):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"clean-up of one {frames}-frame motion, {label}: median {statistics.median(times) * 1e3:.2f} ms")
    print(f"peak memory (ru_maxrss, whole process): {peak_mb():.0f} MB")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end (1, 5, 15 min): {load} (other processes slow the figures)")


if __name__ == "__main__":
    main()
