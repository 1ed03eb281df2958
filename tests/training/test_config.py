"""Run configs: the toy config loads, overrides apply, typos and wrong types get clear errors."""

import pytest

from tests.training.helpers import TOY_CONFIG
from vhdiff.config import RunConfig, build_diffusion, config_to_yaml, load_config
from vhdiff.registry import DATASETS, MODELS, Registry, build_dataset, build_model, register_dataset
from vhdiff.toy import Toy2D, ToyMLP
from vhdiff.training import TrainerConfig


def test_toy_config_loads_into_typed_sections():
    cfg = load_config(TOY_CONFIG)
    assert isinstance(cfg, RunConfig) and isinstance(cfg.trainer, TrainerConfig)
    assert cfg.model.name == "toy_mlp" and cfg.data.name == "toy2d"
    assert isinstance(build_model(cfg.model.name, cfg.model.params), ToyMLP)
    assert isinstance(build_dataset(cfg.data.name, cfg.data.params), Toy2D)
    assert build_diffusion(cfg.diffusion).num_timesteps == cfg.diffusion.timesteps


def test_dot_list_overrides_are_typed_and_round_trip_through_yaml(tmp_path):
    cfg = load_config(TOY_CONFIG, ["trainer.max_steps=100", "trainer.lr=5e-4",
                                   "model.params.hidden=64", "trainer.sample_hooks=[]",
                                   "diffusion.loss_weighting=min_snr"])
    assert cfg.trainer.max_steps == 100 and isinstance(cfg.trainer.max_steps, int)
    assert cfg.trainer.lr == 5e-4 and cfg.model.params["hidden"] == 64
    assert cfg.trainer.sample_hooks == [] and cfg.diffusion.loss_weighting == "min_snr"
    saved = tmp_path / "resolved.yaml"
    saved.write_text(config_to_yaml(cfg))
    assert load_config(saved) == cfg


def test_unknown_key_names_it_and_the_valid_ones():
    with pytest.raises(ValueError) as err:
        load_config(TOY_CONFIG, ["trainer.max_step=3"])
    msg = str(err.value)
    assert "unknown config key 'trainer.max_step'" in msg
    assert "did you mean 'trainer.max_steps'" in msg
    assert "valid keys in trainer:" in msg and "batch_size" in msg


def test_typo_in_a_yaml_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  name: toy_mlp\ntrainr:\n  max_steps: 3\n")
    with pytest.raises(ValueError, match=r"unknown config key 'trainr' in .*bad\.yaml.*'trainer'"):
        load_config(bad)


def test_wrong_type_and_bad_choice():
    with pytest.raises(ValueError, match=r"trainer\.max_steps: .*'abc'.*expected int"):
        load_config(TOY_CONFIG, ["trainer.max_steps=abc"])
    with pytest.raises(ValueError, match="trainer.lr_schedule must be one of cosine, constant"):
        load_config(TOY_CONFIG, ["trainer.lr_schedule=linear"])
    with pytest.raises(ValueError, match=r"diffusion.schedule: Invalid value 'quadratic', expected one of \['linear', 'cosine', 'sigmoid'\]"):
        load_config(TOY_CONFIG, ["diffusion.schedule=quadratic"])
    with pytest.raises(ValueError, match="model in command-line overrides must be a mapping"):
        load_config(TOY_CONFIG, ["model=unet"])


def test_file_and_override_syntax_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("trainer: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ValueError, match="must read key=value"):
        load_config(TOY_CONFIG, ["trainer.max_steps"])


def test_registry_errors_list_names_and_parameters():
    with pytest.raises(ValueError, match=r"unknown model 'toy_mpl' \(did you mean 'toy_mlp'\?\)"):
        build_model("toy_mpl")
    with pytest.raises(ValueError, match="unknown parameter.*widht.*valid: dim, hidden, layers"):
        build_model("toy_mlp", {"widht": 3})
    assert {"unet", "motion_transformer", "pointnet"} <= set(MODELS.names())
    assert build_model("vhdiff.toy:ToyMLP", {"hidden": 4}).config["hidden"] == 4


def test_pipelines_can_register_datasets():
    reg = Registry("dataset")
    reg.register("pts", lambda n=3: list(range(n)))
    assert reg.build("pts", {"n": 2}) == [0, 1]
    with pytest.raises(ValueError, match="already registered"):
        reg.register("pts", lambda: None)
    register_dataset("toy2d", "vhdiff.toy:Toy2D")  # same entry again is fine
    assert "toy2d" in DATASETS


def test_every_gaussian_diffusion_option_is_a_config_key_and_reaches_the_diffusion():
    import dataclasses
    import inspect

    from vhdiff.config import DiffusionSection
    from vhdiff.diffusion import DiffusionConfig, GaussianDiffusion

    assert DiffusionSection is DiffusionConfig  # the core's config, not a copy of its fields
    options = [p.name for p in inspect.signature(GaussianDiffusion.__init__).parameters.values()
               if p.kind is p.KEYWORD_ONLY]
    assert set(options) <= {f.name for f in dataclasses.fields(DiffusionSection)}
    cfg = load_config(TOY_CONFIG, [
        "diffusion.prediction=v", "diffusion.variance=learned_range", "diffusion.loss=hybrid",
        "diffusion.loss_weighting=min_snr", "diffusion.min_snr_gamma=3.0", "diffusion.vlb_weight=0.01",
        "diffusion.decoder=discretized", "diffusion.decoder_bins=64",
        "diffusion.extra={note: hi}",
        "diffusion.schedule=linear", "diffusion.timesteps=20", "diffusion.beta_end=0.05",
    ])
    built = build_diffusion(cfg.diffusion)
    for name in options:
        assert getattr(built.config, name) == getattr(cfg.diffusion, name), name
    assert built.config.prediction == "v" and built.config.decoder_bins == 64
    assert built.config.extra == {"note": "hi"}
    assert built.num_timesteps == 20
    assert float(built.schedule.betas[-1]) == pytest.approx(0.05)
    assert built.config == cfg.diffusion  # and back: the config round-trips through the diffusion


def test_bad_diffusion_options_fail_when_the_config_loads():
    with pytest.raises(ValueError, match=r"diffusion.prediction: Invalid value 'epsilon', expected one of \['eps', 'x0', 'v'\]"):
        load_config(TOY_CONFIG, ["diffusion.prediction=epsilon"])
    with pytest.raises(ValueError, match=r"variance='learned_range'.*loss='hybrid'"):
        load_config(TOY_CONFIG, ["diffusion.variance=learned_range"])
    with pytest.raises(ValueError, match=r"'timesteps'\) must be a positive int, got 0"):
        load_config(TOY_CONFIG, ["diffusion.timesteps=0"])
