"""ImagePipeline: sampling, SDEdit, inpainting, inversion, folders, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.image_fixtures import GaussianOracle
from vhdiff.image.pipeline import ImagePipeline, open_image, read_mask


@pytest.fixture(scope="module")
def pipe(tiny_image_pipeline_dir):
    return ImagePipeline.from_pretrained(tiny_image_pipeline_dir)


@pytest.fixture(scope="module")
def text_pipe(tiny_text_image_pipeline_dir):
    return ImagePipeline.from_pretrained(tiny_text_image_pipeline_dir)


def test_samples_are_8bit_images_reproducible_by_seed(pipe):
    a = pipe(3, seed=4, intermediates=(39, 20))
    assert a.images.shape == (3, 32, 32, 3) and a.images.dtype == np.uint8
    assert sorted(a.intermediates) == [20, 39] and a.pred_x0[20].shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(pipe(3, seed=4).images, a.images)
    assert not np.array_equal(pipe(3, seed=5).images, a.images)
    assert pipe(2, seed=0, size=16).images.shape == (2, 16, 16, 3)  # convolutional: other sizes
    with pytest.raises(ValueError, match="multiple of 2"):
        pipe(1, size=15)


def test_prompts_one_or_one_per_image(text_pipe, pipe):
    one = text_pipe(2, prompt="a person squatting", seed=0)
    many = text_pipe(2, prompt=["a person squatting", "a person bowing"], seed=0)
    np.testing.assert_array_equal(many.images[0], one.images[0])  # same noise, same prompt
    assert text_pipe(2, seed=0).images.shape == (2, 32, 32, 3)  # no prompt: the null condition
    with pytest.raises(ValueError, match="one prompt or 3"):
        text_pipe(3, prompt=["a", "b"])
    with pytest.raises(ValueError, match="unconditional"):
        pipe(1, prompt="a person squatting")


def test_folder_round_trip_keeps_condition_and_settings(text_pipe, tmp_path):
    text_pipe.save_pretrained(tmp_path / "again")
    again = ImagePipeline.from_pretrained(tmp_path / "again")
    assert again.condition == "text" and again.generation == text_pipe.generation
    np.testing.assert_array_equal(again(1, prompt="a person", seed=1).images, text_pipe(1, prompt="a person", seed=1).images)


def test_sdedit_strength_sets_how_much_changes(pipe):
    source = pipe(1, seed=2).images[0]
    near = pipe.edit(source, strength=0.05, seed=0)
    far = pipe.edit(source, strength=1.0, seed=0)
    assert near.image.shape == source.shape and near.strength == 0.05
    assert near.distance < far.distance
    for bad in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"strength must lie in \(0, 1\]"):
            pipe.edit(source, strength=bad)


def test_inpainting_keeps_every_unmasked_pixel(pipe):
    source = pipe(1, seed=3).images[0]
    mask = np.zeros((32, 32), dtype=np.uint8)
    mask[8:24, 4:20] = 255
    out = pipe.inpaint(source, mask, seed=1, steps=5)
    assert out.mask.sum() == 16 * 16
    np.testing.assert_array_equal(out.image[~out.mask], source[~out.mask])
    assert out.distance == 0.0
    assert not np.array_equal(out.image[out.mask], source[out.mask])


def test_inversion_round_trips():
    from vhdiff.diffusion import GaussianDiffusion

    diffusion = GaussianDiffusion.from_dict({"timesteps": 100, "prediction": "eps"})
    pipe = ImagePipeline(model=GaussianOracle(diffusion.schedule.alphas_cumprod), diffusion=diffusion)
    source = np.random.default_rng(0).integers(60, 196, (32, 32, 3)).astype(np.uint8)
    inv = pipe.invert(source, steps=20)  # one fixed-point refinement a step (the default)
    assert inv.x_T.shape == (3, 32, 32) and inv.reconstruction.shape == source.shape
    assert inv.error < 1.0 and inv.max_error <= 1, (inv.error, inv.max_error)  # 8-bit levels
    # plain DDIM inversion (eps taken at the step's start) is first-order: close, not exact
    plain = pipe.invert(source, steps=20, fixed_point_iters=0)
    assert inv.error < plain.error < 5.0
    # x_T is the image carried along the ODE: x_0's spread (~0.31) scaled by the prior's
    # sqrt((ab s^2 + 1 - ab) / s^2) ~ 2 at the grid's top, so ~0.62, not the image's
    assert 0.5 < float(inv.x_T.std()) < 0.75


def test_inputs_of_other_sizes_are_resized_with_a_note(pipe):
    image, notes = pipe.load_image(np.zeros((45, 37, 3), dtype=np.uint8))
    assert image.shape == (32, 32, 3) and "resized the 37x45 input to 32x32" in notes[0]
    image, notes = pipe.load_image(np.zeros((20, 24, 3), dtype=np.uint8))
    assert image.shape == (20, 24, 3) and notes == []
    mask = np.zeros((45, 37), dtype=np.uint8)
    mask[:, :10] = 255
    out = pipe.inpaint(np.full((45, 37, 3), 90, dtype=np.uint8), mask, steps=3, seed=0)
    assert out.image.shape == (32, 32, 3) and out.notes and 0 < out.mask.sum() < 32 * 32
    np.testing.assert_array_equal(out.image[~out.mask], out.source[~out.mask])


def test_bad_inputs_are_one_line_errors(pipe, tmp_path):
    text = tmp_path / "note.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="not an image that can be read"):
        open_image(text)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="is 8x8 but the image is 32x32"):
        read_mask(np.zeros((8, 8), dtype=np.uint8), like=(32, 32))
    grey = np.zeros((32, 32), dtype=np.uint8)
    grey[0, 0] = 128
    with pytest.raises(ValueError, match="not binary"):
        read_mask(grey, like=(32, 32))
    assert read_mask(np.eye(4, dtype=bool), like=(4, 4)).sum() == 4
