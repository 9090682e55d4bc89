"""The layering rules. `core` and `verl` are plain Python: verl imports the reward and the job in
its own environment, where Dagster cannot be installed, so not one of their modules may pull
Dagster in, directly or through another module. The schema registry imports nothing of ours (nor
libcst or pandas), so any layer can read the table contracts. No import circle inside `core`, at
module or package level, counting every import statement (in functions and under
`TYPE_CHECKING` too); the task domain (`core/tasks`) imports no training code."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import codeboost_dagster

PACKAGE_ROOT = Path(codeboost_dagster.__file__).parent

PROBE = """
import importlib, json, pkgutil, sys
import codeboost_dagster.core, codeboost_dagster.verl
names = sorted(
    info.name
    for package in (codeboost_dagster.core, codeboost_dagster.verl)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
)
offenders = {}
for name in names:
    before = set(sys.modules)
    importlib.import_module(name)
    pulled = sorted(m for m in set(sys.modules) - before if m == "dagster" or m.startswith("dagster."))
    if pulled:
        offenders[name] = pulled[:3]
print(json.dumps({"modules": names, "offenders": offenders}))
"""


def test_every_core_and_verl_module_imports_without_dagster():
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "codeboost_dagster.verl.reward" in report["modules"]
    assert "codeboost_dagster.core.settings" in report["modules"]
    assert len(report["modules"]) > 50
    assert report["offenders"] == {}


def test_the_schema_registry_is_a_leaf():
    probe = (
        "import json, sys; import codeboost_dagster.core.schemas; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('codeboost_dagster', 'libcst', 'pandas')))))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout) == [
        "codeboost_dagster",
        "codeboost_dagster.core",
        "codeboost_dagster.core.schemas",
    ]


def _imports(root: Path) -> dict[str, set[str]]:
    """Each module of the package at `root` and the modules of it that it imports, read from every
    import statement (in functions and under `TYPE_CHECKING` too)."""
    paths = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in paths.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                anchor = package[: len(package) + 1 - node.level] if node.level else []
                base = ".".join([*anchor, *([node.module] if node.module else [])])
                imported |= {
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in paths else base for alias in node.names
                }
        graph[name] = {module for module in imported if module in paths and module != name}
    return graph


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return error.args[1]
    return None


def _unit(module: str) -> str:
    """The package or top-level module of `core` that `module` belongs to (core.tasks.prompts -> core.tasks)."""
    return ".".join(module.split(".")[:3])


CORE_IMPORTS = {
    module: {other for other in imported if other.startswith("codeboost_dagster.core")}
    for module, imported in _imports(PACKAGE_ROOT).items()
    if module.startswith("codeboost_dagster.core")
}


def test_no_import_circle_among_core_modules():
    assert _circle(CORE_IMPORTS) is None


def test_no_import_circle_among_core_packages():
    units: dict[str, set[str]] = {}
    for module, imported in CORE_IMPORTS.items():
        units.setdefault(_unit(module), set()).update(
            _unit(other) for other in imported if _unit(other) != _unit(module)
        )
    assert _circle(units) is None


def test_a_circle_through_a_type_checking_or_relative_import_is_found(tmp_path):
    package = tmp_path / "shapes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "site.py").write_text("from .level import rule\n")
    (package / "level.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shapes.site import Site\nrule = 1\n"
    )
    assert set(_circle(_imports(package))) == {"shapes.site", "shapes.level"}


def test_the_task_domain_imports_no_training_code():
    reached, frontier = set(), [module for module in CORE_IMPORTS if _unit(module) == "codeboost_dagster.core.tasks"]
    assert len(frontier) >= 9
    while frontier:
        module = frontier.pop()
        if module not in reached:
            reached.add(module)
            frontier += CORE_IMPORTS[module]
    assert not {module for module in reached if _unit(module) == "codeboost_dagster.core.training"}
