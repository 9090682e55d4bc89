"""Logical-level augmentation: six libcst transformers, each changing AT MOST ONE node per variant.

For each transformer in `LOGICAL_KINDS` order: if the snippet has at least one candidate node,
then with probability p one candidate, chosen uniformly, is rewritten (so P(applies) = p for
every transformer with a candidate, whatever the number of candidates). The public release
instead tried every node in order with probability p and stopped at the first success, which
favours early nodes and applies with probability 1-(1-p)^n; its result was then discarded by
a tuple-as-bool bug. Rewrites return new nodes; the parsed module itself is never changed.

Which operator may replace another: operators are only exchanged inside a group of equal
precedence (`+ -`, `* / // %`, `<< >>`, `and or`, the six ordering comparisons, `in / not in`,
`is / is not`), so the program text of a variant parses to the same tree shape as the
transformed CST. The bitwise group `& | ^` is the one exception: its members differ in
precedence, so `a & b ^ c` -> `a | b ^ c` regroups; the variant is still valid Python and its
mutation record is exact. `**` and `@` have no partner and are never chosen. Unary operators:
`-` <-> `+`, `~` -> `-`, and `not` is removed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import libcst as cst

from codeboost_dagster.core.augmentation.edits import CodeEdit, Rewrite, Site
from codeboost_dagster.core.augmentation.mutations import (
    AUGMENTED_ASSIGNMENT,
    BINARY_OPERATOR,
    BOOLEAN_OPERATOR,
    COMPARISON_OPERATOR,
    IF_NEGATION,
    LOGICAL_KINDS,
    LOGICAL_LEVEL,
    UNARY_OPERATOR,
)

BINARY_GROUPS: tuple[tuple[type[cst.BaseBinaryOp], ...], ...] = (
    (cst.Add, cst.Subtract),
    (cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo),
    (cst.LeftShift, cst.RightShift),
    (cst.BitAnd, cst.BitOr, cst.BitXor),
)
BOOLEAN_GROUPS: tuple[tuple[type[cst.BaseBooleanOp], ...], ...] = ((cst.And, cst.Or),)
AUGMENTED_GROUPS: tuple[tuple[type[cst.BaseAugOp], ...], ...] = (
    (cst.AddAssign, cst.SubtractAssign),
    (cst.MultiplyAssign, cst.DivideAssign, cst.FloorDivideAssign, cst.ModuloAssign),
    (cst.LeftShiftAssign, cst.RightShiftAssign),
    (cst.BitAndAssign, cst.BitOrAssign, cst.BitXorAssign),
)
COMPARISON_GROUPS: tuple[tuple[type[cst.BaseCompOp], ...], ...] = (
    (cst.Equal, cst.NotEqual, cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual),
    (cst.In, cst.NotIn),
    (cst.Is, cst.IsNot),
)
UNARY_REPLACEMENTS: dict[type[cst.BaseUnaryOp], type[cst.BaseUnaryOp] | None] = {
    cst.Minus: cst.Plus,
    cst.Plus: cst.Minus,
    cst.BitInvert: cst.Minus,
    cst.Not: None,
}
"""Unary operator -> its replacement; None means the operator is removed."""

_TWO_TOKEN_OPERATORS = (cst.NotIn, cst.IsNot)


def _alternatives(groups: tuple[tuple[type, ...], ...]) -> dict[type, tuple[type, ...]]:
    return {member: tuple(other for other in group if other is not member) for group in groups for member in group}


BINARY_ALTERNATIVES = _alternatives(BINARY_GROUPS)
BOOLEAN_ALTERNATIVES = _alternatives(BOOLEAN_GROUPS)
AUGMENTED_ALTERNATIVES = _alternatives(AUGMENTED_GROUPS)
COMPARISON_ALTERNATIVES = _alternatives(COMPARISON_GROUPS)

_EMPTY_MODULE = cst.Module(body=[])
_TOKENS: dict[type[cst.CSTNode], str] = {
    operator_type: _EMPTY_MODULE.code_for_node(operator_type()).strip()
    for operator_type in (
        *BINARY_ALTERNATIVES,
        *BOOLEAN_ALTERNATIVES,
        *AUGMENTED_ALTERNATIVES,
        *COMPARISON_ALTERNATIVES,
        *UNARY_REPLACEMENTS,
    )
}


def operator_token(operator_type: type[cst.CSTNode]) -> str:
    """The source text of an operator without surrounding whitespace (`not in` keeps one space)."""
    return _TOKENS[operator_type]


def replace_operator(old: cst.CSTNode, new_type: type[cst.CSTNode]) -> cst.CSTNode:
    """A `new_type` operator that keeps the whitespace `old` owned, so only the token changes."""
    if isinstance(old, cst.BaseUnaryOp):
        return new_type(whitespace_after=old.whitespace_after)
    changes = {"whitespace_before": old.whitespace_before, "whitespace_after": old.whitespace_after}
    if issubclass(new_type, _TWO_TOKEN_OPERATORS):
        changes["whitespace_between"] = cst.SimpleWhitespace(" ")
    return new_type(**changes)


EditBuilder = Callable[[Site, random.Random, str], CodeEdit]


def _with_operator(operator: cst.CSTNode) -> Rewrite:
    def rewrite(updated: cst.CSTNode) -> cst.CSTNode:
        return updated.with_changes(operator=operator)

    return rewrite


def _operator_swap(alternatives: dict[type, tuple[type, ...]]) -> EditBuilder:
    def build(site: Site, rng: random.Random, source: str) -> CodeEdit:
        old = site.node.operator
        new_type = rng.choice(alternatives[type(old)])
        return CodeEdit(LOGICAL_LEVEL, site, operator_token(new_type), _with_operator(replace_operator(old, new_type)))

    return build


def _remove_not(updated: cst.UnaryOperation) -> cst.BaseExpression:
    operand = updated.expression
    return operand.with_changes(lpar=[*updated.lpar, *operand.lpar], rpar=[*operand.rpar, *updated.rpar])


def _unary(site: Site, rng: random.Random, source: str) -> CodeEdit:
    old = site.node.operator
    new_type = UNARY_REPLACEMENTS[type(old)]
    if new_type is None:
        return CodeEdit(LOGICAL_LEVEL, site, "", _remove_not)
    return CodeEdit(LOGICAL_LEVEL, site, operator_token(new_type), _with_operator(replace_operator(old, new_type)))


def _negate_if_test(site: Site, rng: random.Random, source: str) -> CodeEdit:
    needs_space = not site.node.whitespace_before_test.value
    wrapped = (" " if needs_space else "") + "not (" + source[site.start : site.end] + ")"

    def rewrite(updated: cst.If) -> cst.If:
        test = updated.test
        parenthesized = test.with_changes(lpar=[cst.LeftParen(), *test.lpar], rpar=[*test.rpar, cst.RightParen()])
        negated = cst.UnaryOperation(
            operator=cst.Not(whitespace_after=cst.SimpleWhitespace(" ")), expression=parenthesized
        )
        space = cst.SimpleWhitespace(" ") if needs_space else updated.whitespace_before_test
        return updated.with_changes(test=negated, whitespace_before_test=space)

    return CodeEdit(LOGICAL_LEVEL, site, wrapped, rewrite)


TRANSFORMERS: dict[str, EditBuilder] = {
    BINARY_OPERATOR: _operator_swap(BINARY_ALTERNATIVES),
    BOOLEAN_OPERATOR: _operator_swap(BOOLEAN_ALTERNATIVES),
    UNARY_OPERATOR: _unary,
    AUGMENTED_ASSIGNMENT: _operator_swap(AUGMENTED_ALTERNATIVES),
    COMPARISON_OPERATOR: _operator_swap(COMPARISON_ALTERNATIVES),
    IF_NEGATION: _negate_if_test,
}
"""Mutation kind -> how one chosen candidate is rewritten."""


def plan_logical_edits(sites: dict[str, list[Site]], rng: random.Random, p: float, source: str) -> list[CodeEdit]:
    """At most one edit per transformer: with probability p, a uniformly chosen candidate."""
    edits = []
    for kind in LOGICAL_KINDS:
        candidates = sites.get(kind)
        if candidates and rng.random() < p:
            site = candidates[rng.randrange(len(candidates))]
            edits.append(TRANSFORMERS[kind](site, rng, source))
    return edits
