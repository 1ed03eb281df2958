"""The model contract, checked on every backbone (small configurations)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from vhdiff.backbones import MotionTransformer, PointNetDenoiser, UNet

COND_DIM = 16  # the small cases' condition width (conftest.py)


def timesteps(b: int) -> torch.Tensor:
    return torch.randint(0, 1000, (b,))


def _perturb(model: torch.nn.Module, scale: float = 0.05) -> None:
    """Move every parameter off its initial value (zero-initialised output layers would
    otherwise block the gradient to everything before them on the first step)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * scale)


def test_output_has_input_shape(case) -> None:
    model = case.build().eval()
    x = case.make_x(3)
    out = model(x, timesteps(3), text_emb=torch.randn(3, COND_DIM), **case.extra(3))
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


def test_learn_variance_returns_pair_of_input_shape(case) -> None:
    model = case.build(learn_variance=True).eval()
    x = case.make_x(2)
    pred, v = model(x, timesteps(2), **case.extra(2))
    assert pred.shape == x.shape and v.shape == x.shape
    _perturb(model)
    pred, v = model(x, timesteps(2), **case.extra(2))
    assert not torch.allclose(pred, v)


def test_scalar_timestep_broadcasts(case) -> None:
    model = case.build().eval()
    _perturb(model)
    x = case.make_x(2)
    a = model(x, torch.tensor(17))
    b = model(x, torch.tensor([17, 17]))
    torch.testing.assert_close(a, b)


def test_timestep_changes_output(case) -> None:
    model = case.build().eval()
    _perturb(model)
    x = case.make_x(2)
    a = model(x, torch.tensor([5, 5]))
    b = model(x, torch.tensor([900, 900]))
    assert (a - b).abs().max() > 1e-4


def test_cond_drop_all_true_equals_unconditional(case) -> None:
    model = case.build().eval()
    _perturb(model)
    b = 4
    x, t = case.make_x(b), timesteps(b)
    extra = case.extra(b)
    frame_mask = {k: v for k, v in extra.items() if k == "mask"}
    uncond = model(x, t, **frame_mask)
    dropped = model(
        x,
        t,
        text_emb=torch.randn(b, COND_DIM),
        cond_drop=torch.ones(b, dtype=torch.bool),
        **extra,
    )
    torch.testing.assert_close(dropped, uncond, rtol=1e-5, atol=1e-5)
    conditioned = model(x, t, text_emb=torch.randn(b, COND_DIM), **extra)
    assert (conditioned - uncond).abs().max() > 1e-4, "the condition must change the output"


def test_cond_drop_is_per_sample(case) -> None:
    """The guidance wrapper's doubled batch: [cond]*B + [null]*B in one call."""
    model = case.build().eval()
    _perturb(model)
    b = 2
    x, t, emb = case.make_x(b), timesteps(b), torch.randn(b, COND_DIM)
    extra = case.extra(b)
    cond = model(x, t, text_emb=emb, **extra)
    frame_mask = {k: v for k, v in extra.items() if k == "mask"}
    uncond = model(x, t, **frame_mask)
    doubled_extra = {k: torch.cat([v, v]) for k, v in extra.items()}
    drop = torch.tensor([False] * b + [True] * b)
    both = model(
        torch.cat([x, x]),
        torch.cat([t, t]),
        text_emb=torch.cat([emb, emb]),
        cond_drop=drop,
        **doubled_extra,
    )
    torch.testing.assert_close(both[:b], cond, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(both[b:], uncond, rtol=1e-5, atol=1e-5)


def test_every_parameter_gets_a_gradient(case) -> None:
    model = case.build(learn_variance=True).train()
    _perturb(model)
    b = 4
    out, v = model(
        case.make_x(b),
        timesteps(b),
        text_emb=torch.randn(b, COND_DIM),
        cond_drop=torch.tensor([True, False, True, False]),
        **case.extra(b),
    )
    (out.square().mean() + v.square().mean()).backward()
    missing = [
        name
        for name, p in model.named_parameters()
        if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0
    ]
    assert not missing, f"parameters without a gradient: {missing}"


def test_save_load_round_trip(case, tmp_path) -> None:
    model = case.build(learn_variance=True).eval()
    _perturb(model)
    path = model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    loaded = type(model).from_pretrained(path)
    assert loaded.config == model.config
    assert not loaded.training
    x, t, emb, extra = case.make_x(2), timesteps(2), torch.randn(2, COND_DIM), case.extra(2)
    for a, b in zip(model(x, t, text_emb=emb, **extra), loaded(x, t, text_emb=emb, **extra)):
        assert torch.equal(a, b)


def test_from_pretrained_refuses_unknown_keys(case, tmp_path) -> None:
    model = case.build()
    path = model.save_pretrained(tmp_path / "m")
    cfg = json.loads((path / "config.json").read_text())
    cfg["hidden_size_typo"] = 3
    cfg["another"] = 1
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"unknown config keys \['another', 'hidden_size_typo'\]"):
        type(model).from_pretrained(path)


def test_from_pretrained_refuses_other_class(tmp_path) -> None:
    path = PointNetDenoiser(encoder_dims=(8,), decoder_dims=(8,), context_dim=8).save_pretrained(
        tmp_path / "p"
    )
    with pytest.raises(ValueError, match="holds a PointNetDenoiser, not a UNet"):
        UNet.from_pretrained(path)


def test_from_pretrained_missing_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no config.json"):
        MotionTransformer.from_pretrained(tmp_path / "nowhere")


def test_save_leaves_no_temp_files(tmp_path) -> None:
    model = PointNetDenoiser(encoder_dims=(8,), decoder_dims=(8,), context_dim=8)
    model.save_pretrained(tmp_path)
    model.save_pretrained(tmp_path)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]


def test_config_is_the_constructor_arguments() -> None:
    model = UNet(base_channels=32, channel_mults=[1, 2], norm_groups=8)
    cfg = model.config
    assert cfg["channel_mults"] == (1, 2) and cfg["base_channels"] == 32
    assert cfg["num_res_blocks"] == 2  # defaults included
    assert UNet(**cfg).config == cfg
    cfg["base_channels"] = 64
    assert model.config["base_channels"] == 32  # a copy


def test_constructors_are_keyword_only() -> None:
    for cls in (UNet, MotionTransformer, PointNetDenoiser):
        with pytest.raises(TypeError):
            cls(3)


def test_import_leaves_heavy_packages_out() -> None:
    heavy = ["open_clip", "smplx", "pyrender", "trimesh", "torchvision"]
    code = (
        "import sys, vhdiff.backbones\n"
        "from vhdiff.backbones import UNet, MotionTransformer, PointNetDenoiser\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def _overfit(model: torch.nn.Module, x: torch.Tensor, extra: dict, steps: int) -> list[float]:
    """Adam on one fixed batch: (x_t, t, text_emb) -> a fixed random target."""
    b = x.shape[0]
    t, emb, target = timesteps(b), torch.randn(b, COND_DIM), torch.randn_like(x)
    weight = extra["mask"][..., None] if "mask" in extra else torch.ones(())
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(steps):
        out = model(x, t, text_emb=emb, **extra)
        loss = ((out - target).square() * weight).sum() / weight.expand_as(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_one_batch_overfits(case) -> None:
    x = (case.overfit_x or case.make_x)(4)
    losses = _overfit(case.build().train(), x, case.extra(4), case.overfit_steps)
    assert min(losses[-5:]) < losses[0] / 10, (losses[0], losses[-5:])


@pytest.mark.slow
def test_default_pointnet_overfits() -> None:
    # 300 steps fell 8x-46x across seeds / torch versions (marginal); 500 fall > 200x.
    model = PointNetDenoiser(cond_dim=COND_DIM).train()
    losses = _overfit(model, torch.randn(4, 37, 3), {}, 500)
    assert min(losses[-5:]) < losses[0] / 10, (losses[0], losses[-5:])


@pytest.mark.slow
def test_torch_compile_matches_eager(case) -> None:
    model = case.build().eval()
    _perturb(model)
    x, t, emb = case.make_x(2), timesteps(2), torch.randn(2, COND_DIM)
    extra = case.extra(2)
    with torch.no_grad():
        eager = model(x, t, text_emb=emb, **extra)
        out = torch.compile(model)(x, t, text_emb=emb, **extra)
    torch.testing.assert_close(out, eager, rtol=1e-4, atol=1e-4)


def test_from_pretrained_refuses_weights_of_another_size(tmp_path) -> None:
    small = {"encoder_dims": (8,), "decoder_dims": (8,), "context_dim": 8}
    path = PointNetDenoiser(**small).save_pretrained(tmp_path / "p")
    cfg = json.loads((path / "config.json").read_text())
    cfg["context_dim"] = 16
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="do not fit the model built from"):
        PointNetDenoiser.from_pretrained(path)


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (
            {"x_t": "long"},
            r"x_t must be a floating-point tensor; got torch.int64\. .*x_t\.float\(\)",
        ),
        ({"cond_drop": torch.tensor([0.3, 0.0])}, r"cond_drop must be a bool tensor .*torch.rand"),
        (
            {"t": torch.tensor([True, False])},
            r"integer timestep indices; got dtype torch.bool.*\.long\(\)",
        ),
    ],
)
def test_bad_dtypes_name_problem_and_fix(case, bad, pattern) -> None:
    model = case.build().eval()
    x = case.make_x(2)
    args = {"x_t": x, "t": timesteps(2), **bad}
    if bad.get("x_t") == "long":
        args["x_t"] = x.round().long()
    with pytest.raises(ValueError, match=pattern):
        model(**args)


def test_integer_cond_drop_flags_equal_bool(case) -> None:
    model = case.build().eval()
    _perturb(model)
    x, t, emb = case.make_x(2), timesteps(2), torch.randn(2, COND_DIM)
    extra = case.extra(2)
    flags = torch.tensor([1, 0])
    torch.testing.assert_close(
        model(x, t, text_emb=emb, cond_drop=flags, **extra),
        model(x, t, text_emb=emb, cond_drop=flags.bool(), **extra),
    )
