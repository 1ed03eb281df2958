"""The shared pipeline base on a toy modality: folder round trip, errors, seeds, overrides."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
import torch

from vhdiff.diffusion import ClassifierFreeGuidance, GaussianDiffusion, NoiseSchedule
from vhdiff.pipelines import FORMAT, GenerationConfig, Pipeline, make_generator
from vhdiff.toy import ToyMLP


class ToyPipeline(Pipeline):
    pipeline_class: ClassVar[str] = "ToyPipeline"
    modality: ClassVar[str] = "toy"
    model_class: ClassVar[Any] = ToyMLP

    def __call__(self, num: int, *, seed: int | None = None, **settings: Any) -> torch.Tensor:
        config = self.settings(**settings)
        _, generator = make_generator(seed, self.device)
        return self.sample((num, 2), config, generator=generator).sample


@pytest.fixture
def pipe():
    torch.manual_seed(0)
    return ToyPipeline(
        model=ToyMLP(dim=2, hidden=16, layers=2),
        diffusion=GaussianDiffusion(NoiseSchedule.cosine(T=50), prediction="x0"),
        generation=GenerationConfig(sampler="ddim", steps=5, guidance=1.0),
        info={"note": "toy"},
    )


def test_folder_round_trip_keeps_everything(pipe, tmp_path):
    folder = pipe.save_pretrained(tmp_path / "toy")
    meta = json.loads((folder / "pipeline.json").read_text())
    assert meta["_class"] == "ToyPipeline" and meta["_format"] == FORMAT and meta["modality"] == "toy"
    assert meta["diffusion"] == pipe.diffusion.to_dict() and meta["generation"]["steps"] == 5
    assert sorted(p.name for p in folder.iterdir()) == ["model", "pipeline.json"]
    again = ToyPipeline.from_pretrained(folder)
    assert again.generation == pipe.generation and again.info == {"note": "toy"}
    torch.testing.assert_close(again(4, seed=3), pipe(4, seed=3), rtol=0, atol=0)


def test_seeds_and_call_overrides(pipe):
    torch.testing.assert_close(pipe(3, seed=1), pipe(3, seed=1), rtol=0, atol=0)
    assert not torch.equal(pipe(3, seed=1), pipe(3, seed=2))
    assert not torch.equal(pipe(3, seed=1), pipe(3, seed=1, sampler="dpm++", steps=5))
    assert pipe.generation.sampler == "ddim"  # a call's override changes nothing for the next
    with pytest.raises(ValueError, match=r"steps must be in \[1, 50\]"):
        pipe(3, steps=51)
    with pytest.raises(ValueError, match=r"seed must be a whole number in \[0, 2\^63 - 1\]"):
        pipe(3, seed=2**70)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        pipe(3, seed=1.5)


def test_guided_model(pipe):
    assert pipe.guided_model(pipe.settings()) is pipe.model  # guidance 1: the model itself
    guided = pipe.guided_model(pipe.settings(guidance=3.0, guidance_interval=(10, 40)))
    assert isinstance(guided, ClassifierFreeGuidance) and guided.scale == 3.0 and guided.interval == (10, 40)


def test_generation_is_checked_against_the_model(pipe):
    with pytest.raises(ValueError, match="outside the model's timesteps 0-49"):
        ToyPipeline(model=pipe.model, diffusion=pipe.diffusion, generation=GenerationConfig(guidance_interval=(0, 60)))
    with pytest.raises(ValueError, match="generation must be a GenerationConfig"):
        ToyPipeline(model=pipe.model, diffusion=pipe.diffusion, generation={"steps": 3})


def test_folders_of_another_kind_are_refused(pipe, tmp_path):
    folder = pipe.save_pretrained(tmp_path / "toy")
    meta = json.loads((folder / "pipeline.json").read_text())
    (folder / "pipeline.json").write_text(json.dumps({**meta, "_class": "MotionPipeline"}))
    with pytest.raises(ValueError, match="describes a 'MotionPipeline', not a ToyPipeline"):
        ToyPipeline.from_pretrained(folder)
    (folder / "pipeline.json").write_text(json.dumps({**meta, "diffusion": None}))
    with pytest.raises(ValueError, match='has no "diffusion" section'):
        ToyPipeline.from_pretrained(folder)
    (folder / "pipeline.json").write_text(json.dumps({**meta, "generation": {"steps": 0}}))
    with pytest.raises(ValueError, match="steps must be an integer"):
        ToyPipeline.from_pretrained(folder)
    with pytest.raises(FileNotFoundError, match="no toy pipeline folder at"):
        ToyPipeline.from_pretrained(tmp_path / "missing")
    with pytest.raises(ValueError, match="ToyPipeline has no bundled model; pass a folder"):
        ToyPipeline.from_pretrained()
