"""The layout's rules, checked on the source: import direction, no cycles, argparse only in
the command layer, no private names across modules, light imports for the core and backbones.

Imports are read from the AST of every module of the package (vhdiff/, viz/ as vhdiff.viz,
data_prep/ as vhdiff.data_prep), including imports inside functions: a lazy import is still
a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"vhdiff": REPO / "vhdiff", "vhdiff.viz": REPO / "viz", "vhdiff.data_prep": REPO / "data_prep"}


def _modules() -> dict[str, Path]:
    out = {}
    for prefix, folder in ROOTS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


MODULES = _modules()


def _package(name: str) -> str:
    return name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import statement of `name`."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = _package(name).split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([node.module] if node.module else []))
            found.append((base, [a.name for a in node.names], node.lineno))
    return found


def _edges() -> dict[str, set[str]]:
    """module -> the vhdiff modules it imports (a `from pkg import sub` counts as pkg.sub)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for name in MODULES:
        for target, names, _ in _imports(name):
            if not target.startswith("vhdiff"):
                continue
            for sub in names:
                if f"{target}.{sub}" in MODULES:
                    graph[name].add(f"{target}.{sub}")
            if target in MODULES:
                graph[name].add(target)
    for name, targets in graph.items():  # a module importing its own name: not an edge
        targets.discard(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_package_init_edge(a: str, b: str) -> bool:
    """a package's __init__ importing its own submodule, or a submodule its package: the
    usual re-export pattern; Python imports the package first either way."""
    return b.startswith(a + ".") and MODULES[a].name == "__init__.py"


def test_no_import_cycle_anywhere():
    graph = _edges()
    pruned = {a: {b for b in bs if not _is_package_init_edge(a, b)} for a, bs in graph.items()}
    assert _cycles(pruned) == []


def test_the_cycle_check_finds_a_cycle():
    """Negative control."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _allowed(source: str, target: str) -> bool:
    rules = {
        "vhdiff.diffusion": ("vhdiff.diffusion",),
        "vhdiff.backbones": ("vhdiff.backbones",),
        "vhdiff.pipelines": ("vhdiff.pipelines", "vhdiff.diffusion", "vhdiff.backbones", "vhdiff.text",
                             "vhdiff.atomic_io", "vhdiff.config", "vhdiff.registry", "vhdiff.training.checkpoint"),
        "vhdiff.training": ("vhdiff.training", "vhdiff.diffusion", "vhdiff.atomic_io"),
    }
    for package, allowed in rules.items():
        if source == package or source.startswith(package + "."):
            return any(target == a or target.startswith(a + ".") for a in allowed)
    if target.startswith("vhdiff.commands"):  # nothing imports the command layer
        return source.startswith("vhdiff.commands") or source == "vhdiff.cli"
    return True


def test_dependency_direction():
    bad = [
        f"{a} imports {b}"
        for a, targets in _edges().items() for b in sorted(targets) if not _allowed(a, b)
    ]
    assert bad == []


def test_argparse_only_in_the_command_layer():
    users = sorted(
        name for name in MODULES
        if any(target == "argparse" for target, _, _ in _imports(name))
    )
    assert all(u == "vhdiff.cli" or u.startswith("vhdiff.commands.") for u in users), users


def test_no_private_name_is_imported_across_modules():
    bad = []
    for name in MODULES:
        for target, names, line in _imports(name):
            if target.startswith("vhdiff"):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                hidden = [p for p in target.split(".") if p.startswith("_") and p != "__init__"]
                if private or hidden:
                    bad.append(f"{name}:{line} from {target} import {', '.join(names)}")
    assert bad == []


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_inference_does_not_import_the_training_engine():
    code = (
        "import sys, vhdiff.motion.pipeline; "
        "print(sorted(m for m in sys.modules if m == 'vhdiff.training' or m.startswith('vhdiff.training.')"
        " or m == 'vhdiff.config'))"
    )
    assert _run(code) == "[]"


@pytest.mark.parametrize("module", ["vhdiff.diffusion", "vhdiff.backbones", "vhdiff.pipelines"])
def test_the_core_and_backbones_import_light(module):
    heavy = ("open_clip", "smplx", "pyrender", "trimesh", "torchvision", "omegaconf", "matplotlib")
    code = f"import sys, {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    assert _run(code) == "[]"
