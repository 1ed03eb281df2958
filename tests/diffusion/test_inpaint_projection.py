"""inpaint's optional project_x0 hook: a projection of every x0 estimate onto a constraint set."""

import pytest
import torch

from tests.diffusion.oracle import MU, SIGMA, GaussianOracle, sample_data
from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule, inpaint

KEEP_FIRST = torch.tensor([[1.0, 0.0, 0.0]])  # keep coordinate 0, generate 1 and 2


@pytest.fixture(scope="module")
def gaussian():
    schedule = NoiseSchedule.cosine()
    return GaussianDiffusion(schedule), GaussianOracle(schedule, MU, SIGMA)


def run(gaussian, x0, **kwargs):
    d, model = gaussian
    keep = KEEP_FIRST.expand(x0.shape[0], 3)
    return inpaint(d, model, x0, keep, generator=torch.Generator().manual_seed(0), **kwargs)


@pytest.mark.parametrize("options", [{"steps": 40}, {"steps": 30, "jump_length": 5, "jump_n_sample": 3}])
def test_no_projection_and_the_identity_give_bit_identical_samples(gaussian, options):
    x0 = sample_data(300, seed=1)
    plain = run(gaussian, x0, **options)
    identity = run(gaussian, x0, project_x0=lambda x: x, **options)
    assert torch.equal(plain.sample, identity.sample)
    assert plain.nfe == identity.nfe


def test_a_projection_that_zeroes_a_coordinate_gives_samples_with_it_zero(gaussian):
    x0 = sample_data(500, seed=2)
    calls = []

    def zero_last(x):
        calls.append(tuple(x.shape))
        out = x.clone()
        out[:, 2] = 0.0
        return out

    out = run(gaussian, x0, steps=30, jump_length=5, jump_n_sample=2, project_x0=zero_last)
    assert torch.equal(out.sample[:, 2], torch.zeros(500, dtype=out.sample.dtype))
    assert torch.equal(out.sample[:, 0], x0[:, 0])  # the known part is still kept
    assert out.sample[:, 1].std() > 0.2  # the other unknown coordinate is still sampled
    assert calls == [(500, 3)] * out.nfe  # once per reverse step, on the whole x0 estimate
    plain = run(gaussian, x0, steps=30, jump_length=5, jump_n_sample=2)
    assert plain.sample[:, 2].abs().mean() > 0.1  # without it the coordinate is not zero


def test_a_linear_constraint_tying_generated_to_known_values_holds(gaussian):
    """x1 + x2 = x0 (a known coordinate): the orthogonal projection moves x1, x2 equally."""
    x0 = sample_data(500, seed=3)

    def tie(x):
        gap = (x0[:, 0] - x[:, 1] - x[:, 2]) / 2
        out = x.clone()
        out[:, 1] += gap
        out[:, 2] += gap
        return out

    out = run(gaussian, x0, steps=50, project_x0=tie).sample
    torch.testing.assert_close(out[:, 1] + out[:, 2], x0[:, 0], atol=1e-6, rtol=0)
    plain = run(gaussian, x0, steps=50).sample
    assert (plain[:, 1] + plain[:, 2] - x0[:, 0]).abs().mean() > 0.1


def test_a_projection_of_the_wrong_shape_is_refused(gaussian):
    x0 = sample_data(10, seed=4)
    with pytest.raises(ValueError, match=r"project_x0 returned \(10, 2\) for an x0 estimate of shape \(10, 3\)"):
        run(gaussian, x0, steps=5, project_x0=lambda x: x[:, :2])
    with pytest.raises(ValueError, match="project_x0 returned NoneType"):
        run(gaussian, x0, steps=5, project_x0=lambda x: None)
