"""The bundled image model (vhdiff/assets/image_default): it loads offline, its prompt
changes the picture, and it edits as the docs say."""

import numpy as np
import pytest

from vhdiff.image.pipeline import ImagePipeline, bundled_model_dir


@pytest.fixture(scope="module")
def pipe():
    return ImagePipeline.from_pretrained()


def test_is_small_text_conditional_and_32_pixels(pipe):
    size = sum(p.stat().st_size for p in bundled_model_dir().rglob("*") if p.is_file())
    assert size < 25 * 2**20
    assert pipe.condition == "text" and pipe.image_size == 32
    out = pipe(2, prompt="a person squatting, seen from the front", seed=0)
    assert out.images.shape == (2, 32, 32, 3)


def test_the_prompt_changes_the_picture_from_the_same_noise(pipe):
    """The same seed under two prompts: the condition moves the samples far more than the
    last sampling step's rounding (the pose-family score itself is `vhdiff eval image`'s)."""
    raised = pipe(4, prompt="a person raising both arms, seen from the front", seed=1).images.astype(float)
    sitting = pipe(4, prompt="a person sitting, seen from the left", seed=1).images.astype(float)
    again = pipe(4, prompt="a person raising both arms, seen from the front", seed=1).images.astype(float)
    assert np.abs(raised - again).max() == 0
    assert np.abs(raised - sitting).mean() / 255 > 0.02


def test_inpainting_keeps_the_rest_and_sdedit_keeps_the_layout(pipe):
    source = pipe(1, prompt="a person standing, seen from the front", seed=3).images[0]
    mask = np.zeros((32, 32), dtype=np.uint8)
    mask[:12] = 255
    filled = pipe.inpaint(source, mask, prompt="a person raising both arms", seed=0, steps=20)
    np.testing.assert_array_equal(filled.image[12:], source[12:])
    near = pipe.edit(source, prompt="a person raising both arms", strength=0.3, seed=0)
    far = pipe.edit(source, prompt="a person raising both arms", strength=1.0, seed=0)
    assert near.distance < far.distance
