"""Package discovery for the three source roots (metadata lives in pyproject.toml).

`vhdiff/` is the library; the top-level `viz/` and `data_prep/` folders install as
`vhdiff.viz` and `vhdiff.data_prep` (see ../shared/DESIGN.md, "Layout"), and the top-level
`configs/` (the run configs, YAML only) as the data folder `vhdiff/configs`, so a wheel
resolves `vhdiff train NAME` (vhdiff.bundled_configs) while the repository keeps its layout.
"""

from pathlib import Path

from setuptools import find_packages, setup

ROOTS = {"vhdiff": "vhdiff", "vhdiff.viz": "viz", "vhdiff.data_prep": "data_prep"}
DATA_ROOTS = {"vhdiff.configs": "configs"}  # folders of data files, no Python
ASSETS = Path("vhdiff/assets")  # the bundled models, one data folder each


def _data_packages() -> dict[str, list[str]]:
    """Each folder of data files as a package of its own, with every file as its data
    (listing them keeps setuptools from warning that it would ignore them)."""
    folders = [ASSETS, *sorted(path for path in ASSETS.rglob("*") if path.is_dir())]
    data = {".".join(folder.parts): ["*"] for folder in folders}
    return data | {name: ["*.yaml"] for name in DATA_ROOTS}


def _packages() -> list[str]:
    found = find_packages(include=["vhdiff", "vhdiff.*"])
    for name, folder in ROOTS.items():
        if folder == name:
            continue
        found += [name + sub[len(folder):] for sub in find_packages(include=[folder, folder + ".*"])]
    return sorted(set(found) | set(_data_packages()))


setup(
    packages=_packages(),
    package_dir=ROOTS | DATA_ROOTS,
    package_data={"vhdiff.data_prep": ["*.json"], **_data_packages()},
    include_package_data=True,
)
