"""A tiny built-in human image set (24 renders of 32x32) and tiny random image pipeline
folders (unconditional and text-conditional, T = 40, the discretized decoder with learned
variances), made once per test session."""

from __future__ import annotations

import pytest
import torch

TINY_T = 40


@pytest.fixture(scope="session")
def tiny_image_set(tmp_path_factory):
    from vhdiff.data_prep.human_images import write_human_images

    out = tmp_path_factory.mktemp("images") / "set"
    write_human_images(out, num=24, size=32, seed=5)
    return out


def tiny_unet(*, text: bool):
    from vhdiff.backbones import UNet

    return UNet(
        image_size=32, base_channels=16, channel_mults=(1, 2), num_res_blocks=1, attention_resolutions=(16,),
        norm_groups=4, num_heads=2, dropout=0.0, cond_dim=384 if text else None, learn_variance=True,
    )


TINY_DIFFUSION = {"timesteps": TINY_T, "prediction": "eps", "variance": "learned_range", "loss": "hybrid",
                  "decoder": "discretized"}


def _tiny_pipeline(tmp_path_factory, condition: str):
    import torch

    from vhdiff.image.pipeline import ImagePipeline

    torch.manual_seed(0)
    model = tiny_unet(text=condition == "text")
    with torch.no_grad():  # the zero-initialised output layers would make every prediction 0
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    pipe = ImagePipeline(
        model=model, diffusion=TINY_DIFFUSION, condition=condition,
        text_encoder={"name": "minilm", "params": {}} if condition == "text" else None,
    )
    pipe.generation = pipe.generation.replace(steps=4)
    return pipe.save_pretrained(tmp_path_factory.mktemp("image_pipelines") / condition)


@pytest.fixture(scope="session")
def tiny_image_pipeline_dir(tmp_path_factory):
    return _tiny_pipeline(tmp_path_factory, "none")


@pytest.fixture(scope="session")
def tiny_text_image_pipeline_dir(tmp_path_factory):
    return _tiny_pipeline(tmp_path_factory, "text")


class GaussianOracle(torch.nn.Module):
    """The exact noise predictor of Gaussian data x_0 ~ N(0, s^2 I): eps_hat(x_t) =
    sqrt(1 - ab_t) x_t / (ab_t s^2 + 1 - ab_t), a smooth model whose DDIM ODE is exact."""

    def __init__(self, alphas_cumprod: torch.Tensor, s: float = 0.5) -> None:
        super().__init__()
        self.register_buffer("ab", alphas_cumprod.float())
        self.s2 = s * s
        self.in_channels, self.cond_dim, self.learn_variance = 3, None, False
        self.config = {"image_size": 32, "channel_mults": (1, 2)}

    def forward(self, x, t, **cond):
        ab = self.ab[t].view(-1, 1, 1, 1)
        return (1 - ab).sqrt() * x / (ab * self.s2 + 1 - ab)
