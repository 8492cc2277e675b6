"""The package's layering (docs/architecture.md): stages import only stages below them, and no
module imports, directly or through others, a module that imports it back.

Every import counts, also the ones inside functions: a deferred import is still a
dependency, and deferring one is the usual way a cycle hides.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "compiler"

# Lowest first. A module may import modules of a lower rank, and modules of its own group
# (the same subpackage) as long as no cycle forms.
RANKS = {
    "silifc.version": 0, "silifc.errors": 0, "silifc.ir": 0, "silifc.progress": 0,
    "silifc.io": 1,
    "silifc.reference": 2,
    "silifc.passes": 3,
    "silifc.codegen": 4,
    "silifc.target": 5,
    "silifc.pipeline": 6,
    "silifc.train": 7,
    "silifc.kws": 8,
    "silifc.plots": 9,            # matplotlib figures of the stages' results
    "silifc.api": 10,             # the Python API: what the CLI calls
    "silifc.cli": 11,
    "silifc": 12,                 # the package itself: exports the API lazily
}


pytestmark = pytest.mark.unit


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["silifc", *parts])


def _group(module: str) -> str:
    """The entry of RANKS a module belongs to (its top-level subpackage, or itself)."""
    parts = module.split(".")
    for length in range(min(len(parts), 2), 0, -1):
        candidate = ".".join(parts[:length])
        if candidate in RANKS:
            return candidate
    raise KeyError(module)


def import_graph() -> dict[str, set[str]]:
    """module -> the silifc modules it imports (relative imports resolved)."""
    modules = {_module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from pkg import module` imports the module; `from module import name` the module.
                found = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                         for alias in node.names]
            else:
                continue
            targets.update(t for t in found if t == "silifc" or t.startswith("silifc."))
        targets.discard(name)
        graph[name] = {t for t in targets if t in modules}
    return graph


def test_every_module_has_a_rank():
    unranked = [module for module in import_graph() if not any(
        module == group or module.startswith(group + ".") for group in RANKS)]
    assert not unranked, f"add these to RANKS (and to docs/architecture.md): {unranked}"


def test_no_import_points_up_or_sideways():
    wrong = []
    for module, targets in import_graph().items():
        for target in targets:
            mine, theirs = _group(module), _group(target)
            if mine != theirs and RANKS[theirs] >= RANKS[mine]:
                wrong.append(f"{module} -> {target} ({mine} rank {RANKS[mine]}, {theirs} rank {RANKS[theirs]})")
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, int] = {}          # 1: on the current path, 2: done
    cycles = []

    def visit(module, path):
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_check_sees_a_cycle_and_an_upward_import(tmp_path, monkeypatch):
    """The checks above must be able to fail: a fake package with both faults."""
    fake = tmp_path / "compiler"
    (fake / "io").mkdir(parents=True)
    (fake / "cli").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "io" / "__init__.py").write_text("")
    (fake / "io" / "a.py").write_text("from . import b\nfrom ..cli import main\n")
    (fake / "io" / "b.py").write_text("def f():\n    from .a import x\n")
    (fake / "cli" / "__init__.py").write_text("from ..io import a\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE_ROOT", fake)
    with pytest.raises(AssertionError, match="silifc.io.a -> silifc.cli"):
        test_no_import_points_up_or_sideways()
    with pytest.raises(AssertionError, match="silifc.io.a -> silifc.io.b -> silifc.io.a"):
        test_no_import_cycles()
