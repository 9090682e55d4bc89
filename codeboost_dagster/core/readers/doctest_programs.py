"""Mine runnable programs from the doctests of an installed package, without importing it.

Each module with doctest examples becomes one standalone program: the module's source (its own
`__main__` block removed) followed by a `__main__` block that replays the examples, printing each
expression's value as the interactive session would. The documented output of the examples is
kept as `expected_stdout` (None when an example uses doctest directives or `...`, since then the
documented text is not the literal output). Examples that expect an exception are left out.
Source is only parsed (ast, doctest's parser), never executed here.
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
from codeboost_dagster.core.settings import IngestionSettings

_PARSER = doctest.DocTestParser()
_MAIN_GUARD_TEXT = "__name__"


@dataclass(frozen=True)
class DoctestProgram:
    """A program replaying a module's doctest session, with the output the docs promise."""

    code: str
    expected_stdout: str | None
    examples: int


def _is_main_guard(node: ast.stmt) -> bool:
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
        if _is_main_guard(node) and node.end_lineno is not None:
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


def package_directory(package: str) -> Path:
    """Where an installed top-level package lives, found without importing it."""
    if not package.isidentifier():
        raise ValueError(f"{package!r} is not a top-level package name")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"package {package!r} is not installed (or is a single module)")
    return Path(next(iter(spec.submodule_search_locations)))


def read_package_doctests(dump: str, package: str, settings: IngestionSettings) -> Iterator[RawSnippet]:
    """One row per module of `package` that has doctest examples; modules that import the package
    itself cannot run standalone and are recorded as unreadable."""
    root = package_directory(package)
    for path in sorted(root.rglob("*.py")):
        origin = f"{package}/{path.relative_to(root).as_posix()}"
        text = read_source_text(path, settings.max_code_bytes)
        if text.text is None:
            yield unreadable(dump, origin, text.reason or "unreadable_file", text.detail or origin)
            continue
        try:
            tree = ast.parse(text.text)
            program = program_from_module(text.text)
        except (SyntaxError, ValueError, RecursionError) as error:
            yield unreadable(dump, origin, "doctest_unparseable", f"{origin}: {type(error).__name__}: {error}")
            continue
        if program is None:
            continue
        if _imports_own_package(tree, package):
            yield unreadable(dump, origin, "imports_own_package", f"{origin} imports {package} and cannot run alone")
            continue
        yield snippet_from_source(dump, origin, program.code, expected_stdout=program.expected_stdout)
