"""Image speed: sampling, one SDEdit edit, and training steps, for both image configs.

Run: python benchmarks/bench_image.py [--checkpoint DIR] [--runs 3] [--num 16] [--train-steps 5]

Prints:

1. cold, model load included (a fresh subprocess each: imports, load, first call):
   --num images with the default sampler, and one SDEdit edit at strength 0.5, for
   - the bundled 32x32 model (or --checkpoint), and
   - the architecture of configs/image_humans.yaml at 64x64 (random weights, saved as an
     fp16 pipeline folder first: the time depends on the architecture, not the weights);
2. warm sampling, --runs interleaved rounds, medians: the default settings against DDIM 50
   (the reference), with the ratio; and one SDEdit edit with the model loaded;
3. training steps/s of both configs' model + diffusion (their own batch size, hybrid loss,
   AdamW), median of --train-steps steps after one warm-up;
4. the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from vhdiff.config import load_config
from vhdiff.diffusion import GaussianDiffusion
from vhdiff.image.pipeline import ImagePipeline
from vhdiff.registry import build_model

CONFIGS = ("configs/image_humans_32.yaml", "configs/image_humans.yaml")
REFERENCE = {"sampler": "ddim", "steps": 50}


def _child(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def _config_pipeline(config_path: str, out: Path) -> Path:
    """A random-weight fp16 pipeline folder of a config's architecture (text-conditional)."""
    cfg = load_config(config_path)
    import dataclasses

    model = build_model(cfg.model.name, cfg.model.params)
    pipe = ImagePipeline(model=model, diffusion=GaussianDiffusion.from_dict(dataclasses.asdict(cfg.diffusion)),
                         condition="text", text_encoder={"name": "minilm", "params": {}})
    return pipe.save_pretrained(out, fp16=True)


def _cold(folder: str | None, num: int, picture: str) -> tuple[float, float]:
    load = f"from vhdiff.image.pipeline import ImagePipeline; p = ImagePipeline.from_pretrained({folder!r}); "
    sample = _child(load + f"p({num}, prompt='a person squatting', seed=0)")
    edit = _child(load + f"p.edit({picture!r}, prompt='a person raising both arms', strength=0.5, seed=0)")
    return sample, edit


def _train_rate(config_path: str, steps: int) -> tuple[float, int, float]:
    """(steps/s, batch size, parameters in M) of a config's model + diffusion."""
    import dataclasses

    cfg = load_config(config_path)
    model = build_model(cfg.model.name, cfg.model.params).train()
    diffusion = GaussianDiffusion.from_dict(dataclasses.asdict(cfg.diffusion))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    b, size = cfg.trainer.batch_size, cfg.model.params["image_size"]
    cond = {"text_emb": torch.randn(b, 384), "text_tokens": torch.randn(b, 24, 384),
            "text_mask": torch.ones(b, 24, dtype=torch.bool)}
    times = []
    for i in range(steps + 1):
        x0 = torch.rand(b, 3, size, size) * 2 - 1
        start = time.perf_counter()
        loss = diffusion.training_losses(model, x0, t=torch.randint(0, diffusion.num_timesteps, (b,)), **cond).loss.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    return 1.0 / statistics.median(times), b, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="pipeline folder (default: bundled)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--train-steps", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        folders = {"bundled 32x32" if args.checkpoint is None else args.checkpoint: args.checkpoint,
                   "image_humans.yaml 64x64 (random weights)": str(_config_pipeline(CONFIGS[1], Path(tmp) / "p64"))}
        print(f"1. cold (fresh process, model load included), {args.num} images / one SDEdit edit at 0.5:")
        for name, folder in folders.items():
            pipe = ImagePipeline.from_pretrained(folder)
            side = pipe.image_size
            picture = Path(tmp) / f"in_{side}.png"
            from PIL import Image

            Image.fromarray(np.random.default_rng(0).integers(0, 256, (side, side, 3)).astype(np.uint8)).save(picture)
            sample, edit = _cold(folder, args.num, str(picture))
            g = pipe.generation
            print(f"   {name:<42} {sample:6.2f} s / edit {edit:5.2f} s  ({g.sampler} {g.resolved_steps} steps, "
                  f"guidance {g.guidance}, {sum(p.numel() for p in pipe.model.parameters()) / 1e6:.2f}M parameters)")
    pipe = ImagePipeline.from_pretrained(args.checkpoint)
    prompt = "a person squatting" if pipe.condition == "text" else None
    pipe(2, prompt=prompt, seed=0)  # warm-up
    times: dict[str, list[float]] = {"model": [], "ddim 50": []}
    for _ in range(args.runs):
        for name, overrides in (("model", {}), ("ddim 50", REFERENCE)):
            start = time.perf_counter()
            pipe(args.num, prompt=prompt, seed=0, **overrides)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["model"])
    print(f"2. warm sampling of {args.num} images, median of {args.runs} interleaved rounds:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"   {name:<10} {median:6.2f} s  ({median / base:.2f}x the model's settings)")
    source = pipe(1, prompt=prompt, seed=1).images[0]
    edits = []
    for _ in range(args.runs):
        start = time.perf_counter()
        pipe.edit(source, prompt=prompt, strength=0.5, seed=0)
        edits.append(time.perf_counter() - start)
    print(f"   one SDEdit edit at 0.5, model loaded: {statistics.median(edits):.2f} s")
    print(f"3. training (model + diffusion + AdamW, median of {args.train_steps} steps):")
    for config in CONFIGS:
        rate, batch, params = _train_rate(config, args.train_steps)
        print(f"   {config:<32} {rate:5.2f} steps/s at batch {batch} ({rate * batch:6.1f} images/s, {params:.1f}M parameters)")


if __name__ == "__main__":
    main()
