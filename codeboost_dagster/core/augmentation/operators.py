"""Which operator a logical mutation may put in place of another, and how to build it.

Operators are only exchanged inside a group of equal precedence (`+ -`, `* / // %`, `<< >>`,
`and or`, the six ordering comparisons, `in / not in`, `is / is not`), so the program text of
a variant parses to the same tree shape as the transformed CST. The bitwise group `& | ^` is
the one exception: its members differ in precedence, so `a & b ^ c` -> `a | b ^ c` regroups;
the variant is still valid Python and its mutation record is exact. `**` and `@` have no
partner and are never chosen. Unary operators: `-` <-> `+`, `~` -> `-`, and `not` is removed.
"""

from __future__ import annotations

import libcst as cst

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
