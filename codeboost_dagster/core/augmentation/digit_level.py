"""Digit-level augmentation (METHOD.md section 3): every mutable digit of every candidate number
literal of the code, each with probability p, becomes another of 1-9.

Only decimal digits of the mantissa change, so the literal keeps its length, underscores,
`.`, exponent and `j` suffix, and a new digit is never 0 (no leading zero can appear).
Not mutable: hexadecimal, octal and binary literals (a digit 8 or 9 would not be valid there,
and their meaning is rarely numeric), and integers written with a leading zero (`00`, `0_0`),
where any change but the first digit's would be a syntax error.
"""

from __future__ import annotations

import random

import libcst as cst

from codeboost_dagster.core.augmentation.edits import CodeEdit, Rewrite, Site
from codeboost_dagster.core.augmentation.mutations import DIGIT_LEVEL, NUMBER_LITERAL

_NON_DECIMAL_PREFIXES = ("0x", "0o", "0b")
_REPLACEMENTS = {digit: tuple(d for d in "123456789" if d != digit) for digit in "0123456789"}


def _mantissa(literal: str) -> str:
    text = literal.rstrip("jJ")
    for marker in "eE":
        text = text.split(marker, 1)[0]
    return text


def mutable_digit_indices(node: cst.Integer | cst.Float | cst.Imaginary) -> list[int]:
    """Indices into the literal text of the digits a digit-level mutation may change."""
    text = node.value
    if isinstance(node, cst.Integer):
        if text[:2].lower() in _NON_DECIMAL_PREFIXES:
            return []
        digits = text.replace("_", "")
        if len(digits) > 1 and digits[0] == "0":
            return []
    mantissa = _mantissa(text)
    return [index for index, char in enumerate(mantissa) if char.isdigit()]


def has_mutable_digits(node: cst.Integer | cst.Float | cst.Imaginary) -> bool:
    """True when the literal has at least one digit a mutation may change."""
    return bool(mutable_digit_indices(node))


def mutate_digits(node: cst.Integer | cst.Float | cst.Imaginary, rng: random.Random, p: float) -> str:
    """The literal text with each mutable digit replaced, with probability p, by another of 1-9."""
    chars = list(node.value)
    for index in mutable_digit_indices(node):
        if rng.random() < p:
            chars[index] = rng.choice(_REPLACEMENTS[chars[index]])
    return "".join(chars)


def _with_value(value: str) -> Rewrite:
    def rewrite(updated: cst.CSTNode) -> cst.CSTNode:
        return updated.with_changes(value=value)

    return rewrite


def plan_digit_edits(sites: dict[str, list[Site]], rng: random.Random, p: float) -> list[CodeEdit]:
    """One edit per number literal in which at least one digit was drawn to change."""
    edits = []
    for site in sites.get(NUMBER_LITERAL, ()):
        value = mutate_digits(site.node, rng, p)
        if value != site.node.value:
            edits.append(CodeEdit(DIGIT_LEVEL, site, value, _with_value(value)))
    return edits
