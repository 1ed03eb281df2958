"""Trainer overhead and checkpoint speed.

1. Steps/s of `vhdiff.training.Trainer` vs a bare hand-written loop on the same tiny model
   (ToyMLP, hidden 128, 3 layers), data (Toy2D, batch 256) and diffusion, in this process.
   Two pairings: features off (no EMA, no clipping, constant LR) against the barest loop,
   and features on (EMA, clipping, warm-up + cosine) against a bare loop doing the same.
   Rates are steps per CPU-second of this process (time.process_time, one torch thread),
   so other jobs on a shared machine barely move them; runs alternate, and the median and
   the best of the repeats are reported.
2. Save / load time of a full checkpoint (weights + EMA + AdamW state, fsync'ed, hashed)
   for the default MotionTransformer.

Run: .venv/bin/python benchmarks/bench_trainer.py [--steps 400] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule
from vhdiff.toy import Toy2D, ToyMLP
from vhdiff.training import EMA, Trainer, TrainerConfig, build_lr_scheduler, init_distributed
from vhdiff.training import checkpoint as ckpt

BATCH = 256


def _clock() -> float:
    """CPU seconds of this process: other jobs on a shared machine barely move it."""
    return time.process_time()


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    return ToyMLP(dim=2, hidden=128, layers=3), GaussianDiffusion(NoiseSchedule.cosine(T=1000)), Toy2D(4096, seed=0)


def bare_loop(steps: int, *, features: bool) -> float:
    """Steps/s of the loop a user would write by hand."""
    model, diffusion, data = _setup()
    loader = DataLoader(data, batch_size=BATCH, shuffle=True, drop_last=True, collate_fn=Toy2D.collate_fn)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    params = list(model.parameters())
    sched = build_lr_scheduler(opt, schedule="cosine", warmup_steps=10, max_steps=steps) if features else None
    ema = EMA(model, decay=0.999) if features else None
    step, t0 = 0, _clock()
    while step < steps:
        for x0 in loader:
            loss = diffusion.training_losses(model, x0).loss.mean()
            loss.backward()
            if features:
                nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
            opt.step()
            opt.zero_grad(set_to_none=True)
            if features:
                sched.step()
                ema.update(model)
            step += 1
            if step == steps:
                break
    return steps / (_clock() - t0)


def trainer_loop(steps: int, *, features: bool, out: Path) -> float:
    model, diffusion, data = _setup()
    cfg = TrainerConfig(
        max_steps=steps, batch_size=BATCH, lr=1e-3, precision="fp32", progress=False,
        log_every=50, save_every=0, out_dir=str(out),
        ema_decay=0.999 if features else 0.0, grad_clip=1.0 if features else 0.0,
        lr_schedule="cosine" if features else "constant", warmup_steps=10 if features else 0,
    )
    trainer = Trainer(model=model, diffusion=diffusion, dataset=data, config=cfg,
                      context=init_distributed("cpu"))
    save_time = []
    save = trainer.save

    def timed_save():
        t = _clock()
        save()
        save_time.append(_clock() - t)

    trainer.save = timed_save
    t0 = _clock()
    trainer.fit()  # ends with a checkpoint save, timed apart: it is not per-step overhead
    return steps / (_clock() - t0 - sum(save_time)), sum(save_time)


def bench_overhead(steps: int, repeats: int) -> None:
    print(f"Trainer vs bare loop: ToyMLP(hidden=128, layers=3), batch {BATCH}, {steps} steps, "
          f"{repeats} alternating repeats (median and best), {torch.get_num_threads()} torch thread(s)")
    with tempfile.TemporaryDirectory() as tmp:
        for features in (False, True):
            bare, ours, saves = [], [], []
            for r in range(repeats):
                order = (0, 1) if r % 2 == 0 else (1, 0)  # alternate who runs first
                for who in order:
                    if who == 0:
                        bare.append(bare_loop(steps, features=features))
                    else:
                        out = Path(tmp) / f"{features}{r}"
                        rate, save_s = trainer_loop(steps, features=features, out=out)
                        ours.append(rate)
                        saves.append(save_s)
            label = "EMA+clip+cosine" if features else "plain"
            for stat in (statistics.median, max):
                b, o = stat(bare), stat(ours)
                print(f"  {label:<15} {stat.__name__:>6}: bare {b:7.1f} steps/cpu-s  trainer "
                      f"{o:7.1f} steps/cpu-s  ratio {o / b:.3f}")
            print(f"  {label:<15} final checkpoint save {1000 * statistics.median(saves):.0f} ms "
                  "(excluded from the rates)")


def bench_checkpoint(repeats: int) -> None:
    try:
        from vhdiff.backbones import MotionTransformer

        model, name = MotionTransformer(), "MotionTransformer() (default config)"
    except ImportError:  # backbones missing: a same-size stand-in
        model = nn.Sequential(*[nn.Linear(512, 512) for _ in range(68)])
        name = "stand-in MLP"
    n = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    ema = EMA(model, decay=0.999)
    state = {"step": 1, "optimizer": opt.state_dict()}
    saves, loads, verifies = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            t0 = time.perf_counter()
            path = ckpt.save_checkpoint(Path(tmp), r, model=model, ema_model=ema.module,
                                        training_state=state, config_text="model: {}\n")
            saves.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ckpt.verify_checkpoint(path)
            verifies.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ckpt.load_module_weights(model, path / "model")
            ckpt.load_module_weights(ema.module, path / "ema")
            opt.load_state_dict(ckpt.load_training_state(path)["optimizer"])
            loads.append(time.perf_counter() - t0)
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"Checkpoint of {name}: {n / 1e6:.1f} M params, {size / 2**20:.0f} MiB on disk "
          "(weights + EMA + AdamW state), median of", repeats)
    print("  (wall-clock seconds)")
    print(f"  save (write + fsync + SHA-256 + rename) {statistics.median(saves):6.2f} s")
    print(f"  verify (sizes + SHA-256)                {statistics.median(verifies):6.2f} s")
    print(f"  load (weights + EMA + optimizer)        {statistics.median(loads):6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench_overhead(args.steps, args.repeats)
    bench_checkpoint(args.repeats)


if __name__ == "__main__":
    main()
