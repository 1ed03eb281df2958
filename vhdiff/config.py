"""Run configs: typed dataclass sections loaded from YAML with command-line overrides.

A config file has five sections (every key optional; defaults below)::

    imports: []                 # modules to import first (they register datasets/models)
    model:        {name: motion_transformer, params: {latent_dim: 512, ...}}
    diffusion:    {schedule: cosine, timesteps: 1000, prediction: eps, ...}
    data:         {name: toy2d, params: {n: 4096}}
    text_encoder: {name: null}  # or {name: clip, params: {...}}: encodes batch["text"]
    trainer:      {max_steps: 1000, batch_size: 64, lr: 1e-4, ...}   # vhdiff.training.TrainerConfig

`load_config("toy2d", ["trainer.max_steps=100"])` (a bundled config's name, or a path such as
"configs/toy2d.yaml") returns a `RunConfig`. An unknown key or a value of the wrong type
raises ValueError naming the key and listing the valid ones. `model.params` / `data.params` are free-form here and are checked against the
factory's keyword arguments when the model / dataset is built (`vhdiff.registry`).
OmegaConf is imported lazily.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from vhdiff.bundled_configs import resolve_config
from vhdiff.diffusion import DiffusionConfig, GaussianDiffusion
from vhdiff.extras import require
from vhdiff.training.trainer import TrainerConfig

# diffusion keys that moved to another section: old name -> (section, new name)
MOVED_KEYS = {("diffusion", "timestep_sampling"): ("trainer", "timestep_sampling")}


@dataclass
class ModelSection:
    """Which model to build: a `vhdiff.registry` name and its constructor keywords."""

    name: str = "toy_mlp"
    params: dict[str, Any] = field(default_factory=dict)


# The `diffusion:` section is the core's own flat config (schedule keys and every
# `GaussianDiffusion` option, validated when created); vhdiff.diffusion lists the fields once.
DiffusionSection = DiffusionConfig


@dataclass
class DataSection:
    """Which dataset to build: a `vhdiff.registry` name and its keyword arguments."""

    name: str = "toy2d"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TextEncoderSection:
    """Optional text conditioning: `vhdiff.text.load_text_encoder(name, **params)`.

    Each batch's `text_key` entry (list[str]) is encoded to [B, C] and passed to the model
    as the `output_key` keyword.
    """

    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    text_key: str = "text"
    output_key: str = "text_emb"


@dataclass
class RunConfig:
    """A whole training run."""

    imports: list[str] = field(default_factory=list)
    model: ModelSection = field(default_factory=ModelSection)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    data: DataSection = field(default_factory=DataSection)
    text_encoder: TextEncoderSection = field(default_factory=TextEncoderSection)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


# ---------------------------------------------------------------------- loading
def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a YAML file (None: defaults only), apply `key=value` overrides, validate.

    path: a file, or a bundled config's name ("motion_synthetic"; `vhdiff.bundled_configs`).
    Raises FileNotFoundError for a missing file, and ValueError for an unknown name, bad
    YAML, an unknown key, a wrong type or a bad value, each naming the key (and the valid keys).
    """
    OmegaConf = require("omegaconf", needed_for="run configs").OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    layers = []
    if path is not None:
        path = resolve_config(path)
        layers.append((str(path), _read_yaml(path)))
    if overrides:
        layers.append(("command-line overrides", _parse_overrides(overrides)))
    schema = OmegaConf.structured(RunConfig)
    merged = schema
    for source, data in layers:
        _move_keys(data, source)
        _check_keys(data, RunConfig, "", source)
        merged = _merge(merged, data, source)
    try:
        obj = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:  # interpolation errors, missing values
        raise ValueError(f"invalid config: {_omegaconf_message(exc)}") from None
    assert isinstance(obj, RunConfig)
    return obj


def config_to_yaml(config: RunConfig) -> str:
    """The resolved config as YAML text (saved into every checkpoint)."""
    OmegaConf = require("omegaconf", needed_for="run configs").OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(config))


def _read_yaml(path: Path) -> dict[str, Any]:
    yaml = require("yaml", needed_for="run configs")

    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(  # noqa: TRY004 - a user's file: ValueError is the CLI's user error
            f"config file {path} must hold a mapping of sections, got {type(data).__name__}"
        )
    return data


def _parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    yaml = require("yaml", needed_for="run configs")

    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(
                f"override {item!r} must read key=value with a dotted key, e.g. trainer.max_steps=100"
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ValueError(f"override {item!r} conflicts with an earlier override of {part!r}")  # noqa: TRY004
            node = nxt
        node[parts[-1]] = value
    return out


def _move_keys(data: dict[str, Any], source: str) -> None:
    """Rewrite deprecated keys in place (a DeprecationWarning each): older run configs and
    checkpoints' config.yaml keep loading. `diffusion.timestep_sampling` is
    `trainer.timestep_sampling` now (timestep sampling is training state)."""
    import warnings

    for (section, key), (new_section, new_key) in MOVED_KEYS.items():
        old = data.get(section)
        if not isinstance(old, dict) or key not in old:
            continue
        value = old.pop(key)
        target = data.setdefault(new_section, {})
        if not isinstance(target, dict):
            continue  # _check_keys reports the malformed section
        if new_key in target and target[new_key] != value:
            raise ValueError(
                f"{source} sets both {section}.{key}={value!r} (deprecated) and "
                f"{new_section}.{new_key}={target[new_key]!r}; keep only {new_section}.{new_key}"
            )
        target[new_key] = value
        warnings.warn(
            f"{section}.{key} in {source} is deprecated: it is {new_section}.{new_key} now",
            DeprecationWarning, stacklevel=3,
        )


def _check_keys(data: Any, schema: type, prefix: str, source: str) -> None:
    """Raise ValueError for the first key of `data` that `schema` (a dataclass) lacks."""
    if not isinstance(data, dict):
        where = prefix.rstrip(".") or "the top level"
        raise ValueError(f"{where} in {source} must be a mapping of keys, got {data!r}")  # noqa: TRY004
    fields = {f.name: f for f in dataclasses.fields(schema)}
    for key, value in data.items():
        if key not in fields:
            close = get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            section = prefix.rstrip(".") or "top level"
            raise ValueError(
                f"unknown config key '{prefix}{key}' in {source}{hint}; valid keys in "
                f"{section}: {', '.join(fields)}"
            )
        sub = _dataclass_type(schema, key)
        if sub is not None:
            _check_keys(value, sub, f"{prefix}{key}.", source)


def _dataclass_type(schema: type, name: str) -> type | None:
    import typing

    hint = typing.get_type_hints(schema)[name]
    return hint if dataclasses.is_dataclass(hint) else None


def _merge(base, data: dict[str, Any], source: str):
    OmegaConf = require("omegaconf", needed_for="run configs").OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.merge(base, data)
    except OmegaConfBaseException as exc:  # ValidationError etc. carry the key in full_key
        raise ValueError(f"bad value in {source}: {_omegaconf_message(exc)}") from None


def _omegaconf_message(exc: Exception) -> str:
    key = getattr(exc, "full_key", None)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if key:
        expected = _expected_type(key)
        suffix = f" (expected {expected})" if expected else ""
        return f"{key}: {first}{suffix}"
    return first


def _expected_type(full_key: str) -> str | None:
    import typing

    schema: Any = RunConfig
    parts = full_key.split(".")
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(schema):
            return None
        hints = typing.get_type_hints(schema)
        if part not in hints:
            return None
        if i == len(parts) - 1:
            hint = hints[part]
            return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
        schema = hints[part]
    return None


# ---------------------------------------------------------------------- building
def build_diffusion(section: DiffusionConfig) -> GaussianDiffusion:
    """The `GaussianDiffusion` a diffusion section describes (`GaussianDiffusion.from_config`)."""
    return GaussianDiffusion.from_config(section)


# ---------------------------------------------------------------------- a whole run
# Modules that moved: run configs (and the config.yaml inside older checkpoints) that list
# the old name under `imports:` keep working.
MOVED_MODULES = {"vhdiff.motion.train_setup": "vhdiff.motion.training.setup"}


def import_config_modules(config: RunConfig) -> None:
    """Import the modules a config lists under `imports:` (they register datasets, hooks)."""
    import importlib

    for module in config.imports:
        try:
            importlib.import_module(MOVED_MODULES.get(module, module))
        except ImportError as exc:
            raise ValueError(f"cannot import {module!r} listed under imports: {exc}") from None


def build_trainer(config: RunConfig, *, context: Any = None):
    """The `vhdiff.training.Trainer` a run config describes: its model (seeded with
    trainer.seed), dataset, diffusion, text condition, sample and loss hooks.

    Call `import_config_modules(config)` first when the config's names are registered by
    its `imports:`. context: a `vhdiff.training.DistributedContext` (default: auto).
    """
    from vhdiff.registry import LOSS_HOOKS, SAMPLE_HOOKS, build_dataset, build_model
    from vhdiff.training import Trainer
    from vhdiff.training.seeding import seed_everything

    seed_everything(config.trainer.seed)  # the model's initial weights
    model = build_model(config.model.name, config.model.params)
    dataset = build_dataset(config.data.name, config.data.params)
    diffusion = build_diffusion(config.diffusion)
    condition = None
    if config.text_encoder.name:
        from vhdiff.text import load_text_encoder
        from vhdiff.text.condition import TextCondition

        device = context.device if context is not None else None
        condition = TextCondition(
            encoder=load_text_encoder(config.text_encoder.name, **config.text_encoder.params),
            text_key=config.text_encoder.text_key, output_key=config.text_encoder.output_key,
            device=device,
        )
    trainer = Trainer(
        model=model, diffusion=diffusion, dataset=dataset, config=config.trainer,
        condition=condition, context=context, config_text=config_to_yaml(config),
    )
    if condition is not None and condition.device is None:
        condition.device = trainer.device
    for name in config.trainer.sample_hooks:
        trainer.add_sample_hook(SAMPLE_HOOKS.build(name))
    for name, params in config.trainer.loss_hooks.items():
        trainer.add_loss_hook(LOSS_HOOKS.build(name, params))
    return trainer
