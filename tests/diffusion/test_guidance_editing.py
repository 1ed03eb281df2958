"""Classifier-free guidance and editing (SDEdit, RePaint inpainting, DDIM inversion)."""

import itertools

import pytest
import torch

from tests.diffusion.oracle import MU, SIGMA, GaussianOracle, sample_data
from vhdiff.diffusion import (
    SAMPLER_NAMES,
    ClassifierFreeGuidance,
    GaussianDiffusion,
    NoiseSchedule,
    ddim_invert,
    inpaint,
    repaint_schedule,
    sdedit,
)


class CondModel(torch.nn.Module):
    """out = x * 0.5 + (text_emb if kept else null); counts calls and batch sizes."""

    def __init__(self, learn_variance=False):
        super().__init__()
        self.null = torch.nn.Parameter(torch.full((3,), -1.0))
        self.calls = []
        self.learn_variance = learn_variance

    def forward(self, x, t, text_emb=None, cond_drop=None, scale_hint="tag"):
        self.calls.append((x.shape[0], scale_hint))
        c = self.null.expand_as(x) if text_emb is None else text_emb
        if cond_drop is not None:
            c = torch.where(cond_drop[:, None], self.null.expand_as(x), c)
        out = 0.5 * x + c
        return (out, torch.full_like(x, 0.3) + c) if self.learn_variance else out


def test_guidance_scale_1_is_the_conditional_model_and_0_the_unconditional():
    model = CondModel()
    x, t, emb = torch.randn(4, 3), torch.tensor([1, 2, 3, 4]), torch.randn(4, 3)
    assert torch.equal(ClassifierFreeGuidance(model, 1.0)(x, t, text_emb=emb), model(x, t, text_emb=emb))
    assert torch.allclose(ClassifierFreeGuidance(model, 0.0)(x, t, text_emb=emb), model(x, t))


def test_guidance_is_one_batched_forward_and_extrapolates():
    model = CondModel()
    x, t, emb = torch.randn(4, 3), torch.zeros(4, dtype=torch.long), torch.randn(4, 3)
    model.calls.clear()
    out = ClassifierFreeGuidance(model, 2.5)(x, t, text_emb=emb, scale_hint="kept")
    assert model.calls == [(8, "kept")]  # one forward on the doubled batch; non-tensors pass through
    cond, uncond = model(x, t, text_emb=emb), model(x, t)
    assert torch.allclose(out, uncond + 2.5 * (cond - uncond))


def test_guidance_with_learned_variance_guides_the_prediction_only():
    model = CondModel(learn_variance=True)
    x, t, emb = torch.randn(2, 3), torch.zeros(2, dtype=torch.long), torch.randn(2, 3)
    pred, v = ClassifierFreeGuidance(model, 3.0)(x, t, text_emb=emb)
    (c_pred, c_v), (u_pred, _) = model(x, t, text_emb=emb), model(x, t)
    assert torch.allclose(pred, u_pred + 3.0 * (c_pred - u_pred)) and torch.equal(v, c_v)


def test_guidance_interval_guides_inside_and_runs_the_conditional_model_alone_outside():
    model = CondModel()
    x, emb = torch.randn(4, 3), torch.randn(4, 3)
    guided = ClassifierFreeGuidance(model, 2.5, interval=(500, 999))
    plain = ClassifierFreeGuidance(model, 2.5)
    for step in (500, 700, 999):  # inside, both ends included: plain guidance
        t = torch.full((4,), step)
        assert torch.equal(guided(x, t, text_emb=emb), plain(x, t, text_emb=emb))
    model.calls.clear()
    low = torch.full((4,), 499)
    assert torch.equal(guided(x, low, text_emb=emb), model(x, low, text_emb=emb))
    assert model.calls == [(4, "tag"), (4, "tag")]  # one forward on the plain batch, no uncond half
    mixed = torch.tensor([100, 600, 20, 999])  # rows at different noise levels
    out = guided(x, mixed, text_emb=emb)
    cond, full = model(x, mixed, text_emb=emb), plain(x, mixed, text_emb=emb)
    assert torch.allclose(out[[1, 3]], full[[1, 3]]) and torch.allclose(out[[0, 2]], cond[[0, 2]])
    # a DDIM run guided on an interval spends one forward per step outside it
    diffusion = GaussianDiffusion(NoiseSchedule.cosine(T=1000), prediction="x0")
    model.calls.clear()
    diffusion.sample(guided, (4, 3), sampler="ddim", steps=10, text_emb=emb)
    assert sorted(b for b, _ in model.calls) == [4] * 5 + [8] * 5


@pytest.mark.parametrize("bad", [(600, 500), (-1, 10), (1.5, 10), (1, 2, 3), "ab", 5])
def test_bad_guidance_intervals_are_refused(bad):
    with pytest.raises(ValueError, match=r"guidance interval must be \(t_min, t_max\)"):
        ClassifierFreeGuidance(CondModel(), 2.0, interval=bad)


def test_guidance_interval_command_line_form():
    from vhdiff.diffusion.guidance import parse_guidance_interval

    assert parse_guidance_interval("500:999") == (500, 999)
    assert parse_guidance_interval(" ALL ") is None
    for bad in ("500", "a:b", "1:2:3", "9:3", ""):
        with pytest.raises(ValueError, match="guidance interval must"):
            parse_guidance_interval(bad)


def test_guidance_respects_an_existing_cond_drop_and_rejects_negative_scales():
    model = CondModel()
    x, t, emb = torch.randn(2, 3), torch.zeros(2, dtype=torch.long), torch.randn(2, 3)
    drop = torch.tensor([True, False])
    out = ClassifierFreeGuidance(model, 4.0)(x, t, text_emb=emb, cond_drop=drop)
    assert torch.allclose(out[0], model(x, t)[0])  # a dropped sample stays unconditional
    with pytest.raises(ValueError, match=">= 0"):
        ClassifierFreeGuidance(model, -1.0)


def test_guided_sampling_runs_through_every_sampler():
    schedule = NoiseSchedule.linear(T=100)
    d = GaussianDiffusion(schedule, prediction="x0")
    guided = ClassifierFreeGuidance(CondModel(), 2.0)
    for sampler in SAMPLER_NAMES:
        out = d.sample(guided, (5, 3), sampler=sampler, steps=10, text_emb=torch.ones(5, 3))
        assert out.sample.shape == (5, 3) and torch.isfinite(out.sample).all()


# ---------------------------------------------------------------------- editing
@pytest.fixture(scope="module")
def gaussian():
    schedule = NoiseSchedule.cosine()
    return GaussianDiffusion(schedule), GaussianOracle(schedule, MU, SIGMA)


def test_ddim_inversion_round_trips(gaussian):
    d, model = gaussian
    x0 = sample_data(1000, seed=2)
    errors = []
    for iters in (0, 3):
        x_T = ddim_invert(d, model, x0, steps=50, fixed_point_iters=iters)
        rec = d.sample(model, x0.shape, sampler="ddim", steps=50, x_T=x_T, dtype=torch.float64).sample
        errors.append(float((rec - x0).pow(2).mean().sqrt()))
        assert torch.allclose(x_T.std(0), torch.ones(3, dtype=torch.float64), atol=0.1)  # noise-like
    assert errors[0] < 0.05 and errors[1] < 0.015 and errors[1] < errors[0], errors


def test_sdedit_keeps_structure_at_low_strength_and_forgets_it_at_full_strength(gaussian):
    d, model = gaussian
    x0 = sample_data(2000, seed=3)
    near = sdedit(d, model, x0, strength=0.1, steps=50, generator=torch.Generator().manual_seed(0)).sample
    assert float((near - x0).pow(2).mean().sqrt()) < 0.3
    far_in = torch.full_like(x0, 5.0)
    far = sdedit(d, model, far_in, strength=1.0, steps=50, generator=torch.Generator().manual_seed(0)).sample
    assert torch.allclose(far.mean(0), MU.double(), atol=0.08)
    half = sdedit(d, model, far_in, strength=0.5, sampler="ddpm", steps=50, generator=torch.Generator().manual_seed(0))
    assert half.nfe == 25 and (half.sample.mean(0) > MU.double() + 0.5).all()  # partly remembers the input
    with pytest.raises(ValueError, match=r"strength must lie in \(0, 1\]"):
        sdedit(d, model, x0, strength=0.0)


@pytest.mark.parametrize("steps,jump_length,jump_n_sample", [(100, 10, 1), (50, 5, 3)])
def test_inpainting_keeps_the_known_part_and_samples_the_conditional(gaussian, steps, jump_length, jump_n_sample):
    d, model = gaussian
    x0 = sample_data(2000, seed=4)
    keep = torch.tensor([[1.0, 0.0, 0.0]]).expand(2000, 3)
    out = inpaint(d, model, x0, keep, steps=steps, jump_length=jump_length, jump_n_sample=jump_n_sample,
                  generator=torch.Generator().manual_seed(0))
    assert torch.equal(out.sample[:, 0], x0[:, 0])
    S, mu = SIGMA.double(), MU.double()
    gain = S[1:, :1] / S[0, 0]  # Gaussian conditioning: E[x_u | x_k] = mu_u + S_uk S_kk^-1 (x_k - mu_k)
    resid = out.sample[:, 1:] - (mu[1:] + (x0[:, :1] - mu[0]) @ gain.T)
    cond_cov = S[1:, 1:] - gain @ S[:1, 1:]
    assert resid.mean(0).abs().max() < 0.05
    assert (torch.cov(resid.T) - cond_cov).abs().max() < 0.05
    walk = repaint_schedule(steps, jump_length, jump_n_sample)
    assert out.nfe == sum(1 for a, b in itertools.pairwise(walk) if b < a)  # one call per reverse move


def test_repaint_schedule_shape():
    walk = repaint_schedule(20, 5, 3)
    assert walk[0] == 19 and walk[-1] == -1
    moves = [b - a for a, b in itertools.pairwise(walk)]
    assert set(moves) == {-1, 1}
    # 3 jump points (levels 0, 5, 10), each revisited twice, 5 levels up and down again
    assert moves.count(-1) == 20 + 3 * 2 * 5 and moves.count(1) == 3 * 2 * 5
    assert repaint_schedule(20, 5, 1) == list(range(19, -2, -1))
