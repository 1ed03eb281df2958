"""The run configs that ship with vhdiff, found by name: `vhdiff train motion_synthetic`.

They are the repository's `configs/*.yaml`; a wheel carries them as `vhdiff/configs/` (setup.py
maps the folder), and a clone or an editable install reads the repository's folder itself.
A name is a file's stem; anything else given to `resolve_config` is a path. Relative paths
inside a config (`data.params.root: data/motion_synthetic`, `trainer.out_dir`) are relative
to the working directory, wherever the YAML file lies.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["bundled_config_dir", "bundled_configs", "config_summary", "resolve_config"]

PACKAGE = Path(__file__).resolve().parent
SUFFIXES = (".yaml", ".yml")


def bundled_config_dir() -> Path:
    """The folder of the bundled configs: `vhdiff/configs` in a wheel, else the checkout's."""
    installed = PACKAGE / "configs"
    if installed.is_dir():
        return installed
    checkout = PACKAGE.parent
    if (checkout / "pyproject.toml").is_file():  # a clone, or an editable install of one
        return checkout / "configs"
    return installed


def bundled_configs() -> dict[str, Path]:
    """Name (the file's stem) -> path of every bundled config, sorted by name."""
    folder = bundled_config_dir()
    if not folder.is_dir():
        return {}
    files = [path for path in folder.iterdir() if path.suffix in SUFFIXES and path.is_file()]
    return {path.stem: path for path in sorted(files)}


def config_summary(path: Path) -> str:
    """The first comment line of a config file (its one-line description), or ''."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if line.strip():
            break
    return ""


def resolve_config(name_or_path: str | os.PathLike) -> Path:
    """The YAML file meant by a bundled config's name or by a path.

    Raises ValueError for an unknown name and FileNotFoundError for a missing path, each
    listing the bundled names.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    bundled = bundled_configs()
    names = ", ".join(bundled) or "none found"
    is_name = path.suffix not in SUFFIXES and "/" not in text and os.sep not in text
    if is_name and text in bundled:
        return bundled[text]
    if is_name:
        raise ValueError(
            f"unknown config {text!r}: give a bundled config's name ({names}; "
            "`vhdiff train --list` describes them) or the path of a YAML file"
        )
    hint = ""
    if path.stem in bundled:
        hint = f"; the bundled config of that name: `vhdiff train {path.stem}`"
    raise FileNotFoundError(f"config file {text} does not exist{hint} (bundled configs: {names})")
