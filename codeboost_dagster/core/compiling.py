"""Does code compile? Parsing and compiling only: nothing is executed."""

from __future__ import annotations

import ast
import sys
import warnings

_FRAMES_PER_TREE_LEVEL = 4
"""Python frames libcst's recursive walks use per tree level, with margin (measured: codegen with
positions fails between depth 300 and 350 at the default limit of 1000)."""


def compile_problem(code: str) -> str | None:
    """Why `compile()` rejects the code ("line N: message"), or None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<snippet>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def max_nesting_depth() -> int:
    """Deepest syntax tree (counted on CPython's AST) that libcst can walk at the current recursion limit."""
    return sys.getrecursionlimit() // _FRAMES_PER_TREE_LEVEL


def depth_exceeds(tree: ast.AST, limit: int) -> bool:
    """The syntax tree has a path longer than `limit` nodes (checked without recursion)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False
