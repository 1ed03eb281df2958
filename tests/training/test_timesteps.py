"""Timestep sampling is the trainer's: uniform or loss-aware importance sampling, weighted once."""

import pytest
import torch

from tests.training.helpers import TOY_CONFIG, tiny_trainer
from vhdiff.config import load_config
from vhdiff.diffusion import TrainingLosses
from vhdiff.training import LossSecondMomentTimesteps, TrainerConfig, build_timestep_sampler


def test_importance_sampler_follows_the_loss_second_moment():
    sampler = LossSecondMomentTimesteps(num_timesteps=4, history=3, uniform_prob=0.0)
    t, w = sampler.sample(1000, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert torch.allclose(w, torch.ones(1000)) and not sampler.warmed_up
    for _ in range(3):
        sampler.update(torch.arange(4), torch.tensor([1.0, 1.0, 2.0, 4.0]))
    assert sampler.warmed_up
    p = sampler.probabilities()
    assert torch.allclose(p, torch.tensor([1, 1, 2, 4], dtype=torch.float64) / 8)
    t, w = sampler.sample(20_000, torch.device("cpu"), torch.Generator().manual_seed(0))
    freq = torch.bincount(t, minlength=4).double() / 20_000
    assert torch.allclose(freq, p, atol=0.01)
    assert torch.allclose(w, (1 / (4 * p[t])).float())  # unbiased: E[w L_t] = mean_t L_t
    assert isinstance(build_timestep_sampler("loss_second_moment", num_timesteps=4), LossSecondMomentTimesteps)


def test_the_trainer_applies_importance_weights_once_and_feeds_the_sampler(tmp_path):
    trainer = tiny_trainer(tmp_path, timestep_sampling="loss_second_moment", T=10, batch_size=4)
    sampler = trainer.timestep_sampler
    assert isinstance(sampler, LossSecondMomentTimesteps)
    weights = torch.tensor([0.5, 1.0, 2.0, 4.0])
    per_sample = torch.tensor([1.0, 2.0, 3.0, 4.0])
    t = torch.tensor([1, 2, 3, 4])
    sampler.sample = lambda n, device, generator: (t, weights)
    seen = {}

    def losses(model, x0, t=None, noise=None, mask=None, **cond):
        seen["t"] = t
        return TrainingLosses(loss=per_sample.clone(), t=t, vlb=per_sample * 10)

    trainer.diffusion.training_losses = losses
    loss = trainer._micro_loss(torch.zeros(4, 2))
    assert torch.equal(seen["t"], t)
    assert float(loss) == pytest.approx(float((per_sample * weights).mean()))  # weighted once
    assert sampler.loss_counts[1:5].tolist() == [1, 1, 1, 1]  # fed the VLB terms
    assert sampler.loss_history[4, 0] == 40.0


def test_uniform_sampling_needs_no_feedback_and_keeps_no_state(tmp_path):
    trainer = tiny_trainer(tmp_path)
    assert not trainer.timestep_sampler.learns_from_losses
    assert trainer.training_state()["timestep_sampler"] is None


def test_a_bad_timestep_sampling_names_the_valid_ones():
    with pytest.raises(ValueError, match="trainer.timestep_sampling must be one of uniform, loss_second_moment"):
        TrainerConfig(timestep_sampling="cosine")


def test_the_old_diffusion_key_still_loads_as_the_trainer_setting(tmp_path):
    with pytest.warns(DeprecationWarning, match="diffusion.timestep_sampling .* trainer.timestep_sampling"):
        cfg = load_config(TOY_CONFIG, ["diffusion.timestep_sampling=loss_second_moment"])
    assert cfg.trainer.timestep_sampling == "loss_second_moment"
    old = tmp_path / "old.yaml"  # a checkpoint's config.yaml from before the move
    old.write_text("diffusion:\n  timestep_sampling: uniform\n")
    with pytest.warns(DeprecationWarning):
        assert load_config(old).trainer.timestep_sampling == "uniform"
    with pytest.raises(ValueError, match="keep only trainer.timestep_sampling"):
        load_config(TOY_CONFIG, ["diffusion.timestep_sampling=uniform", "trainer.timestep_sampling=loss_second_moment"])
