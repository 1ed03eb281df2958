"""Training losses, masks, weighting and the variational bound."""

import math

import pytest
import torch

from tests.diffusion.oracle import MU, SIGMA, GaussianOracle, sample_data
from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule
from vhdiff.diffusion.likelihood import discretized_gaussian_log_likelihood


class Linear(torch.nn.Module):
    """A tiny per-element model: out = w * x + b(t); optionally the (prediction, v) pair."""

    def __init__(self, learn_variance=False):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(0.5))
        self.v = torch.nn.Parameter(torch.tensor(0.1))
        self.learn_variance = learn_variance
        self.seen = {}

    def forward(self, x, t, **cond):
        self.seen = cond
        out = self.w * x + 0.001 * t.float().view(-1, *[1] * (x.ndim - 1))
        return (out, self.v * torch.ones_like(x)) if self.learn_variance else out


@pytest.mark.parametrize("prediction", ["eps", "x0", "v"])
def test_mse_targets_per_prediction(prediction):
    schedule = NoiseSchedule.cosine(T=100)
    d = GaussianDiffusion(schedule, prediction=prediction)
    x0 = torch.randn(6, 4, 5)
    noise = torch.randn(6, 4, 5)
    t = torch.randint(0, 100, (6,))
    target = {"eps": noise, "x0": x0, "v": schedule.velocity(x0, noise, t)}[prediction]

    def perfect(x_t, t_, **c):
        return target

    losses = d.training_losses(perfect, x0, t=t, noise=noise)
    assert losses.loss.shape == (6,) and torch.allclose(losses.loss, torch.zeros(6), atol=1e-10)
    off = d.training_losses(lambda x_t, t_, **c: target + 1.0, x0, t=t, noise=noise)
    assert torch.allclose(off.loss, torch.ones(6))


def test_mask_excludes_padding_from_loss_and_reaches_the_model():
    d = GaussianDiffusion(NoiseSchedule.linear(T=50), prediction="x0")
    x0 = torch.randn(3, 10, 4)
    mask = torch.ones(3, 10, dtype=torch.bool)
    mask[0, 6:] = False
    mask[2, 2:] = False
    model = Linear()
    t, noise = torch.tensor([5, 20, 40]), torch.randn(3, 10, 4)
    a = d.training_losses(model, x0, t=t, noise=noise, mask=mask)
    assert model.seen["mask"] is mask
    x0_garbage = x0.clone()
    x0_garbage[~mask] = 1e3  # padding content must not matter
    noise_g = noise.clone()
    noise_g[~mask] = -1e3
    b = d.training_losses(model, x0_garbage, t=t, noise=noise_g, mask=mask)
    assert torch.allclose(a.loss, b.loss)
    # and it is the mean over real elements only
    pred = model(d.schedule.q_sample(x0, t, noise), t)
    manual = ((pred - x0) ** 2)[0, :6].mean()
    assert torch.allclose(a.loss[0], manual)


def test_min_snr_weighting():
    schedule = NoiseSchedule.cosine(T=1000)
    for prediction in ("eps", "x0", "v"):
        d = GaussianDiffusion(schedule, prediction=prediction, loss_weighting="min_snr", min_snr_gamma=5.0)
        t = torch.tensor([10, 500, 990])
        snr = schedule.snr(t)
        expected = {
            "eps": torch.minimum(snr, torch.tensor(5.0, dtype=torch.float64)) / snr,
            "x0": torch.minimum(snr, torch.tensor(5.0, dtype=torch.float64)),
            "v": torch.minimum(snr, torch.tensor(5.0, dtype=torch.float64)) / (snr + 1),
        }[prediction]
        assert torch.allclose(d.min_snr_weight(t).double(), expected, rtol=1e-6)
        x0, noise = torch.randn(3, 2), torch.randn(3, 2)
        plain = GaussianDiffusion(schedule, prediction=prediction).training_losses(Linear(), x0, t=t, noise=noise)
        weighted = d.training_losses(Linear(), x0, t=t, noise=noise)
        assert torch.allclose(weighted.loss, plain.loss * expected.float(), rtol=1e-5)


def test_hybrid_loss_stops_the_mean_gradient_in_the_vlb_term():
    schedule = NoiseSchedule.cosine(T=100)
    x0, noise, t = torch.randn(8, 3), torch.randn(8, 3), torch.randint(1, 100, (8,))
    hybrid = GaussianDiffusion(schedule, variance="learned_range", loss="hybrid", vlb_weight=1.0)
    model = Linear(learn_variance=True)
    out = hybrid.training_losses(model, x0, t=t, noise=noise)
    assert out.mse is not None and out.vlb is not None
    torch.autograd.backward(out.vlb.sum())
    assert model.w.grad is None or float(model.w.grad.abs()) == 0.0  # mean: no VLB gradient
    assert float(model.v.grad.abs()) > 0  # variance learns from the VLB
    vlb_only = GaussianDiffusion(schedule, variance="learned_range", loss="vlb")
    model2 = Linear(learn_variance=True)
    torch.autograd.backward(vlb_only.training_losses(model2, x0, t=t, noise=noise).loss.sum())
    assert float(model2.w.grad.abs()) > 0  # with loss="vlb" the mean learns from the bound


def test_learned_range_interpolates_log_betas():
    schedule = NoiseSchedule.linear(T=100)
    d = GaussianDiffusion(schedule, variance="learned_range", loss="hybrid")
    x = torch.zeros(1, 2)
    t = torch.tensor([40])
    for v, expected in ((1.0, schedule.log_betas[40]), (-1.0, schedule.posterior_log_variance_clipped[40])):
        _, log_var = d.reverse_variance(t, x, torch.full_like(x, v))
        assert torch.allclose(log_var, torch.full_like(x, float(expected)))


def test_discretized_decoder_is_a_distribution_over_bins():
    bins = 256
    centres = torch.linspace(-1, 1, bins, dtype=torch.float64)
    mean = torch.full_like(centres, 0.13)
    for log_scale in (-4.0, -1.0, 0.5):
        ll = discretized_gaussian_log_likelihood(centres, mean=mean, log_scale=torch.full_like(centres, log_scale))
        assert float(ll.exp().sum()) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(
    "variance,gap_range",
    # the ideal (diagonal) variance makes the bound tight; fixed variances loosen it
    # (improved DDPM, fig. 2): beta_t a little, the posterior's beta~_t a lot
    [("learned_range", (-0.07, 0.1)), ("fixed_large", (0.08, 0.3)), ("fixed_small", (0.6, 1.5))],
)
def test_vlb_of_exact_model_is_finite_and_close_to_true_nll(variance, gap_range):
    schedule = NoiseSchedule.cosine(T=200)
    model = GaussianOracle(schedule, MU, SIGMA)
    model.learn_variance = variance == "learned_range"
    d = GaussianDiffusion(schedule, variance=variance, loss="hybrid" if model.learn_variance else "mse")
    x0 = sample_data(2048, seed=1)  # the per-sample estimate has sd ~0.9 bits: average many
    terms = d.vlb_terms(model, x0, generator=torch.Generator().manual_seed(0))
    nll = model.nll_bits_per_dim(x0).mean()
    assert torch.isfinite(terms.total).all() and terms.terms.shape == (2048, 200)
    assert torch.allclose(terms.total, terms.prior + terms.terms.sum(1))
    gap = float(terms.total.mean() - nll)
    assert gap_range[0] < gap < gap_range[1], gap
    assert float(terms.prior.mean()) < 1e-4  # q(x_T | x_0) is pure noise


def test_vlb_of_a_bad_model_is_much_worse():
    schedule = NoiseSchedule.cosine(T=200)
    d = GaussianDiffusion(schedule, variance="fixed_large")
    x0 = sample_data(64)
    good = d.vlb_terms(GaussianOracle(schedule, MU, SIGMA), x0).total.mean()
    bad = d.vlb_terms(lambda x, t: torch.zeros_like(x), x0).total.mean()
    assert bad > good + 0.5


def test_masked_vlb_counts_real_elements_only():
    schedule = NoiseSchedule.linear(T=20)
    d = GaussianDiffusion(schedule, variance="fixed_large")
    x0 = torch.randn(2, 6, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    model = lambda x, t, mask=None: torch.zeros_like(x)
    a = d.vlb_terms(model, x0, mask=mask, generator=torch.Generator().manual_seed(0))
    b = d.vlb_terms(model, x0[:, :3], generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a.prior[0], b.prior[0])


# ---------------------------------------------------------------------- bad input
def test_unknown_option_names_the_valid_ones():
    for kw, bad in (("prediction", "score"), ("variance", "learned"), ("loss", "l1"),
                    ("decoder", "laplace"), ("loss_weighting", "snr")):
        with pytest.raises(ValueError, match=f"unknown {kw} '{bad}'; valid options: "):
            GaussianDiffusion(NoiseSchedule.linear(T=10), **{kw: bad})
    with pytest.raises(ValueError, match="loss='hybrid'"):
        GaussianDiffusion(NoiseSchedule.linear(T=10), variance="learned_range", loss="mse")


def test_bad_timesteps_and_outputs():
    d = GaussianDiffusion(NoiseSchedule.linear(T=10))
    x0 = torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"timesteps must lie in \[0, 10\); got min 0, max 10"):
        d.training_losses(Linear(), x0, t=torch.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"timesteps must lie in \[0, 10\); got min -1"):
        d.training_losses(Linear(), x0, t=torch.tensor([-1, 3]))
    with pytest.raises(ValueError, match="t has 3 entries but the batch has 2"):
        d.training_losses(Linear(), x0, t=torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"shape \(2, 4\) but x_t has shape \(2, 3\)"):
        d.training_losses(lambda x, t: torch.zeros(2, 4), x0)
    with pytest.raises(ValueError, match="return the pair"):
        GaussianDiffusion(NoiseSchedule.linear(T=10), variance="learned_range", loss="hybrid").training_losses(Linear(), x0)
    with pytest.raises(ValueError, match="returned a pair"):
        d.training_losses(Linear(learn_variance=True), x0)
    with pytest.raises(ValueError, match="does not broadcast"):
        d.training_losses(Linear(), torch.randn(2, 5, 3), mask=torch.ones(2, 4))
    assert math.isfinite(float(d.training_losses(Linear(), x0).loss.detach().sum()))
