"""NoiseSchedule and GaussianDiffusion to and from their flat configs (pipeline.json's keys)."""

import json
from pathlib import Path

import pytest
import torch

import vhdiff
from vhdiff.diffusion import DiffusionConfig, GaussianDiffusion, NoiseSchedule, ScheduleConfig

BUNDLED = Path(vhdiff.__file__).parent / "assets" / "motion_default" / "pipeline.json"


# the bundled model's "diffusion" section as format 1 wrote it, before timestep sampling moved
# to the trainer
LEGACY_SECTION = {
    "prediction": "x0", "variance": "fixed_small", "loss": "mse", "loss_weighting": None,
    "min_snr_gamma": 5.0, "vlb_weight": 0.001, "decoder": "continuous", "decoder_bins": 256,
    "timestep_sampling": "uniform", "extra": {}, "schedule": "cosine", "timesteps": 1000,
    "beta_start": 0.0001, "beta_end": 0.02, "cosine_s": 0.008, "zero_terminal_snr": False,
}


def test_the_bundled_pipeline_section_loads_unchanged_and_writes_back_without_the_legacy_key():
    section = LEGACY_SECTION
    now = json.loads(BUNDLED.read_text())["diffusion"]
    assert now == {k: v for k, v in section.items() if k != "timestep_sampling"}
    diffusion = GaussianDiffusion.from_dict(section)
    assert diffusion.prediction == "x0" and diffusion.num_timesteps == 1000
    assert torch.equal(diffusion.schedule.betas, NoiseSchedule.cosine().betas)
    written = diffusion.to_dict()
    assert written == {k: v for k, v in section.items() if k != "timestep_sampling"}
    assert json.loads(json.dumps(written)) == written  # JSON-ready


@pytest.mark.parametrize("keys", [
    {"schedule": "linear", "timesteps": 50, "beta_end": 0.05, "prediction": "v"},
    {"schedule": "linear", "zero_terminal_snr": True, "prediction": "v", "variance": "fixed_large"},
    {"schedule": "sigmoid", "timesteps": 200, "loss": "hybrid", "variance": "learned_range", "extra": {"a": 1}},
    {},
])
def test_round_trips(keys):
    first = GaussianDiffusion.from_dict(keys)
    again = GaussianDiffusion.from_dict(first.to_dict())
    assert again.config == first.config == DiffusionConfig(**keys)
    assert torch.equal(again.schedule.betas, first.schedule.betas)
    assert GaussianDiffusion.from_config(first.config).options == first.options


def test_constructors_carry_their_config_and_custom_betas_do_not():
    lin = NoiseSchedule.linear(T=10, beta_start=1e-3, beta_end=0.2)
    assert lin.config == ScheduleConfig(schedule="linear", timesteps=10, beta_start=1e-3, beta_end=0.2)
    assert NoiseSchedule.from_dict(lin.to_dict()).betas.equal(lin.betas)
    assert lin.rescale_zero_terminal_snr().config.zero_terminal_snr
    assert NoiseSchedule.cosine(max_beta=0.5).config is None  # a config cannot say max_beta
    custom = GaussianDiffusion(NoiseSchedule.from_betas([0.1, 0.2]))
    with pytest.raises(ValueError, match="built from explicit betas"):
        custom.to_dict()
    assert custom.options.prediction == "eps"  # the options are there all the same


def test_bad_keys_and_values_name_what_is_valid():
    with pytest.raises(ValueError, match=r"unknown diffusion config key 'predction'; valid keys: schedule, timesteps, .*prediction"):
        GaussianDiffusion.from_dict({"predction": "x0"})
    with pytest.raises(ValueError, match=r"unknown schedule 'quad'; valid options: 'linear', 'cosine', 'sigmoid'"):
        DiffusionConfig(schedule="quad")
    with pytest.raises(ValueError, match="prediction='v' or 'x0'"):
        DiffusionConfig(zero_terminal_snr=True)  # eps at zero terminal SNR
    with pytest.raises(ValueError, match="beta_start"):
        ScheduleConfig(schedule="linear", beta_start=0.1, beta_end=0.01)
    with pytest.raises(ValueError, match="unknown schedule config key 'prediction'"):
        ScheduleConfig.from_dict({"prediction": "x0"})
