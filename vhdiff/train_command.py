"""`vhdiff train CONFIG [key=value ...] [--resume] [--device auto|cpu|cuda] [--seed S] [--out DIR]`.

Builds the model, diffusion, dataset and (optional) text encoder a YAML config names
(see `vhdiff.config`) and runs `vhdiff.training.Trainer`. Overrides use dotted keys:
``vhdiff train configs/toy2d.yaml trainer.max_steps=100 trainer.lr=1e-3``.

On many GPUs or nodes, launch the same command with torchrun, e.g.
``torchrun --nproc_per_node 4 --no-python vhdiff train configs/motion.yaml``;
see `vhdiff.training.distributed` for multi-node rendezvous flags.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

import torch
from torch import Tensor

from vhdiff.training.distributed import DEVICE_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML run config, e.g. configs/toy2d.yaml")
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value",
        help="dotted overrides of config values, e.g. trainer.max_steps=100",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue from the newest complete checkpoint in the output directory",
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="default: auto")
    parser.add_argument("--seed", type=int, default=None, help="overrides trainer.seed")
    parser.add_argument("--out", default=None, help="output directory (overrides trainer.out_dir)")
    # key=value overrides may come before or after the options (`... a=1 --resume b=2`)
    parser.parse_args = parser.parse_intermixed_args  # type: ignore[method-assign]


class TextCondition:
    """Encodes batch[text_key] (list[str]) with a frozen text encoder -> {output_key: [B, C]}."""

    def __init__(self, *, encoder: Any, text_key: str, output_key: str, device: torch.device) -> None:
        self.encoder = encoder
        self.text_key = text_key
        self.output_key = output_key
        self.device = device

    def __call__(self, batch: Any) -> dict[str, Tensor]:
        if not isinstance(batch, dict) or self.text_key not in batch:
            keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
            raise ValueError(
                f"text_encoder is set but the batch has no {self.text_key!r} entry (got {keys}); "
                "set text_encoder.text_key or text_encoder.name=null"
            )
        with torch.no_grad():
            emb = self.encoder.encode(list(batch[self.text_key]))
        return {self.output_key: emb.to(self.device, dtype=torch.float32)}


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vhdiff.config import build_diffusion, config_to_yaml, load_config
    from vhdiff.registry import LOSS_HOOKS, SAMPLE_HOOKS, build_dataset, build_model
    from vhdiff.training import Trainer, cleanup_distributed, init_distributed, latest_checkpoint
    from vhdiff.training.seeding import seed_everything

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"trainer.seed={args.seed}")
    if args.out is not None:
        overrides.append(f"trainer.out_dir={args.out}")
    cfg = load_config(args.config, overrides)
    for module in cfg.imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ValueError(f"cannot import {module!r} listed under imports: {exc}") from None

    checkpoints = Path(cfg.trainer.out_dir) / "checkpoints"
    if not args.resume and latest_checkpoint(checkpoints) is not None:
        raise FileExistsError(
            f"{checkpoints} already holds checkpoints; pass --resume to continue that run "
            "or choose another --out"
        )
    ctx = init_distributed(args.device)
    try:
        seed_everything(cfg.trainer.seed)  # the model's initial weights
        model = build_model(cfg.model.name, cfg.model.params)
        dataset = build_dataset(cfg.data.name, cfg.data.params)
        diffusion = build_diffusion(cfg.diffusion)
        condition = None
        if cfg.text_encoder.name:
            from vhdiff.text import load_text_encoder

            condition = TextCondition(
                encoder=load_text_encoder(cfg.text_encoder.name, **cfg.text_encoder.params),
                text_key=cfg.text_encoder.text_key, output_key=cfg.text_encoder.output_key,
                device=ctx.device,
            )
        trainer = Trainer(
            model=model, diffusion=diffusion, dataset=dataset, config=cfg.trainer,
            condition=condition, context=ctx, config_text=config_to_yaml(cfg),
        )
        for name in cfg.trainer.sample_hooks:
            trainer.add_sample_hook(SAMPLE_HOOKS.build(name))
        for name, params in cfg.trainer.loss_hooks.items():
            trainer.add_loss_hook(LOSS_HOOKS.build(name, params))
        if args.resume and ctx.is_main and latest_checkpoint(checkpoints) is None:
            print(f"vhdiff train: no checkpoint in {checkpoints} yet; starting fresh", file=sys.stderr)
        result = trainer.fit(resume=args.resume)
        if ctx.is_main:
            loss = "n/a" if result.last_loss is None else f"{result.last_loss:.4g}"
            print(f"trained to step {result.step} (loss {loss}); checkpoint: {result.checkpoint}")
    finally:
        cleanup_distributed()
    return 0
