"""Atomic, verifiable checkpoints.

A checkpoint is one directory ``<root>/step_00001000/`` holding::

    model/config.json, model/model.safetensors   live weights + the model's constructor config
    ema/config.json,   ema/model.safetensors     EMA weights (when EMA is on)
    training_state.pt  optimizer, LR scheduler, grad scaler, step, data position, RNG states;
                       plain tensors/numbers only, read with torch.load(weights_only=True)
    config.yaml        the resolved run config (when the caller gives one)
    meta.json          step, metric, and size + SHA-256 of every file above

The directory is written through `vhdiff.atomic_io.atomic_folder`: under a temporary name
(``.step_....partial-PID@HOST-*``) in the same folder, every file fsync'ed, and only then
renamed to its final name (`os.replace`, atomic on POSIX). So a ``step_*`` directory is
either complete or absent: a process killed mid-save leaves only a partial folder, which
`list_checkpoints` ignores and `remove_partial` deletes once its process is dead.
`verify_checkpoint` re-checks sizes and hashes, so a file damaged later (truncated copy,
bad disk) gives a `CheckpointError` that names the file; weights with NaN or infinite
values are refused when they are loaded.

A ``step_*`` folder without a meta.json was not written by a save (meta.json is written
last): `skipped_checkpoints` lists those, nothing here deletes them, and a save at that
step first renames such a folder to ``step_N.incomplete`` (with a warning).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vhdiff.atomic_io import (
    FolderKind,
    atomic_folder,
    check_replace_folder,
    delete_folder,
    pid_alive,
    remove_stale_partials,
    write_text_atomic,
)

STEP_DIR = re.compile(r"^step_(\d+)$")
# temporaries of saves by older versions (.tmp-step_N-PID, .tmp-old-step_N-PID, .tmp-NAME.PID)
LEGACY_TMP = re.compile(r"^\.tmp-.*[-.](?P<pid>\d+)$")
META = "meta.json"
STATE = "training_state.pt"
WEIGHTS = "model.safetensors"
MODEL_CONFIG = "config.json"
BEST = "best.json"
FORMAT_VERSION = 1
# Test hook: "SECONDS" or "SECONDS@STEP" - sleep after the files are written and before the
# directory is renamed (for saves at step >= STEP), so a test can SIGKILL a run mid-save.
SAVE_DELAY_ENV = "VHDIFF_TEST_SAVE_DELAY_S"


# a folder a save wrote: meta.json is written last (vhdiff.atomic_io's replace rule)
CHECKPOINT_FOLDER = FolderKind.with_file("checkpoint", META)


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated or corrupt. The message names the file."""


@dataclass(frozen=True)
class CheckpointInfo:
    """A complete checkpoint directory found on disk."""

    path: Path
    step: int
    metric: float | None


# ---------------------------------------------------------------------- small file helpers
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


# ---------------------------------------------------------------------- weights
def save_module_weights(module: nn.Module, directory: Path) -> None:
    """Write `module`'s weights as safetensors plus its constructor config as JSON.

    Modules with `save_pretrained` (the vhdiff backbones) write themselves, which keeps
    `Backbone.from_pretrained(checkpoint / "model")` working; any other module gets
    `model.safetensors` and a `config.json` of `{"_class_name": ..., **module.config}`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if hasattr(module, "save_pretrained"):
        module.save_pretrained(directory)
        if not (directory / WEIGHTS).is_file():
            raise RuntimeError(
                f"{type(module).__name__}.save_pretrained did not write {WEIGHTS} in {directory}"
            )
    else:
        from safetensors.torch import save_model

        save_model(module, str(directory / WEIGHTS))
        config = dict(getattr(module, "config", {}) or {})
        cls = type(module)
        config = {"_class_name": f"{cls.__module__}.{cls.__qualname__}", **config}
        (directory / MODEL_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))


def load_module_weights(module: nn.Module, directory: Path) -> None:
    """Load `directory/model.safetensors` into `module` (strict: every key must match)."""
    path = Path(directory) / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"checkpoint weights {path} are missing; the checkpoint is incomplete")
    load_weights_file(module, path, hint="was the checkpoint written with a different model config?")


def load_weights_file(module: nn.Module, path: Path, *, hint: str) -> None:
    """Copy the safetensors file `path` into `module`, cast to its dtypes.

    Every tensor must match by name and shape, and hold finite numbers, checked before
    anything is copied; otherwise a CheckpointError lists what differs and ends with `hint`
    (what to fix), or says the weights are corrupt.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        weights = load_file(str(path), device="cpu")
    except (SafetensorError, OSError) as exc:  # a bad header, a truncated file
        raise CheckpointError(f"cannot read {path}: {exc}; the file is truncated or corrupt") from None
    own = module.state_dict()
    missing = sorted(own.keys() - weights.keys())
    unexpected = sorted(weights.keys() - own.keys())
    reshaped = [
        f"{k} {tuple(weights[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items() if k in weights and weights[k].shape != v.shape
    ]
    if missing or unexpected or reshaped:
        parts = [
            f"{label}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}"
            for label, items in (("missing", missing), ("unexpected", unexpected),
                                 ("shape (file vs model)", reshaped))
            if items
        ]  # fmt: skip
        raise CheckpointError(f"weights in {path} do not fit this model ({'; '.join(parts)}); {hint}")
    broken = [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise CheckpointError(
            f"the weights in {path} are corrupt: {', '.join(broken[:4])}{' ...' if len(broken) > 4 else ''} "
            "hold NaN or infinite values (a damaged file, or a run that diverged); use an earlier checkpoint"
        )
    with torch.no_grad():
        for name, tensor in own.items():
            tensor.copy_(weights[name].to(device=tensor.device, dtype=tensor.dtype))


# ---------------------------------------------------------------------- save
def save_checkpoint(
    root: Path | str,
    step: int,
    *,
    model: nn.Module,
    training_state: dict[str, Any],
    ema_model: nn.Module | None = None,
    config_text: str | None = None,
    metric: float | None = None,
) -> Path:
    """Write a complete checkpoint for `step` under `root` atomically; returns its path.

    `model` / `ema_model` must be unwrapped (not DDP). `training_state` must hold only
    tensors, numbers, strings, None and lists/tuples/dicts of them (weights_only-safe).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_dir_name(step)
    try:
        check_replace_folder(final, kind=CHECKPOINT_FOLDER, force=True)
    except FileExistsError:  # a step_N that no save wrote: kept, under another name
        kept = _set_aside(final)
        warnings.warn(
            f"{final} is not a complete checkpoint (no {META}), so it was not written by a save; "
            f"kept as {kept.name} and step {step} saved in its place", stacklevel=2,
        )  # fmt: skip
    # re-saving the same step replaces the old checkpoint (swapped out, then deleted)
    with atomic_folder(final, kind=CHECKPOINT_FOLDER, force=True, fsync=True) as tmp:
        save_module_weights(model, tmp / "model")
        if ema_model is not None:
            save_module_weights(ema_model, tmp / "ema")
        torch.save(training_state, tmp / STATE)
        if config_text is not None:
            (tmp / "config.yaml").write_text(config_text)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        meta = {
            "format_version": FORMAT_VERSION,
            "step": int(step),
            "metric": None if metric is None else float(metric),
            "time": time.time(),
            "files": {
                str(p.relative_to(tmp)): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files
            },
        }
        (tmp / META).write_text(json.dumps(meta, indent=2))
        _test_delay(step)
    return final


def _set_aside(folder: Path) -> Path:
    """Rename `folder` to FOLDER.incomplete (or .incomplete-2, ...): kept, out of the way."""
    for n in range(1, 1000):
        kept = folder.with_name(f"{folder.name}.incomplete" + ("" if n == 1 else f"-{n}"))
        if not (kept.exists() or kept.is_symlink()):
            os.replace(folder, kept)
            return kept
    raise FileExistsError(f"{folder} is not a complete checkpoint and 999 older ones are kept beside it; clean up {folder.parent}")


def _test_delay(step: int) -> None:
    raw = os.environ.get(SAVE_DELAY_ENV, "")
    if not raw:
        return
    seconds, _, from_step = raw.partition("@")
    if step >= int(from_step or 0):
        time.sleep(float(seconds))


# ---------------------------------------------------------------------- find / verify / load
def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / META
    try:
        meta = json.loads(meta_path.read_text())
        int(meta["step"])
        dict(meta["files"])
    except FileNotFoundError:
        raise CheckpointError(f"{meta_path} is missing: {path} is not a complete checkpoint") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{meta_path} is corrupt ({exc}); delete {path} to use an older checkpoint") from exc
    return meta


def list_checkpoints(root: Path | str) -> list[CheckpointInfo]:
    """Complete checkpoints under `root` (``step_*`` dirs with a readable meta.json), oldest first."""
    root = Path(root)
    found: list[CheckpointInfo] = []
    if not root.is_dir():
        return found
    for d in root.iterdir():
        m = STEP_DIR.match(d.name)
        if not (m and d.is_dir() and (d / META).is_file()):
            continue
        try:
            meta = _read_meta(d)
        except CheckpointError:
            metric = None
        else:
            metric = meta.get("metric")
        found.append(CheckpointInfo(path=d, step=int(m.group(1)), metric=metric))
    return sorted(found, key=lambda c: c.step)


def skipped_checkpoints(root: Path | str) -> list[Path]:
    """``step_*`` entries under `root` that are not complete checkpoints (no meta.json: not
    written by a save, or damaged since), oldest first. `list_checkpoints` leaves them out;
    nothing deletes them."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [d for d in root.iterdir() if STEP_DIR.match(d.name) and not (d.is_dir() and (d / META).is_file())]
    return sorted(found, key=lambda d: int(STEP_DIR.match(d.name).group(1)))


def latest_checkpoint(root: Path | str) -> CheckpointInfo | None:
    """The newest complete checkpoint under `root`, or None."""
    found = list_checkpoints(root)
    return found[-1] if found else None


def verify_checkpoint(path: Path | str, *, hashes: bool = True) -> dict[str, Any]:
    """Check every file listed in meta.json exists with the recorded size (and SHA-256).

    Returns the meta dict; raises `CheckpointError` naming the first bad file.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a directory")
    meta = _read_meta(path)
    fix = f"delete {path} to resume from the checkpoint before it"
    for rel, info in meta["files"].items():
        f = path / rel
        if not f.is_file():
            raise CheckpointError(f"checkpoint file {f} is missing; {fix}")
        size = f.stat().st_size
        if size != info["size"]:
            raise CheckpointError(
                f"checkpoint file {f} has {size} bytes, expected {info['size']} (truncated?); {fix}"
            )
        if hashes and _sha256(f) != info["sha256"]:
            raise CheckpointError(f"checkpoint file {f} is corrupt (SHA-256 mismatch); {fix}")
    return meta


def load_training_state(path: Path | str) -> dict[str, Any]:
    """Read `path/training_state.pt` with weights_only=True (no arbitrary unpickling)."""
    f = Path(path) / STATE
    if not f.is_file():
        raise CheckpointError(f"training state {f} is missing; the checkpoint is incomplete")
    try:
        return torch.load(f, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip / unpickler errors for truncated or foreign files
        raise CheckpointError(f"cannot read {f}: {exc}; the file is truncated or corrupt") from exc


# ---------------------------------------------------------------------- housekeeping
def remove_partial(root: Path | str) -> list[Path]:
    """Delete the temporary folders of saves whose process is dead (killed mid-save); a live
    process's are kept (`vhdiff.atomic_io.remove_stale_partials`, and the ``.tmp-*`` names
    of older versions). Returns what was removed."""
    root = Path(root)
    removed = remove_stale_partials(root)
    if root.is_dir():
        for d in root.iterdir():
            match = LEGACY_TMP.match(d.name)
            if match is None or pid_alive(int(match["pid"])):
                continue
            if d.is_dir():
                delete_folder(d)
            else:
                d.unlink(missing_ok=True)
            removed.append(d)
    return removed


def read_best(root: Path | str) -> dict[str, Any] | None:
    """{"step": int, "metric": float, "path": str} of the best checkpoint so far, or None."""
    f = Path(root) / BEST
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text())
    except ValueError:
        return None


def write_best(root: Path | str, step: int, metric: float) -> None:
    root = Path(root)
    write_text_atomic(
        root / BEST,
        json.dumps({"step": int(step), "metric": float(metric), "path": step_dir_name(step)}),
        fsync=True,
    )


def prune_checkpoints(root: Path | str, *, keep_last: int) -> list[Path]:
    """Delete all but the newest `keep_last` checkpoints, always keeping the best one.

    keep_last <= 0 keeps everything. Returns the deleted directories.
    """
    if keep_last <= 0:
        return []
    found = list_checkpoints(root)
    best = read_best(root)
    best_step = None if best is None else int(best["step"])
    deleted = []
    for info in found[:-keep_last]:
        if info.step == best_step:
            continue
        delete_folder(info.path)  # renamed first: a crash mid-delete leaves no half step_* dir
        deleted.append(info.path)
    return deleted
