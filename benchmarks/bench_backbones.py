"""Throughput of the three default-size backbones, and of diffusers' UNet2DModel of the same
layout, measured in one run.

Run: python benchmarks/bench_backbones.py [--quick] [--repeats N] [--threads N] [--device D]
     [--only unet|motion|points]

Sizes (issue 3): UNet 32x32 images batch 32; MotionTransformer 196 frames batch 32;
PointNetDenoiser 2048 points batch 32. "forward" is inference (eval mode, no_grad);
"fwd+bwd" is a training step without the optimizer (train mode, dropout on). Each figure is
the best of `repeats` timed calls after one warm-up; ours and diffusers' are timed
alternately, so a busy machine slows both alike. The ratio is our time / their time
(< 1 = ours faster).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from vhdiff.backbones import MotionTransformer, PointNetDenoiser, UNet


@dataclass
class Job:
    name: str
    model: nn.Module
    call: Callable[[nn.Module], torch.Tensor]
    batch: int


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _forward(job: Job, device: torch.device) -> float:
    job.model.eval()
    with torch.no_grad():
        start = time.perf_counter()
        job.call(job.model)
        _sync(device)
    return time.perf_counter() - start


def _train_step(job: Job, device: torch.device) -> float:
    job.model.train()
    job.model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    job.call(job.model).square().mean().backward()
    _sync(device)
    return time.perf_counter() - start


def _bench(jobs: list[Job], repeats: int, device: torch.device) -> dict[str, tuple[float, float]]:
    """Best seconds (forward, fwd+bwd) per job, the jobs interleaved call by call."""
    best = {j.name: [float("inf"), float("inf")] for j in jobs}
    for j in jobs:  # warm-up
        _forward(j, device)
        _train_step(j, device)
    for _ in range(repeats):
        for j in jobs:
            best[j.name][0] = min(best[j.name][0], _forward(j, device))
        for j in jobs:
            best[j.name][1] = min(best[j.name][1], _train_step(j, device))
    return {k: (v[0], v[1]) for k, v in best.items()}


def _diffusers_unet(ours: UNet) -> nn.Module | None:
    """diffusers' UNet2DModel with our default UNet's layout (adaptive-norm ResBlocks, 4 heads
    of 64 channels, attention at 16x16 and in the middle), or None without diffusers."""
    try:
        from diffusers import UNet2DModel
    except ImportError:
        return None
    cfg = ours.config
    widths = tuple(cfg["base_channels"] * m for m in cfg["channel_mults"])
    attn = {16: "Attn"}  # level sizes for a 32x32 input: 32, 16, 8, 4
    sizes = [cfg["image_size"] // 2**i for i in range(len(widths))]
    down = tuple(f"{attn.get(s, '')}DownBlock2D" for s in sizes)
    up = tuple(f"{attn.get(s, '')}UpBlock2D" for s in reversed(sizes))
    return UNet2DModel(
        sample_size=cfg["image_size"],
        in_channels=3,
        out_channels=3,
        block_out_channels=widths,
        layers_per_block=cfg["num_res_blocks"],
        down_block_types=down,
        up_block_types=up,
        attention_head_dim=widths[1] // cfg["num_heads"],
        norm_num_groups=cfg["norm_groups"],
        resnet_time_scale_shift="scale_shift",
        dropout=cfg["dropout"],
        downsample_padding=1,
    )


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 timed repeats instead of 5")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", choices=["unet", "motion", "points"], default=None)
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    b = 32
    t = torch.randint(0, 1000, (b,), device=device)
    print(
        f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
        f"float32, best of {repeats} after 1 warm-up, batch {b}"
    )
    print(f"{'model':<34}{'params':>12}{'fwd ms':>10}{'fwd/s':>9}{'f+b ms':>10}{'f+b/s':>9}")

    def report(rows: list[Job]) -> dict[str, tuple[float, float]]:
        times = _bench(rows, repeats, device)
        for j in rows:
            fwd, step = times[j.name]
            print(
                f"{j.name:<34}{_count(j.model):>12,}{1000 * fwd:>10.1f}{j.batch / fwd:>9.1f}"
                f"{1000 * step:>10.1f}{j.batch / step:>9.1f}"
            )
        return times

    if args.only in (None, "unet"):
        x = torch.randn(b, 3, 32, 32, device=device)
        ours = UNet().to(device)
        jobs = [Job("UNet 32x32 (ours)", ours, lambda m: m(x, t), b)]
        theirs = _diffusers_unet(ours)
        if theirs is not None:
            theirs.to(device)
            jobs.append(Job("diffusers UNet2DModel 32x32", theirs, lambda m: m(x, t).sample, b))
        times = report(jobs)
        if theirs is not None:
            (f0, s0), (f1, s1) = times[jobs[0].name], times[jobs[1].name]
            print(f"  ratio ours/theirs: forward {f0 / f1:.2f}, fwd+bwd {s0 / s1:.2f}")
        else:
            print("  (diffusers not installed: no comparison)")
    if args.only in (None, "motion"):
        model = MotionTransformer().to(device)
        x = torch.randn(b, 196, model.input_dim, device=device)
        mask = torch.ones(b, 196, dtype=torch.bool, device=device)
        mask[b // 2 :, 150:] = False
        emb = torch.randn(b, 512, device=device)
        report(
            [
                Job(
                    "MotionTransformer 196 frames",
                    model,
                    lambda m: m(x, t, mask=mask, text_emb=emb),
                    b,
                )
            ]
        )
    if args.only in (None, "points"):
        model = PointNetDenoiser().to(device)
        x = torch.randn(b, 2048, 3, device=device)
        report([Job("PointNetDenoiser 2048 points", model, lambda m: m(x, t), b)])


if __name__ == "__main__":
    main()
