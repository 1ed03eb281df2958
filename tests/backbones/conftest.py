"""Fixtures for the backbone tests.

`case`: each backbone in a small configuration with a way to make its inputs.
`_one_thread` (autouse): one intra-op thread, which keeps these tiny models fast when other
processes share the CPU (OpenMP threads spin badly under contention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from vhdiff.backbones import LatentMLPDenoiser, MotionTransformer, PointNetDenoiser, UNet

COND_DIM = 16


@dataclass
class Case:
    """How to build a small backbone and a batch of inputs for it."""

    name: str
    build: Callable[..., nn.Module]
    make_x: Callable[[int], Tensor]
    extra: Callable[[int], dict[str, Tensor]]  # conditions other than text_emb / cond_drop
    overfit_steps: int = 150
    overfit_x: Callable[[int], Tensor] | None = None  # smaller inputs for the overfit test
    cond_dim: int = COND_DIM


def _unet(**kw: Any) -> UNet:
    cfg: dict[str, Any] = {
        "base_channels": 32,
        "channel_mults": (1, 2),
        "num_res_blocks": 1,
        "attention_resolutions": (8,),
        "image_size": 16,
        "num_heads": 2,
        "norm_groups": 8,
        "dropout": 0.0,
        "cond_dim": COND_DIM,
    }
    return UNet(**{**cfg, **kw})


def _motion(**kw: Any) -> MotionTransformer:
    cfg: dict[str, Any] = {
        "input_dim": 7,
        "latent_dim": 32,
        "num_layers": 2,
        "num_heads": 4,
        "ff_dim": 64,
        "dropout": 0.0,
        "max_len": 24,
        "text_dim": COND_DIM,
    }
    return MotionTransformer(**{**cfg, **kw})


def _points(**kw: Any) -> PointNetDenoiser:
    cfg: dict[str, Any] = {
        "point_dim": 3,
        "encoder_dims": (32, 64),
        "decoder_dims": (64, 32),
        "context_dim": 32,
        "cond_dim": COND_DIM,
    }
    return PointNetDenoiser(**{**cfg, **kw})


def _latent(**kw: Any) -> LatentMLPDenoiser:
    cfg: dict[str, Any] = {"latent_dim": 12, "width": 32, "hidden": 48, "depth": 2, "cond_dim": COND_DIM}
    return LatentMLPDenoiser(**{**cfg, **kw})


def _motion_mask(b: int) -> Tensor:
    mask = torch.ones(b, 13)
    mask[0, 9:] = 0
    return mask


CASES = [
    Case(
        "unet",
        _unet,
        lambda b: torch.randn(b, 3, 14, 10),
        lambda b: {
            "text_tokens": torch.randn(b, 5, COND_DIM),
            "text_mask": torch.tensor([[1, 1, 1, 0, 0]] * b),
        },
        overfit_steps=60,
    ),
    Case("motion", _motion, lambda b: torch.randn(b, 13, 7), lambda b: {"mask": _motion_mask(b)}),
    # A small per-point MLP fits random targets at many points slowly (spectral bias), so the
    # overfit test uses 9 points; test_default_pointnet_overfits (slow) uses the full model.
    Case(
        "points",
        _points,
        lambda b: torch.randn(b, 37, 3),
        lambda b: {},
        overfit_steps=200,
        overfit_x=lambda b: torch.randn(b, 9, 3),
    ),
    Case("latent", _latent, lambda b: torch.randn(b, 12), lambda b: {}),
]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param
