"""UNet specifics: the DDPM layout, odd sizes, cross-attention, bad input."""

from __future__ import annotations

import pytest
import torch

from vhdiff.backbones import UNet


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _small(**kw) -> UNet:
    cfg = {
        "base_channels": 16,
        "channel_mults": (1, 2),
        "num_res_blocks": 1,
        "attention_resolutions": (8,),
        "image_size": 16,
        "num_heads": 2,
        "norm_groups": 4,
    }
    return UNet(**{**cfg, **kw}).eval()


def test_ddpm_cifar10_layout_parameter_count() -> None:
    """Ho et al. 2020: base 128, mults (1, 2, 2, 2), 2 res blocks, attention at 16 -> 35.7M.
    35,746,307 is also the count of the released google/ddpm-cifar10-32 weights."""
    model = UNet(
        base_channels=128,
        channel_mults=(1, 2, 2, 2),
        num_res_blocks=2,
        attention_resolutions=(16,),
        image_size=32,
        scale_shift_norm=False,
    )
    n = _count(model)
    assert abs(n - 35.7e6) / 35.7e6 < 0.01
    assert n == 35_746_307


def test_docstring_parameter_counts_are_measured() -> None:
    assert f"{_count(UNet()):,}" in UNet.__doc__
    wide = UNet(
        image_size=64, channel_mults=(1, 2, 3, 4), num_res_blocks=3, attention_resolutions=(16, 8)
    )
    assert f"{_count(wide):,}" in UNet.__doc__


@pytest.mark.parametrize(
    ("mults", "size"), [((1,), (7, 9)), ((1, 2), (6, 10)), ((1, 2, 2), (12, 20))]
)
def test_odd_and_non_square_sizes(mults, size) -> None:
    model = _small(channel_mults=mults, attention_resolutions=())
    x = torch.randn(3, 3, *size)
    assert model(x, torch.tensor([0, 1, 999])).shape == x.shape


def test_out_channels_and_learn_variance() -> None:
    model = _small(in_channels=4, out_channels=2, learn_variance=True)
    pred, v = model(torch.randn(2, 4, 8, 8), torch.tensor([3, 4]))
    assert pred.shape == v.shape == (2, 2, 8, 8)


def _perturbed(model: UNet) -> UNet:
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_cross_attention_uses_real_tokens_only() -> None:
    model = _perturbed(_small(cond_dim=8))
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 500])
    tokens = torch.randn(2, 4, 8)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]])
    out = model(x, t, text_tokens=tokens, text_mask=mask)
    garbage = tokens.clone()
    garbage[0, 2:] = 1e3 * torch.randn(2, 8)
    garbage[1, 3:] = -1e3
    torch.testing.assert_close(model(x, t, text_tokens=garbage, text_mask=mask), out)
    changed = tokens.clone()
    changed[0, 0] += 1.0
    assert (model(x, t, text_tokens=changed, text_mask=mask) - out)[0].abs().max() > 1e-4


def test_empty_text_mask_is_the_null_condition() -> None:
    model = _perturbed(_small(cond_dim=8))
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 500])
    out = model(x, t, text_tokens=torch.randn(2, 4, 8), text_mask=torch.zeros(2, 4))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, model(x, t), rtol=1e-5, atol=1e-5)


def test_pooled_only_conditioning_without_cross_attention() -> None:
    model = _perturbed(_small(cond_dim=8, cross_attention=False))
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 500])
    assert (model(x, t, text_emb=torch.randn(2, 8)) - model(x, t)).abs().max() > 1e-4
    with pytest.raises(ValueError, match="no cross-attention"):
        model(x, t, text_tokens=torch.randn(2, 3, 8))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"x_t": torch.randn(2, 4, 16, 16)},
            r"x_t must have shape \[B, 3, H, W\]; got \[2, 4, 16, 16\]",
        ),
        ({"x_t": torch.randn(2, 3, 16)}, r"x_t must have shape \[B, 3, H, W\]; got \[2, 3, 16\]"),
        (
            {"x_t": torch.randn(2, 3, 15, 16)},
            r"divisible by 2\*\*\(levels-1\) = 2 .* got H=15, W=16",
        ),
        ({"text_emb": torch.randn(2, 5)}, r"text_emb must have shape \[2, 8\]; got \[2, 5\]"),
        ({"text_emb": torch.randn(3, 8)}, r"text_emb must have shape \[2, 8\]; got \[3, 8\]"),
        (
            {"text_tokens": torch.randn(2, 4, 6)},
            r"text_tokens must have shape \[2, L, 8\]; got \[2, 4, 6\]",
        ),
        (
            {"text_tokens": torch.randn(2, 4, 8), "text_mask": torch.ones(2, 5)},
            r"text_mask must have shape \[2, 4\]; got \[2, 5\]",
        ),
        ({"text_mask": torch.ones(2, 5)}, "text_mask was given without text_tokens"),
        (
            {"cond_drop": torch.ones(3, dtype=torch.bool)},
            r"cond_drop must have shape \[2\]; got \[3\]",
        ),
        ({"t": torch.zeros(3, dtype=torch.long)}, r"t must have shape \[2\]"),
        ({"x_t": torch.ones(2, 3, 16, 16, dtype=torch.long)}, "floating-point"),
    ],
)
def test_bad_input_messages(kwargs, pattern) -> None:
    model = _small(cond_dim=8)
    args = {"x_t": torch.randn(2, 3, 16, 16), "t": torch.tensor([1, 2]), **kwargs}
    with pytest.raises(ValueError, match=pattern):
        model(**args)


def test_unconditional_model_refuses_text() -> None:
    with pytest.raises(ValueError, match="built without text conditioning"):
        _small()(torch.randn(1, 3, 8, 8), torch.tensor([1]), text_emb=torch.randn(1, 8))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"attention_resolutions": (12,)},
            r"attention resolution 12 is not one of the level sizes \[16, 8\]",
        ),
        ({"base_channels": 10}, "width 10 must be divisible by norm_groups=4"),
        ({"channel_mults": ()}, "channel_mults must be positive"),
    ],
)
def test_bad_config_messages(kwargs, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        _small(**kwargs)
