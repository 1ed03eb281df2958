"""Small builders shared by the training tests: a tiny toy run that takes well under a second."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule
from vhdiff.toy import Toy2D, ToyMLP
from vhdiff.training import Trainer, TrainerConfig, init_distributed
from vhdiff.training.seeding import seed_everything

REPO = Path(__file__).resolve().parents[2]
TOY_CONFIG = REPO / "configs" / "toy2d.yaml"


def tiny_config(out_dir: Path, **overrides) -> TrainerConfig:
    base = {
        "max_steps": 12, "batch_size": 16, "lr": 3e-3, "warmup_steps": 3, "ema_decay": 0.9, "grad_clip": 1.0,
        "log_every": 4, "save_every": 0, "keep_last": 2, "progress": False, "precision": "fp32", "seed": 3,
        "out_dir": str(out_dir),
    }
    base.update(overrides)
    return TrainerConfig(**base)


def tiny_trainer(
    out_dir: Path, *, timestep_sampling: str = "uniform", T: int = 50, data_size: int = 200, **overrides,
) -> Trainer:
    """A fresh trainer; model init is seeded, so two calls build identical runs."""
    cfg = tiny_config(out_dir, timestep_sampling=timestep_sampling, **overrides)
    seed_everything(cfg.seed)
    model = ToyMLP(dim=2, hidden=32, layers=2)
    diffusion = GaussianDiffusion(NoiseSchedule.cosine(T=T))
    return Trainer(
        model=model, diffusion=diffusion, dataset=Toy2D(data_size, seed=1), config=cfg,
        context=init_distributed("cpu"), config_text="trainer: {}\n",
    )


def params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], *, atol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for k, va in a.items():
        if atol == 0.0:
            assert torch.equal(va, b[k]), f"{k} differs by {(va - b[k]).abs().max()}"
        else:
            torch.testing.assert_close(va, b[k], atol=atol, rtol=0, msg=lambda m, k=k: f"{k}: {m}")


def checkpoint_weights(step_dir: Path, which: str = "model") -> dict[str, torch.Tensor]:
    return load_file(str(step_dir / which / "model.safetensors"))


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120):
    """`python -m vhdiff.cli ARGS` in a subprocess; returns CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "vhdiff.cli", *args], check=False, cwd=REPO, env=env or cli_env(),
        capture_output=True, text=True, timeout=timeout,
    )


def replace(cfg: TrainerConfig, **changes) -> TrainerConfig:
    return dataclasses.replace(cfg, **changes)
