"""Samplers with the exact denoiser of Gaussian data reproduce the data distribution."""

import pytest
import torch

from tests.diffusion.oracle import MU, SIGMA, GaussianOracle
from vhdiff.diffusion import (
    SAMPLER_NAMES,
    SAMPLERS,
    SPACINGS,
    GaussianDiffusion,
    NoiseSchedule,
    timestep_grid,
)

N = 6000


def _stats_error(x):
    mean_err = (x.mean(0) - MU.double()).abs().max().item()
    cov_err = (torch.cov(x.T) - SIGMA.double()).abs().max().item()
    return mean_err, cov_err


FAST = [("ddim", 50, 0.06), ("dpm++", 20, 0.05), ("dpm-hybrid", 20, 0.05), ("ddpm", 100, 0.08)]


@pytest.mark.parametrize(
    "prediction,sampler,steps,cov_tol",
    [("eps", "ddpm", None, 0.04)]
    + [pytest.param(p, "ddpm", None, 0.04, marks=pytest.mark.slow) for p in ("x0", "v")]
    + [(p, *case) for p in ("eps", "x0", "v") for case in FAST],
)
def test_exact_model_reproduces_gaussian_data(prediction, sampler, steps, cov_tol):
    schedule = NoiseSchedule.cosine(T=1000)
    model = GaussianOracle(schedule, MU, SIGMA, prediction)
    diffusion = GaussianDiffusion(schedule, prediction=prediction)
    g = torch.Generator().manual_seed(3)
    out = diffusion.sample(model, (N, 3), sampler=sampler, steps=steps, generator=g, dtype=torch.float64)
    mean_err, cov_err = _stats_error(out.sample)
    assert mean_err < 0.04, mean_err
    assert cov_err < cov_tol, cov_err
    assert out.nfe == (steps or 1000) == model.calls


def test_a_wrong_model_fails_the_same_check():
    """The statistics test above can fail: a denoiser for the wrong covariance is caught."""
    schedule = NoiseSchedule.cosine(T=1000)
    wrong = GaussianOracle(schedule, MU, SIGMA * 1.5)
    out = GaussianDiffusion(schedule).sample(
        wrong, (N, 3), sampler="dpm++", steps=20, generator=torch.Generator().manual_seed(3),
        dtype=torch.float64,
    )
    assert _stats_error(out.sample)[1] > 0.1


def test_zero_terminal_snr_with_v_prediction_samples_correctly():
    schedule = NoiseSchedule.linear().rescale_zero_terminal_snr()
    model = GaussianOracle(schedule, MU, SIGMA, "v")
    diffusion = GaussianDiffusion(schedule, prediction="v")
    for sampler, steps in (("ddim", 50), ("dpm++", 25), ("dpm-hybrid", 25)):
        out = diffusion.sample(model, (N, 3), sampler=sampler, steps=steps,
                               generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        mean_err, cov_err = _stats_error(out.sample)
        assert mean_err < 0.04 and cov_err < 0.06, (sampler, mean_err, cov_err)


def test_ddim_eta1_is_ddpm_on_the_same_grid():
    """DDIM with eta=1 has DDPM's posterior variance: same noise -> the same trajectory."""
    schedule = NoiseSchedule.linear()
    model = GaussianOracle(schedule, MU, SIGMA)
    diffusion = GaussianDiffusion(schedule)
    x_T = torch.randn(500, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    grid = timestep_grid(1000, 40, "trailing")
    a = diffusion.sample(model, x_T.shape, sampler="ddim", eta=1.0, timesteps=grid, x_T=x_T,
                         generator=torch.Generator().manual_seed(7)).sample
    b = diffusion.sample(model, x_T.shape, sampler="ddpm", timesteps=grid, x_T=x_T,
                         generator=torch.Generator().manual_seed(7)).sample
    assert torch.allclose(a, b, atol=1e-9)
    c = diffusion.sample(model, x_T.shape, sampler="ddim", eta=0.0, timesteps=grid, x_T=x_T).sample
    assert not torch.allclose(a, c, atol=1e-3)


def test_same_seed_same_samples_and_x_T_is_honoured():
    schedule = NoiseSchedule.cosine()
    diffusion = GaussianDiffusion(schedule)
    model = GaussianOracle(schedule, MU, SIGMA)
    runs = [
        diffusion.sample(model, (8, 3), sampler="ddpm", steps=30, generator=torch.Generator().manual_seed(5)).sample
        for _ in range(2)
    ]
    assert torch.equal(runs[0], runs[1])
    other = diffusion.sample(model, (8, 3), sampler="ddpm", steps=30, generator=torch.Generator().manual_seed(6)).sample
    assert not torch.equal(runs[0], other)
    x_T = torch.randn(8, 3)
    d1 = diffusion.sample(model, (8, 3), sampler="ddim", steps=10, x_T=x_T).sample
    d2 = diffusion.sample(model, (8, 3), sampler="ddim", steps=10, x_T=x_T.clone()).sample
    assert torch.equal(d1, d2)


def test_intermediates_at_requested_steps():
    schedule = NoiseSchedule.cosine()
    diffusion = GaussianDiffusion(schedule)
    model = GaussianOracle(schedule, MU, SIGMA)
    x_T = torch.randn(4, 3)
    out = diffusion.sample(model, (4, 3), sampler="ddpm", x_T=x_T, return_intermediates=(999, 750, 500, 250))
    assert set(out.intermediates) == {999, 750, 500, 250}
    assert torch.equal(out.intermediates[999], x_T)
    assert set(out.pred_x0) == set(out.intermediates)
    # the noise level falls along the chain: later states are closer to their x0 estimate
    gaps = [(out.intermediates[k] - out.pred_x0[k]).norm() for k in (999, 500, 250)]
    assert gaps[0] > gaps[1] > gaps[2]


def test_timestep_grids():
    assert timestep_grid(1000, 10, "trailing").tolist() == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    assert timestep_grid(1000, 10, "leading").tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert timestep_grid(1000, 4, "linspace").tolist() == [999, 666, 333, 0]
    assert timestep_grid(1000, 1000, "trailing").tolist() == list(range(999, -1, -1))
    for spacing in SPACINGS:  # every spacing keeps all T steps when asked for T
        assert timestep_grid(NoiseSchedule.cosine(T=100), 100, spacing).tolist() == list(range(99, -1, -1))


@pytest.mark.parametrize("schedule", [NoiseSchedule.linear(), NoiseSchedule.cosine(),
                                      NoiseSchedule.linear().rescale_zero_terminal_snr()])
@pytest.mark.parametrize("spacing", ["logsnr", "karras"])
@pytest.mark.parametrize("steps", [2, 5, 10, 20, 50])
def test_logsnr_and_karras_grids_run_from_T_minus_1_to_0_with_every_point_distinct(schedule, spacing, steps):
    grid = timestep_grid(schedule, steps, spacing)
    assert grid.numel() == steps and grid[0] == 999 and grid[-1] == 0
    assert (grid[1:] < grid[:-1]).all()


def test_logsnr_grid_is_uniform_in_log_snr():
    s = NoiseSchedule.linear()
    log_snr = torch.log(s.alphas_cumprod / (1 - s.alphas_cumprod))
    gaps = log_snr[timestep_grid(s, 10, "logsnr")].diff()
    assert (gaps.max() - gaps.min()) / gaps.mean().abs() < 0.1  # as even as integer indices allow
    # cosine's clipped last beta: log-SNR drops by 7 from t = 998 to 999, where a uniform
    # grid would put a second point; the rest is re-planned, the grid keeps its 10 points
    cos = NoiseSchedule.cosine()
    grid = timestep_grid(cos, 10, "logsnr")
    assert grid[:2].tolist() == [999, 998]
    rest = torch.log(cos.alphas_cumprod / (1 - cos.alphas_cumprod))[grid[1:]].diff()
    assert (rest.max() - rest.min()) / rest.mean().abs() < 0.1
    with pytest.raises(ValueError, match="needs the NoiseSchedule"):
        timestep_grid(1000, 10, "logsnr")


def test_sampler_table_and_default_spacings():
    assert tuple(SAMPLERS) == SAMPLER_NAMES == ("ddpm", "ddim", "dpm++", "dpm-hybrid")
    schedule = NoiseSchedule.linear()
    diffusion, model = GaussianDiffusion(schedule), GaussianOracle(schedule, MU, SIGMA)
    for name, spec in SAMPLERS.items():
        out = diffusion.sample(model, (4, 3), sampler=name, steps=8)  # None: the sampler's default
        assert out.timesteps.tolist() == timestep_grid(schedule, 8, spec.default_spacing).tolist()
        explicit = diffusion.sample(model, (4, 3), sampler=name, steps=8, timestep_spacing="leading")
        assert explicit.timesteps.tolist() == timestep_grid(schedule, 8, "leading").tolist()
    assert SAMPLERS["dpm++"].default_spacing == SAMPLERS["dpm-hybrid"].default_spacing == "logsnr"


def test_clipping_is_off_by_default_and_available():
    schedule = NoiseSchedule.cosine()
    diffusion = GaussianDiffusion(schedule)
    big = GaussianOracle(schedule, MU * 10, SIGMA)
    x = diffusion.sample(big, (200, 3), sampler="ddim", steps=20, generator=torch.Generator().manual_seed(0)).sample
    assert x.abs().max() > 2  # no hidden clipping: data outside [-1, 1] survives
    y = diffusion.sample(big, (200, 3), sampler="ddim", steps=20, clip_denoised=1.0,
                         generator=torch.Generator().manual_seed(0)).sample
    assert y.abs().max() <= 1.0 + 1e-5
    z = diffusion.sample(big, (200, 3), sampler="ddim", steps=20, dynamic_threshold=0.9,
                         generator=torch.Generator().manual_seed(0)).sample
    assert z.abs().max() <= 1.0 + 1e-5


# ---------------------------------------------------------------------- bad input
def _zero(x, t, **cond):
    return torch.zeros_like(x)


def test_bad_sampler_arguments():
    diffusion = GaussianDiffusion(NoiseSchedule.linear(T=100))
    with pytest.raises(ValueError, match="unknown sampler 'euler'.*'ddpm', 'ddim', 'dpm\\+\\+', 'dpm-hybrid'"):
        diffusion.sample(_zero, (2, 3), sampler="euler")
    with pytest.raises(ValueError, match=r"steps must be an int in \[1, 100\]"):
        diffusion.sample(_zero, (2, 3), sampler="ddim", steps=101)
    with pytest.raises(ValueError, match=r"steps must be an int in \[1, 100\]"):
        diffusion.sample(_zero, (2, 3), sampler="ddim", steps=0)
    with pytest.raises(ValueError, match="timestep_spacing"):
        diffusion.sample(_zero, (2, 3), sampler="ddim", steps=5, timestep_spacing="uniform")
    with pytest.raises(ValueError, match="strictly decreasing"):
        diffusion.sample(_zero, (2, 3), sampler="ddim", timesteps=[10, 20])
    with pytest.raises(ValueError, match=r"lie in \[0, 100\)"):
        diffusion.sample(_zero, (2, 3), sampler="ddim", timesteps=[100, 20])
    with pytest.raises(ValueError, match="x_T has shape"):
        diffusion.sample(_zero, (2, 3), x_T=torch.zeros(2, 4))


def test_wrong_model_output_shape_names_both_shapes():
    diffusion = GaussianDiffusion(NoiseSchedule.linear(T=100))
    with pytest.raises(ValueError, match=r"shape \(2, 4\) but x_t has shape \(2, 3\)"):
        diffusion.sample(lambda x, t: torch.zeros(2, 4), (2, 3), sampler="ddim", steps=5)


def test_nan_in_model_output_names_the_step():
    diffusion = GaussianDiffusion(NoiseSchedule.linear(T=100))

    def nan_late(x, t, **cond):
        return torch.full_like(x, float("nan")) if int(t[0]) < 50 else torch.zeros_like(x)

    with pytest.raises(FloatingPointError, match=r"NaN at sampling step 5 \(training timestep t=49\)"):
        diffusion.sample(nan_late, (2, 3), sampler="ddim", steps=10)
