"""Loss hooks: extra per-sample losses on the model's x0 estimate, added by the trainer."""

import pytest
import torch

from tests.training.helpers import tiny_trainer
from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule
from vhdiff.registry import LOSS_HOOKS, register_loss_hook
from vhdiff.training import LossContext


def test_training_losses_return_the_x0_estimate():
    diffusion = GaussianDiffusion(NoiseSchedule.cosine(T=20), prediction="eps")
    x0 = torch.randn(4, 3)

    def model(x_t, t, **cond):
        return torch.zeros_like(x_t)  # eps = 0, so x0_hat = x_t / sqrt(alpha_bar)

    t = torch.tensor([0, 5, 10, 19])
    noise = torch.randn(4, 3)
    out = diffusion.training_losses(model, x0, t=t, noise=noise)
    x_t = diffusion.schedule.q_sample(x0, t, noise)
    abar = diffusion.schedule.alphas_cumprod[t].float()[:, None]
    torch.testing.assert_close(out.pred_x0, x_t / abar.sqrt(), rtol=1e-5, atol=1e-5)


def test_a_loss_hook_changes_training_and_sees_the_batch(tmp_path):
    seen = []

    def pull_to_origin(ctx: LossContext) -> torch.Tensor:
        seen.append((ctx.x0.shape, ctx.pred_x0.requires_grad, ctx.t.shape))
        return 100.0 * ctx.pred_x0.pow(2).mean(dim=1)

    plain = tiny_trainer(tmp_path / "plain", max_steps=40, ema_decay=0)
    plain.fit()
    hooked = tiny_trainer(tmp_path / "hooked", max_steps=40, ema_decay=0)
    hooked.add_loss_hook(pull_to_origin)
    hooked.fit()
    assert len(seen) == 40 and seen[0] == (torch.Size([16, 2]), True, torch.Size([16]))
    # the hook pulls every x0 estimate to 0: the hooked model's estimates shrink
    x_t, t = torch.randn(256, 2), torch.full((256,), 45)
    def estimate(trainer):
        with torch.no_grad():
            return trainer.diffusion.denoise(trainer.raw_model, x_t, t).pred_x0.norm(dim=1).mean()
    assert estimate(hooked) < 0.9 * estimate(plain)  # identical runs without the hook


def test_a_hook_with_the_wrong_shape_is_named(tmp_path):
    trainer = tiny_trainer(tmp_path, max_steps=2)
    trainer.add_loss_hook(lambda ctx: ctx.pred_x0.sum())
    with pytest.raises(ValueError, match="per-sample loss of shape"):
        trainer.fit()
    with pytest.raises(ValueError, match="must be callable"):
        trainer.add_loss_hook("not a function")


def test_loss_hooks_are_registered_by_name():
    register_loss_hook("test_zero_hook", lambda scale=1.0: (lambda ctx: 0 * scale * ctx.t.float()))
    hook = LOSS_HOOKS.build("test_zero_hook", {"scale": 2.0})
    assert callable(hook)
    with pytest.raises(ValueError, match="unknown parameter"):
        LOSS_HOOKS.build("test_zero_hook", {"scael": 2.0})
