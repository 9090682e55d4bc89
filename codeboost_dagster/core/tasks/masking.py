"""Which line of a program a backward task may mask (METHOD.md section 5).

A line is maskable when it is a whole simple statement of the snippet on a line of its own
(so `pass` at its indentation is a valid no-op in its place): not a compound header, not part of
a multi-line statement, not a `from __future__` import, not the call harness the sandbox stitched
on, and not a `pass`. Whether it is *load-bearing* (the no-op changes stdout, stderr or status)
is decided by running `noop_program`s in the sandbox (core.tasks.construction); whether its text is shown
elsewhere in the prompt by `shown_elsewhere`.
"""

from __future__ import annotations

import ast
import warnings
from collections import Counter

from codeboost_dagster.core.sandbox.program import harness_start

_SIMPLE_STATEMENTS = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Return,
    ast.Delete,
    ast.Raise,
    ast.Assert,
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
    ast.Break,
    ast.Continue,
)


def _is_future_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def maskable_lines(code: str) -> list[int]:
    """0-based indices of the lines that hold exactly one whole simple statement of the snippet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    per_line = Counter(
        line
        for node in statements
        for line in (
            range(node.lineno, (node.end_lineno or node.lineno) + 1)
            if isinstance(node, _SIMPLE_STATEMENTS)
            else (node.lineno,)
        )
    )
    end = harness_start(code)
    lines = code.split("\n")
    found = []
    for node in statements:
        index = node.lineno - 1
        if (
            isinstance(node, _SIMPLE_STATEMENTS)
            and node.end_lineno == node.lineno
            and per_line[node.lineno] == 1
            and not _is_future_import(node)
            and (end is None or index < end)
            and lines[index].strip() == ast.get_source_segment(code, node)
        ):
            found.append(index)
    return sorted(found)


def replace_line(code: str, index: int, text: str) -> str:
    """The code with line `index` replaced by `text` (one or more lines; a final newline is dropped)."""
    lines = code.split("\n")
    lines[index] = text[:-1] if text.endswith("\n") else text
    return "\n".join(lines)


def mask(code: str, index: int, token: str) -> str:
    """The code with line `index` replaced by the mask token."""
    return replace_line(code, index, token)


def indentation(line: str) -> str:
    """The line's leading white space."""
    return line[: len(line) - len(line.lstrip())]


def noop_line(line: str) -> str:
    """`pass` at the line's indentation: the program as if the line did nothing."""
    return indentation(line) + "pass"


def shown_elsewhere(line: str, prompt: str) -> bool:
    """The line's text (stripped) occurs in the prompt: a model could copy it instead of reasoning."""
    return line.strip() in prompt
