"""Name -> factory registries for models, datasets and training sample / loss hooks.

Configs name things (`model.name: motion_transformer`, `data.name: toy2d`); these tables
turn a name into a callable. Entries may be given lazily as "module:attribute" strings,
so registering a name imports nothing. A config may also name a factory directly as
"package.module:attribute" without registering it.

Pipelines register their own datasets and hooks at import, e.g.::

    from vhdiff.registry import register_dataset
    register_dataset("humanml3d", "vhdiff.motion.data:HumanML3D")

and the `vhdiff train` command imports the modules listed in a config's `imports:` field
before it looks names up.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

Factory = Callable[..., Any]


class Registry:
    """A table of named factories (callables, or lazy "module:attr" strings)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Factory | str] = {}

    def register(self, name: str, factory: Factory | str, *, overwrite: bool = False) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"a {self.kind} name must be a non-empty string; got {name!r}")
        if isinstance(factory, str) and ":" not in factory:
            raise ValueError(f"a lazy {self.kind} factory must read 'module:attribute'; got {factory!r}")
        if not isinstance(factory, str) and not callable(factory):
            raise ValueError(f"a {self.kind} factory must be callable or 'module:attribute'")  # noqa: TRY004
        if name in self._entries and not overwrite and self._entries[name] != factory:
            raise ValueError(
                f"{self.kind} {name!r} is already registered; pass overwrite=True to replace it"
            )
        self._entries[name] = factory

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str) -> Factory:
        """The factory for `name` (a registered name, or a "module:attr" path)."""
        entry = self._entries.get(name)
        if entry is None:
            if ":" in name:
                entry = name
            else:
                close = get_close_matches(name, self.names(), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"unknown {self.kind} {name!r}{hint}; registered: {', '.join(self.names())}. "
                    "Use one of those, or a 'package.module:factory' path"
                )
        return _resolve(entry, self.kind) if isinstance(entry, str) else entry

    def build(self, name: str, params: dict[str, Any] | None = None) -> Any:
        """Call the factory with keyword `params`; an unknown keyword is a ValueError listing the valid ones."""
        factory = self.get(name)
        params = dict(params or {})
        _check_keywords(factory, params, f"{self.kind} {name!r}")
        return factory(**params)


def _resolve(path: str, kind: str) -> Factory:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"cannot import {module_name!r} for {kind} {path!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no {attr!r} (for {kind} {path!r})") from None


def _check_keywords(factory: Factory, params: dict[str, Any], what: str) -> None:
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return
    ps = [p for p in sig.parameters.values() if p.name != "self"]
    if any(p.kind is p.VAR_KEYWORD for p in ps):
        return
    valid = [p.name for p in ps if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for {what}; valid: {', '.join(valid)}"
        )


MODELS = Registry("model")
DATASETS = Registry("dataset")
SAMPLE_HOOKS = Registry("sample hook")
LOSS_HOOKS = Registry("loss hook")

MODELS.register("unet", "vhdiff.backbones:UNet")
MODELS.register("motion_transformer", "vhdiff.backbones:MotionTransformer")
MODELS.register("pointnet", "vhdiff.backbones:PointNetDenoiser")
MODELS.register("point_autoencoder", "vhdiff.backbones:PointCloudAutoencoder")
MODELS.register("latent_mlp", "vhdiff.backbones:LatentMLPDenoiser")
MODELS.register("toy_mlp", "vhdiff.toy:ToyMLP")
DATASETS.register("toy2d", "vhdiff.toy:Toy2D")
SAMPLE_HOOKS.register("toy2d_scatter", "vhdiff.toy:scatter_hook")


def register_model(name: str, factory: Factory | str, *, overwrite: bool = False) -> None:
    """Make `model.name: <name>` build `factory(**model.params)`."""
    MODELS.register(name, factory, overwrite=overwrite)


def register_dataset(name: str, factory: Factory | str, *, overwrite: bool = False) -> None:
    """Make `data.name: <name>` build `factory(**data.params)` (a map-style dataset)."""
    DATASETS.register(name, factory, overwrite=overwrite)


def register_sample_hook(name: str, factory: Factory | str, *, overwrite: bool = False) -> None:
    """Make `trainer.sample_hooks: [<name>]` add `factory()` (a hook) to the trainer."""
    SAMPLE_HOOKS.register(name, factory, overwrite=overwrite)


def register_loss_hook(name: str, factory: Factory | str, *, overwrite: bool = False) -> None:
    """Make `trainer.loss_hooks: {<name>: {params}}` add `factory(**params)` (a loss hook)."""
    LOSS_HOOKS.register(name, factory, overwrite=overwrite)


def build_model(name: str, params: dict[str, Any] | None = None) -> Any:
    return MODELS.build(name, params)


def build_dataset(name: str, params: dict[str, Any] | None = None) -> Any:
    return DATASETS.build(name, params)
