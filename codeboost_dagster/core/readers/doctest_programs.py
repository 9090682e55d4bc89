"""Mine runnable programs from the doctests of an installed package, without importing it.

Each module with doctest examples becomes one standalone program: the module's source (its own
`__main__` block removed) followed by a `__main__` block that replays the examples, printing each
expression's value as the interactive session would. The documented output of the examples is
kept as `expected_stdout` (None when an example uses doctest directives or `...`, since then the
documented text is not the literal output). Examples that expect an exception are left out.
Source is only parsed (ast, doctest's parser), never executed here.

A package the sandbox runtime has (core.sandbox.runtime) is read from the runtime's own copy, and
its modules' relative imports become absolute ones: the code the output depends on stays shown,
and the rest of the package comes from the runtime. A module of any other package that imports
its own package cannot run alone (`imports_own_package`).
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codeboost_dagster.core.readers.records import RawSnippet, snippet_from_source, unreadable
from codeboost_dagster.core.readers.text_files import read_source_text
from codeboost_dagster.core.sandbox.runtime import built_runtime_modules, built_runtime_site_packages
from codeboost_dagster.core.settings import IngestionSettings

_PARSER = doctest.DocTestParser()
_MAIN_GUARD_TEXT = "__name__"


@dataclass(frozen=True)
class DoctestProgram:
    """A program replaying a module's doctest session, with the output the docs promise."""

    code: str
    expected_stdout: str | None
    examples: int


def is_main_guard(node: ast.stmt) -> bool:
    """Whether a top-level statement is an `if __name__ == ...:` block."""
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == _MAIN_GUARD_TEXT
    )


def _docstrings(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=True)
            if docstring:
                yield docstring


def _example_statement(example: doctest.Example) -> str:
    source = example.source.rstrip("\n")
    try:
        expression = ast.parse(source, mode="eval").body
    except SyntaxError:
        return source
    is_print_call = isinstance(expression, ast.Call) and getattr(expression.func, "id", None) == "print"
    if example.want and not is_print_call:
        return f"print(repr({source}))"
    return source


def _module_without_main_block(source: str, tree: ast.Module) -> str:
    lines = source.splitlines()
    for node in reversed(tree.body):
        if is_main_guard(node) and node.end_lineno is not None:
            del lines[node.lineno - 1 : node.end_lineno]
    return "\n".join(lines).rstrip() + "\n"


def program_from_module(source: str) -> DoctestProgram | None:
    """The doctest-replaying program for one module's source, or None if it has no examples."""
    tree = ast.parse(source)
    examples = [
        example
        for docstring in _docstrings(tree)
        for example in _PARSER.get_examples(docstring)
        if example.exc_msg is None
    ]
    if not examples:
        return None
    body = "\n".join("    " + line for example in examples for line in _example_statement(example).splitlines())
    literal = all(not example.options and "..." not in example.want for example in examples)
    code = f'{_module_without_main_block(source, tree)}\n\nif __name__ == "__main__":\n{body}\n'
    expected = "".join(example.want for example in examples) if literal else None
    return DoctestProgram(code=code, expected_stdout=expected, examples=len(examples))


def _imports_own_package(tree: ast.Module, package: str) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").split(".")[0] == package):
            return True
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == package for alias in node.names):
            return True
    return False


def absolute_imports(source: str, tree: ast.Module, package: str) -> str:
    """`source` with each relative import spelled absolutely from `package` (the module's own
    package, dotted), keeping every other line where it was."""
    lines = source.split("\n")
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]
    for node in sorted(relative, key=lambda node: node.lineno, reverse=True):
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        absolute = ast.ImportFrom(module=".".join(filter(None, [base, node.module])), names=node.names, level=0)
        first, last = node.lineno - 1, node.end_lineno - 1
        prefix, suffix = lines[first][: node.col_offset], lines[last][node.end_col_offset :]
        lines[first : last + 1] = [prefix + ast.unparse(absolute) + suffix] + [""] * (last - first)
    return "\n".join(lines)


def package_directory(package: str) -> tuple[Path, bool]:
    """Where a top-level package's sources are, found without importing it, and whether the sandbox
    runtime provides it (then its copy is read: the programs run against it)."""
    if not package.isidentifier():
        raise ValueError(f"{package!r} is not a top-level package name")
    site = built_runtime_site_packages()
    if site is not None and package in built_runtime_modules() and (site / package).is_dir():
        return site / package, True
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"package {package!r} is not installed (or is a single module)")
    return Path(next(iter(spec.submodule_search_locations))), False


def read_package_doctests(dump: str, package: str, settings: IngestionSettings) -> Iterator[RawSnippet]:
    """One row per module of `package` that has doctest examples; for a package outside the sandbox
    runtime, modules that import the package itself cannot run standalone and are recorded as unreadable."""
    root, in_runtime = package_directory(package)
    for path in sorted(root.rglob("*.py")):
        origin = f"{package}/{path.relative_to(root).as_posix()}"
        text = read_source_text(path, settings.max_code_bytes)
        if text.text is None:
            yield unreadable(dump, origin, text.reason or "unreadable_file", text.detail or origin)
            continue
        try:
            tree = ast.parse(text.text)
            source = text.text
            if in_runtime:
                parts = path.relative_to(root).with_suffix("").parts
                module_package = ".".join([package, *parts[:-1]])  # pkg/sub/mod.py and pkg/sub/__init__.py: pkg.sub
                source = absolute_imports(source, tree, module_package)
            program = program_from_module(source)
        except (SyntaxError, ValueError, RecursionError) as error:
            yield unreadable(dump, origin, "doctest_unparseable", f"{origin}: {type(error).__name__}: {error}")
            continue
        if program is None:
            continue
        if not in_runtime and _imports_own_package(tree, package):
            yield unreadable(dump, origin, "imports_own_package", f"{origin} imports {package} and cannot run alone")
            continue
        yield snippet_from_source(dump, origin, program.code, expected_stdout=program.expected_stdout)
