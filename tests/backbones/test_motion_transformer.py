"""MotionTransformer specifics: padding invariance, lengths, bad input."""

from __future__ import annotations

import pytest
import torch

from vhdiff.backbones import MotionTransformer


def _model(**kw) -> MotionTransformer:
    cfg = {
        "input_dim": 5,
        "latent_dim": 32,
        "num_layers": 2,
        "num_heads": 4,
        "ff_dim": 64,
        "max_len": 20,
        "text_dim": 8,
    }
    model = MotionTransformer(**{**cfg, **kw}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


@pytest.mark.parametrize("positional_encoding", ["sinusoidal", "learned"])
@pytest.mark.parametrize("norm_first", [True, False])
def test_padding_never_changes_real_frames(positional_encoding, norm_first) -> None:
    model = _model(positional_encoding=positional_encoding, norm_first=norm_first)
    b, length = 3, 17
    lengths = [17, 11, 4]
    mask = torch.zeros(b, length, dtype=torch.bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
    x, t, emb = torch.randn(b, length, 5), torch.tensor([0, 400, 999]), torch.randn(b, 8)
    out = model(x, t, mask=mask, text_emb=emb)
    garbage = torch.where(mask[..., None], x, 1e4 * torch.randn_like(x))
    garbage[2, 10] = float("nan")
    out_garbage = model(garbage, t, mask=mask, text_emb=emb)
    torch.testing.assert_close(out_garbage, out, rtol=1e-5, atol=1e-5)
    assert (out[~mask] == 0).all(), "padded frames give 0"
    for i, n in enumerate(lengths):  # the same clip, alone and unpadded
        alone = model(x[i : i + 1, :n], t[i : i + 1], text_emb=emb[i : i + 1])
        torch.testing.assert_close(alone[0], out[i, :n], rtol=1e-4, atol=1e-5)


def test_mask_forms_agree() -> None:
    model = _model()
    x, t = torch.randn(2, 9, 5), torch.tensor([1, 2])
    mask = torch.tensor([[1] * 9, [1] * 5 + [0] * 4])
    a = model(x, t, mask=mask)
    torch.testing.assert_close(model(x, t, mask=mask.bool()[..., None]), a)
    torch.testing.assert_close(model(x, t, mask=mask.float()), a)


@pytest.mark.parametrize("length", [1, 2, 13, 20])
def test_any_length_up_to_max_len(length) -> None:
    model = _model()
    x = torch.randn(2, length, 5)
    assert model(x, torch.tensor([5, 6])).shape == x.shape


def test_unconditional_model_uses_null_token() -> None:
    model = _model(text_dim=None)
    x = torch.randn(2, 6, 5)
    assert model(x, torch.tensor([5, 6]), cond_drop=torch.tensor([True, False])).shape == x.shape
    with pytest.raises(ValueError, match="built without text conditioning"):
        model(x, torch.tensor([5, 6]), text_emb=torch.randn(2, 8))


def test_default_configuration() -> None:
    model = MotionTransformer()
    n = sum(p.numel() for p in model.parameters())
    assert f"{n:,}" in MotionTransformer.__doc__
    layer = model.encoder.layers[0]
    assert layer.self_attn.num_heads == 4 and layer.linear1.out_features == 1024
    assert len(model.encoder.layers) == 8 and layer.self_attn.embed_dim == 512
    assert model.config["text_dim"] == 512 and model.config["dropout"] == 0.1


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"x_t": torch.randn(2, 9, 6)}, r"x_t must have shape \[B, T, 5\]; got \[2, 9, 6\]"),
        ({"x_t": torch.randn(2, 21, 5)}, r"T=21 frames but max_len=20"),
        ({"mask": torch.ones(2, 8)}, r"mask must have shape \[2, 9\]; got \[2, 8\]"),
        ({"mask": torch.ones(9)}, r"mask must have shape \[2, 9\]; got \[9\]"),
        ({"text_emb": torch.randn(2, 512)}, r"text_emb must have shape \[2, 8\]; got \[2, 512\]"),
        ({"cond_drop": torch.ones(2, 1)}, r"cond_drop must have shape \[2\]; got \[2, 1\]"),
        ({"t": torch.zeros(2, 1, dtype=torch.long)}, r"t must have shape \[2\]"),
    ],
)
def test_bad_input_messages(kwargs, pattern) -> None:
    model = _model()
    args = {"x_t": torch.randn(2, 9, 5), "t": torch.tensor([1, 2]), **kwargs}
    with pytest.raises(ValueError, match=pattern):
        model(**args)


def test_bad_config_messages() -> None:
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        _model(num_heads=3)
    with pytest.raises(ValueError, match="positional_encoding must be"):
        _model(positional_encoding="rope")


def test_a_sample_without_real_frames_keeps_the_batch_finite() -> None:
    model = _model().train()
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1] = False
    out = model(torch.randn(2, 6, 5), torch.tensor([3, 4]), mask=mask, text_emb=torch.randn(2, 8))
    assert torch.isfinite(out).all() and (out[1] == 0).all()
    out.square().sum().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    bad = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    assert not bad, f"non-finite gradients: {bad}"


def _token_inputs(b: int = 2):
    x, t, emb = torch.randn(b, 7, 5), torch.tensor([10, 700][:b]), torch.randn(b, 8)
    tokens = torch.randn(b, 4, 8)
    text_mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]][:b])
    return x, t, emb, tokens, text_mask


def test_text_tokens_condition_and_padding_tokens_are_ignored() -> None:
    model = _model(token_conditioning=True)
    x, t, emb, tokens, text_mask = _token_inputs()
    out = model(x, t, text_emb=emb, text_tokens=tokens, text_mask=text_mask)
    assert (out - model(x, t, text_emb=emb)).abs().max() > 1e-4, "tokens must matter"
    garbage = tokens.clone()
    garbage[0, 3] = 1e4
    garbage[1, 2:] = -1e4
    torch.testing.assert_close(
        model(x, t, text_emb=emb, text_tokens=garbage, text_mask=text_mask), out
    )
    changed = tokens.clone()
    changed[1, 0] += 1.0
    diff = model(x, t, text_emb=emb, text_tokens=changed, text_mask=text_mask) - out
    assert diff[1].abs().max() > 1e-4 and diff[0].abs().max() < 1e-5  # per sample


def test_text_tokens_dropped_equal_unconditional() -> None:
    model = _model(token_conditioning=True)
    x, t, emb, tokens, text_mask = _token_inputs()
    uncond = model(x, t)
    both = model(
        x,
        t,
        text_emb=emb,
        text_tokens=tokens,
        text_mask=text_mask,
        cond_drop=torch.tensor([True, False]),
    )
    torch.testing.assert_close(both[0], uncond[0], rtol=1e-5, atol=1e-5)
    alone = model(x[1:], t[1:], text_emb=emb[1:], text_tokens=tokens[1:], text_mask=text_mask[1:])
    torch.testing.assert_close(both[1], alone[0], rtol=1e-5, atol=1e-5)


def test_text_tokens_every_parameter_gets_a_gradient_and_round_trip(tmp_path) -> None:
    model = _model(token_conditioning=True, learn_variance=True).train()
    x, t, emb, tokens, text_mask = _token_inputs()
    drop = torch.tensor([True, False])  # the null text token is used too
    pred, v = model(x, t, text_emb=emb, text_tokens=tokens, text_mask=text_mask, cond_drop=drop)
    (pred.square().mean() + v.square().mean()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, missing
    loaded = MotionTransformer.from_pretrained(model.save_pretrained(tmp_path / "m"))
    assert loaded.config["token_conditioning"] is True
    model.eval()
    kw = {"text_emb": emb, "text_tokens": tokens, "text_mask": text_mask}
    assert torch.equal(model(x, t, **kw)[0], loaded(x, t, **kw)[0])


@pytest.mark.parametrize(
    ("build", "kwargs", "pattern"),
    [
        ({}, {"text_tokens": torch.randn(2, 3, 8)}, "token_conditioning=False; rebuild"),
        ({"token_conditioning": True}, {"text_mask": torch.ones(2, 3)}, "without text_tokens"),
        (
            {"token_conditioning": True},
            {"text_tokens": torch.randn(2, 3, 6)},
            r"text_tokens must have shape \[2, L, 8\]; got \[2, 3, 6\]",
        ),
        (
            {"token_conditioning": True},
            {"text_tokens": torch.randn(2, 3, 8), "text_mask": torch.ones(2, 4)},
            r"text_mask must have shape \[2, 3\]; got \[2, 4\]",
        ),
    ],
)
def test_text_token_bad_input(build, kwargs, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        _model(**build)(torch.randn(2, 9, 5), torch.tensor([1, 2]), **kwargs)


def test_token_conditioning_needs_text_dim() -> None:
    with pytest.raises(ValueError, match="token_conditioning=True needs text_dim"):
        _model(text_dim=None, token_conditioning=True)
