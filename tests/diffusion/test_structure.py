"""vhdiff.diffusion's imports: torch only from outside, no cycle, no private name across modules.

Read from the source (every import statement, also those inside functions), not from
sys.modules, so a lazy import cannot hide a cycle.
"""

import ast
import subprocess
import sys
from pathlib import Path

import vhdiff.diffusion

PACKAGE = Path(vhdiff.diffusion.__file__).parent


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """module name -> [(imported module, imported names)] for every import in vhdiff.diffusion."""
    out = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found.extend((a.name, []) for a in node.names)
        out[path.stem] = found
    return out


def test_the_core_imports_nothing_else_from_vhdiff_and_no_private_names():
    for module, found in _imports().items():
        for target, names in found:
            if target.startswith("vhdiff"):
                assert target.startswith("vhdiff.diffusion"), (module, target)
                assert not target.split(".")[-1].startswith("_"), (module, target)
                assert not [n for n in names if n.startswith("_")], (module, target, names)


def test_no_import_cycle_inside_the_core():
    graph = {
        module: {t.split(".")[2] for t, _ in found if t.startswith("vhdiff.diffusion.")}
        for module, found in _imports().items()
    }
    assert "samplers" not in graph["gaussian"] and "core" not in graph["gaussian"]
    state: dict[str, str] = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != "open", f"import cycle: {' -> '.join([*path, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_building_a_diffusion_loads_neither_the_run_config_nor_the_trainer():
    code = (
        "import sys, json; from vhdiff.diffusion import GaussianDiffusion; "
        "d = GaussianDiffusion.from_dict({'prediction': 'x0', 'schedule': 'cosine'}); "
        "bad = [m for m in ('vhdiff.config', 'vhdiff.training', 'omegaconf') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
