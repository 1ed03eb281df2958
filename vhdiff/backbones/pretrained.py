"""`save_pretrained` / `from_pretrained` shared by the backbones.

A saved model is a folder with two files:

    config.json          the constructor's keyword arguments (+ "_class", "_format")
    model.safetensors    the state dict (persistent buffers included)

Both are written atomically (temp file in the same folder, then `os.replace`), so a killed
save never leaves a half-written file under the final name. Loading never unpickles.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn
from typing_extensions import Self

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "PretrainedMixin", "register_config"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
_FORMAT = "vhdiff.backbones/1"

F = TypeVar("F", bound=Callable[..., None])


def register_config(init: F) -> F:
    """Decorate a keyword-only `__init__` so its (defaulted) arguments become `model.config`.

    Tuples stay tuples in `config`; JSON turns them into lists, which `from_pretrained`
    turns back into tuples.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: nn.Module, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        config = {k: _freeze(v) for k, v in bound.arguments.items() if k != "self"}
        object.__setattr__(self, "_config", config)

    return wrapper  # type: ignore[return-value]


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _atomic_write_bytes(path: Path, write: Callable[[str], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_weights(path: Path, *, owner: str) -> dict[str, torch.Tensor]:
    """The tensors of the safetensors file `path`; ValueError naming it when it cannot be read
    (empty, truncated, not safetensors) or holds non-finite numbers."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    fix = "copy the model folder again, or save it again with save_pretrained"
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{owner}: cannot read {path} ({exc}): the file is truncated or corrupt; {fix}") from None
    broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise ValueError(
            f"{owner}: the weights in {path} are corrupt: {', '.join(broken[:3])}"
            f"{' ...' if len(broken) > 3 else ''} hold NaN or infinite values; {fix}"
        )
    return state


class PretrainedMixin:
    """Adds `config`, `save_pretrained(dir)` and `from_pretrained(dir)` to an nn.Module whose
    `__init__` is decorated with `register_config`."""

    _config: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """The constructor keyword arguments, defaults included (a copy)."""
        return dict(self._config)

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write config.json + model.safetensors into `directory` (created if needed)."""
        from safetensors.torch import save_file

        assert isinstance(self, nn.Module)
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        _atomic_write_bytes(out / WEIGHTS_NAME, lambda tmp: save_file(state, tmp))
        meta = {"_class": type(self).__name__, "_format": _FORMAT, **self._config}
        text = json.dumps(meta, indent=2, sort_keys=False) + "\n"
        _atomic_write_bytes(out / CONFIG_NAME, lambda tmp: Path(tmp).write_text(text))
        return out

    @classmethod
    def config_from_file(cls, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Read and validate a config.json for this class; returns constructor kwargs."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"{cls.__name__}: no {CONFIG_NAME} at {path}; point from_pretrained at a folder "
                "written by save_pretrained"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"{cls.__name__}: {path} is not valid JSON ({exc}); the model folder is damaged: "
                "copy it again, or save the model again with save_pretrained"
            ) from None
        if not isinstance(raw, dict):
            raise ValueError(  # noqa: TRY004 - a bad file's content, not a bad argument type
                f"{cls.__name__}: {path} must hold a JSON object, got {type(raw).__name__}"
            )
        saved_class = raw.get("_class", cls.__name__)
        if saved_class != cls.__name__:
            raise ValueError(
                f"{path} holds a {saved_class}, not a {cls.__name__}; "
                f"load it with {saved_class}.from_pretrained"
            )
        config = {k: v for k, v in raw.items() if not k.startswith("_")}
        params = inspect.signature(cls.__init__).parameters
        unknown = sorted(set(config) - set(params) - {"self"})
        if unknown:
            raise ValueError(
                f"{cls.__name__}: {path} has unknown config keys {unknown}; "
                f"known keys are {sorted(k for k in params if k != 'self')}. "
                "Remove them or use the vhdiff version that wrote the file."
            )
        return {k: _freeze(v) for k, v in config.items()}

    @classmethod
    def from_pretrained(
        cls,
        directory: str | os.PathLike[str],
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> Self:
        """Rebuild the model saved by `save_pretrained(directory)` and load its weights.

        The model comes back in eval mode. Missing or unexpected weights, and a weights file
        that is truncated, garbled or holds NaN / infinite values, raise ValueError naming it.
        """
        folder = Path(directory)
        config = cls.config_from_file(folder / CONFIG_NAME)
        weights = folder / WEIGHTS_NAME
        if not weights.is_file():
            raise FileNotFoundError(
                f"{cls.__name__}: no {WEIGHTS_NAME} in {folder}; save with save_pretrained"
            )
        model = cls(**config)
        assert isinstance(model, nn.Module)
        state = _read_weights(weights, owner=cls.__name__)
        try:
            result = model.load_state_dict(state, strict=False)
        except RuntimeError as err:  # tensor shapes that disagree with config.json
            raise ValueError(
                f"{cls.__name__}: weights in {weights} do not fit the model built from "
                f"{folder / CONFIG_NAME}: {err}. Keep the config.json that was saved with these "
                "weights (save_pretrained writes both)"
            ) from None
        if result.missing_keys or result.unexpected_keys:
            raise ValueError(
                f"{cls.__name__}: weights in {weights} do not match its config: "
                f"missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}. "
                "Keep the config.json that was saved with these weights (save_pretrained "
                "writes both)"
            )
        if device is not None or dtype is not None:
            model.to(device=device, dtype=dtype)
        model.eval()
        return model
