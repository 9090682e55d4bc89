"""Canonical programs (METHOD.md section 5): a snippet without its docstrings and comments.

What runs is what the model is shown, so no prompt may state its own output; docstrings (doctest
examples above all) and comments routinely do. The canonical program removes, with libcst, every
statement that is a bare string literal (docstrings and other unused string statements) and
every comment; a block left empty gets `pass`. The result is re-checked with `compile()`.
`source_lines` maps each canonical line back to its line in the original, so lineage still
reaches the dump's file and line.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from codeboost_dagster.core.compiling import compile_problem, depth_exceeds, max_nesting_depth


class NotCanonical(ValueError):
    """The snippet cannot be made canonical (libcst cannot parse it, or the result does not compile)."""


@dataclass(frozen=True)
class CanonicalProgram:
    """The canonical code and, per canonical line, the 1-based original line it came from (None: added)."""

    code: str
    source_lines: tuple[int | None, ...]


def _is_bare_string(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


class _StripDocumentation(cst.CSTTransformer):
    """Drops bare string statements and comments; keeps blank lines that carried no comment."""

    def leave_EmptyLine(self, original_node: cst.EmptyLine, updated_node: cst.EmptyLine):
        return cst.RemoveFromParent() if updated_node.comment is not None else updated_node

    def leave_TrailingWhitespace(self, original_node: cst.TrailingWhitespace, updated_node: cst.TrailingWhitespace):
        return updated_node.with_changes(comment=None, whitespace=cst.SimpleWhitespace(""))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock):
        body = [statement for statement in updated_node.body if not _is_bare_string(statement)]
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return updated_node.with_changes(body=body)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module):
        body = [statement for statement in updated_node.body if not _is_bare_string(statement)]
        return updated_node.with_changes(body=body, header=[], footer=[])


def _line_map(original: Sequence[str], canonical: Sequence[str]) -> tuple[int | None, ...]:
    """Each canonical line's original line: equal lines align; inside a changed block a canonical line
    maps to the next original line it begins (a line whose comment was cut), else to None (`pass`)."""
    mapped: list[int | None] = [None] * len(canonical)
    matcher = difflib.SequenceMatcher(
        None, [line.rstrip() for line in original], [line.rstrip() for line in canonical], autojunk=False
    )
    for tag, first_start, first_end, second_start, second_end in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(first_end - first_start):
                mapped[second_start + offset] = first_start + offset + 1
        elif tag == "replace":
            position = first_start
            for index in range(second_start, second_end):
                text = canonical[index].rstrip()
                match = next((line for line in range(position, first_end) if original[line].startswith(text)), None)
                if text and match is not None:
                    mapped[index], position = match + 1, match + 1
    return tuple(mapped)


def canonical_program(code: str) -> CanonicalProgram:
    """The snippet without docstrings and comments, with its line map; raises NotCanonical.

    Code that does not compile, nests deeper than libcst can walk (checked first, on CPython's own
    AST, since libcst's parse time grows quadratically with depth), or that libcst does not print
    back exactly (a lone carriage return) cannot be made canonical."""
    problem = compile_problem(code)
    if problem is not None:
        raise NotCanonical(f"the snippet does not compile: {problem}")
    if depth_exceeds(ast.parse(code), max_nesting_depth()):
        raise NotCanonical(f"syntax tree deeper than {max_nesting_depth()} levels")
    try:
        module = cst.parse_module(code)
        if module.code != code:
            raise NotCanonical("libcst does not print the snippet back exactly")
        stripped = module.visit(_StripDocumentation()).code
    except (cst.ParserSyntaxError, RecursionError, cst.CSTValidationError) as error:
        raise NotCanonical(f"{type(error).__name__}: {error}") from None
    stripped = stripped.lstrip("\n")
    problem = compile_problem(stripped)
    if problem is not None:
        raise NotCanonical(f"the canonical program does not compile: {problem}")
    return CanonicalProgram(stripped, _line_map(code.split("\n"), stripped.split("\n")))
