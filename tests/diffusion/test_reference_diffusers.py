"""Cross-checks against diffusers' schedulers (a test-only reference)."""

import subprocess
import sys

import pytest
import torch

from tests.diffusion.oracle import MU, SIGMA, GaussianOracle
from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule

diffusers = pytest.importorskip("diffusers")


def test_betas_match_diffusers():
    lin = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    assert torch.allclose(NoiseSchedule.linear().betas.float(), lin.betas, atol=1e-7)
    cos = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    assert torch.allclose(NoiseSchedule.cosine().betas.float(), cos.betas, atol=1e-6)
    zt = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", rescale_betas_zero_snr=True)
    assert torch.allclose(NoiseSchedule.linear().rescale_zero_terminal_snr().alphas_cumprod.float(), zt.alphas_cumprod, atol=1e-6)


def _diffusers_loop(scheduler, model, x, steps):
    scheduler.set_timesteps(steps)
    for t in scheduler.timesteps:
        out = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))
        x = scheduler.step(out, t, x).prev_sample
    return x, scheduler.timesteps


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_ddim_matches_diffusers_ddim(prediction):
    ours_pred = {"epsilon": "eps", "v_prediction": "v"}[prediction]
    schedule = NoiseSchedule.linear()
    model = GaussianOracle(schedule, MU, SIGMA, ours_pred)
    x_T = torch.randn(256, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sched = diffusers.DDIMScheduler(
        num_train_timesteps=1000, beta_schedule="linear", timestep_spacing="trailing",
        set_alpha_to_one=True, prediction_type=prediction, clip_sample=False,
    )
    theirs, their_ts = _diffusers_loop(sched, model, x_T, 50)
    ours = GaussianDiffusion(schedule, prediction=ours_pred).sample(
        model, x_T.shape, sampler="ddim", steps=50, x_T=x_T, timestep_spacing="trailing")
    assert ours.timesteps.tolist() == their_ts.tolist()
    assert torch.allclose(ours.sample, theirs.to(ours.sample.dtype), atol=1e-4)


def test_dpm_solver_pp_2m_matches_diffusers():
    schedule = NoiseSchedule.cosine()
    model = GaussianOracle(schedule, MU, SIGMA)
    x_T = torch.randn(256, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sched = diffusers.DPMSolverMultistepScheduler(
        num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", algorithm_type="dpmsolver++",
        solver_order=2, timestep_spacing="trailing", final_sigmas_type="zero", lower_order_final=True,
    )
    theirs, their_ts = _diffusers_loop(sched, model, x_T, 20)
    ours = GaussianDiffusion(schedule).sample(
        model, x_T.shape, sampler="dpm++", steps=20, x_T=x_T, timestep_spacing="trailing")
    assert ours.timesteps.tolist() == their_ts.tolist()
    assert torch.allclose(ours.sample, theirs.to(ours.sample.dtype), atol=2e-3)


def test_importing_the_core_pulls_no_heavy_packages():
    code = (
        "import sys, vhdiff.diffusion; "
        "bad = [m for m in ('open_clip', 'smplx', 'pyrender', 'trimesh', 'torchvision', 'diffusers') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
