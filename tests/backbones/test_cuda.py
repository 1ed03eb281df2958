"""The backbones on a CUDA device (skipped without one): the same outputs as on the CPU,
conditions and masks accepted from the CPU (as a CPU data loader gives them), weights
loaded straight onto the device, bf16 autocast."""

from __future__ import annotations

import copy

import pytest
import torch

COND_DIM = 16  # the small cases' condition width (conftest.py)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def _exact_float32():
    """TF32 matmuls would differ from the CPU by ~1e-3; compare true float32."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def _inputs(case, b: int = 3) -> tuple[torch.Tensor, torch.Tensor, dict]:
    cond = {
        "text_emb": torch.randn(b, COND_DIM),
        "cond_drop": torch.tensor([True] + [False] * (b - 1)),
        **case.extra(b),
    }
    return case.make_x(b), torch.randint(0, 1000, (b,)), cond


def _perturbed(case) -> torch.nn.Module:
    model = case.build().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_cuda_matches_cpu_with_conditions_left_on_the_cpu(case) -> None:
    model = _perturbed(case)
    x, t, cond = _inputs(case)
    with torch.no_grad():
        expected = model(x, t, **cond)
        out = copy.deepcopy(model).cuda()(x.cuda(), t, **cond)  # t, conditions, masks on CPU
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-4, atol=1e-4)


def test_from_pretrained_onto_cuda(case, tmp_path) -> None:
    model = _perturbed(case)
    loaded = type(model).from_pretrained(model.save_pretrained(tmp_path / "m"), device="cuda")
    assert all(p.device.type == "cuda" for p in loaded.parameters())
    x, t, cond = _inputs(case)
    cond = {k: v.cuda() for k, v in cond.items()}
    with torch.no_grad():
        out = loaded(x.cuda(), t.cuda(), **cond)
        expected = model(x, t, **{k: v.cpu() for k, v in cond.items()})
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-4, atol=1e-4)


def test_bf16_autocast_training_step(case) -> None:
    model = _perturbed(case).cuda().train()
    x, t, cond = _inputs(case, b=4)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = model(x.cuda(), t.cuda(), **{k: v.cuda() for k, v in cond.items()})
    assert out.shape == x.shape and torch.isfinite(out).all()
    out.float().square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
