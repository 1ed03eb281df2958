"""Package discovery for the three source roots (metadata lives in pyproject.toml).

`vhdiff/` is the library; the top-level `viz/` and `data_prep/` folders install as
`vhdiff.viz` and `vhdiff.data_prep` (see ../shared/DESIGN.md, "Layout").
"""

from setuptools import find_packages, setup

ROOTS = {"vhdiff": "vhdiff", "vhdiff.viz": "viz", "vhdiff.data_prep": "data_prep"}


def _packages() -> list[str]:
    found = find_packages(include=["vhdiff", "vhdiff.*"])
    for name, folder in ROOTS.items():
        if folder == name:
            continue
        found += [name + sub[len(folder):] for sub in find_packages(include=[folder, folder + ".*"])]
    return sorted(set(found))


setup(
    packages=_packages(),
    package_dir=ROOTS,
    package_data={"vhdiff": ["assets/**/*"], "vhdiff.data_prep": ["*.json"]},
    include_package_data=True,
)
