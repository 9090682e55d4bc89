"""Real Python snippets from installed sources, for the augmentation tests and benchmark (test data:
not part of the package; `algorithms` is a dev dependency).

Two corpora nobody here wrote: the modules of the `algorithms` package
and the functions and methods of the standard library, each cut out (dedented) as one snippet.
Both are read in sorted order, so the same installation always gives the same snippets.
"""

from __future__ import annotations

import ast
import sysconfig
import textwrap
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import algorithms

from codeboost_dagster.core.ids import content_id

_STDLIB_SKIPPED_DIRS = {"test", "tests", "idle_test", "site-packages", "lib2to3", "__pycache__"}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class RealSnippet:
    """One snippet: its content id, where it comes from and its code."""

    snippet_id: str
    origin: str
    code: str


def _snippet(origin: str, code: str) -> RealSnippet:
    return RealSnippet(content_id(code), origin, code)


def algorithms_modules() -> list[RealSnippet]:
    """Every non-empty module of the installed `algorithms` package, one snippet per file."""
    root = Path(algorithms.__file__).parent
    snippets = []
    for path in sorted(root.rglob("*.py")):
        code = path.read_text(encoding="utf-8")
        if code.strip():
            snippets.append(_snippet(str(path.relative_to(root.parent)), code))
    return snippets


def _stdlib_files(modules: Iterable[str] | None) -> Iterator[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(root.rglob("*.py")) if modules is None else [root / f"{name}.py" for name in modules]
    for path in paths:
        if not _STDLIB_SKIPPED_DIRS.intersection(path.relative_to(root).parts[:-1]):
            yield path


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, _FUNCTIONS):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from (member for member in node.body if isinstance(member, _FUNCTIONS))


def _compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<snippet>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _file_functions(path: Path) -> Iterator[RealSnippet]:
    try:
        source = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return
    lines = source.splitlines(keepends=True)
    for node in _functions(tree):
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        code = textwrap.dedent("".join(lines[first - 1 : node.end_lineno]))
        if _compiles(code):
            yield _snippet(f"{path.name}:{first}", code)


def stdlib_functions(limit: int, modules: Iterable[str] | None = None) -> list[RealSnippet]:
    """Up to `limit` distinct functions and methods of the standard library (dedented), one snippet each.

    Taken from the named top-level modules (e.g. `heapq`), or from every module (tests excluded),
    and ordered by content id: an even, reproducible sample rather than the first files' functions.
    """
    snippets = {snippet.snippet_id: snippet for path in _stdlib_files(modules) for snippet in _file_functions(path)}
    return [snippets[snippet_id] for snippet_id in sorted(snippets)[:limit]]
