"""GenerationConfig: one validation at the boundary, overrides, serialisation, subclasses."""

from __future__ import annotations

import dataclasses
import json

import pytest

from vhdiff.diffusion import SAMPLER_NAMES, SAMPLERS, SPACINGS
from vhdiff.motion.pipeline import MotionGeneration
from vhdiff.pipelines import GenerationConfig


def test_defaults_resolve_through_the_cores_table():
    config = GenerationConfig()
    assert config.sampler in SAMPLER_NAMES and config.steps is None
    assert config.resolved_steps == SAMPLERS[config.sampler].default_steps
    assert config.resolved_spacing == SAMPLERS[config.sampler].default_spacing
    fast = GenerationConfig(sampler="dpm++")
    assert fast.resolved_spacing == SAMPLERS["dpm++"].default_spacing in SPACINGS
    assert GenerationConfig(sampler="dpmpp").sampler == "dpm++"  # aliases resolve once


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampler": "euler"}, "unknown sampler 'euler'; valid options: 'ddpm', 'ddim'"),
        ({"steps": 0}, r"steps must be an integer in \[1, 100000\]; got 0"),
        ({"steps": 2.5}, r"steps must be an integer"),
        ({"steps": True}, r"steps must be an integer"),
        ({"eta": -0.1}, r"eta must be a number in \[0, 1\]"),
        ({"timestep_spacing": "cubic"}, "unknown timestep_spacing 'cubic'; choose one of leading, trailing"),
        ({"guidance": float("nan")}, r"guidance must be a number in \[0, 50\]"),
        ({"guidance": 51}, r"guidance must be a number in \[0, 50\]"),
        ({"guidance_interval": (9, 1)}, "guidance interval must be"),
        ({"guidance_interval": "late"}, "must read T_MIN:T_MAX"),
        ({"guidance_interval": (0, 1, 2)}, "guidance interval must be"),
    ],
)
def test_bad_values_name_the_setting(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerationConfig(**kwargs)


def test_interval_forms():
    assert GenerationConfig(guidance_interval="500:999").guidance_interval == (500, 999)
    assert GenerationConfig(guidance_interval=[1, 2]).guidance_interval == (1, 2)
    assert GenerationConfig(guidance_interval="all").guidance_interval is None


def test_replace_keeps_what_is_none_and_refuses_unknown_names():
    base = GenerationConfig(sampler="ddim", steps=50, guidance=3.0)
    assert base.replace(steps=None, guidance=None) == base
    assert base.replace(steps=20).steps == 20 and base.replace(steps=20).guidance == 3.0
    assert base.replace(guidance_interval="10:20").replace(guidance_interval="all").guidance_interval is None
    with pytest.raises(ValueError, match=r"unknown generation setting\(s\) colour, size; valid: sampler"):
        base.replace(colour="red", size=3)
    with pytest.raises(ValueError, match=r"steps must be an integer"):
        base.replace(steps=-3)


def test_check_for_needs_the_models_timesteps():
    GenerationConfig(steps=100, guidance_interval=(0, 99)).check_for(100)
    with pytest.raises(ValueError, match=r"steps must be in \[1, 100\] \(the model's training timesteps\); got 101"):
        GenerationConfig(steps=101).check_for(100)
    with pytest.raises(ValueError, match="lies outside the model's timesteps 0-999; give T_MIN:T_MAX within 0-999"):
        GenerationConfig(guidance_interval=(0, 5000)).check_for(1000)
    with pytest.raises(ValueError, match=r"edit_steps must be in \[1, 100\]"):
        MotionGeneration(edit_steps=500).check_for(100)


@pytest.mark.parametrize("cls", [GenerationConfig, MotionGeneration])
def test_json_round_trip(cls):
    config = cls(sampler="ddim", steps=30, eta=0.5, timestep_spacing="logsnr", guidance_interval=(100, 900))
    data = json.loads(json.dumps(config.to_dict()))
    assert data["guidance_interval"] == [100, 900]
    assert cls.from_dict(data) == config
    assert cls.from_dict({}) == cls()  # missing keys: the defaults


def test_from_dict_names_the_source():
    with pytest.raises(ValueError, match=r"unknown setting\(s\) colour in my.json; valid:"):
        GenerationConfig.from_dict({"colour": 1}, source="my.json")
    with pytest.raises(ValueError, match="bad my.json: steps must be an integer"):
        GenerationConfig.from_dict({"steps": "many"}, source="my.json")
    with pytest.raises(ValueError, match="my.json must be a mapping"):
        GenerationConfig.from_dict([1], source="my.json")


def test_motion_settings():
    config = MotionGeneration()
    assert (config.sampler, config.steps, config.timestep_spacing) == ("dpm++", 10, "trailing")
    for field, value, message in [
        ("seconds", 0, r"seconds must be a number in \[0.001, 600\]"),
        ("snap", 1.5, r"snap must be a number in \[0, 1\]"),
        ("smoothing", 1e9, "smoothing"),
        ("smoothing", -1, "smoothing must be a number of frames >= 0"),
        ("foot_lock", "yes", "foot_lock must be true or false"),
    ]:
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(config, **{field: value})
