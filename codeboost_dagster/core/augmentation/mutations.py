"""The record of one change a variant carries, and its JSON form (the `mutations` column).

A record says where (`target`, `line`, `column`, `end_line`, `end_column`), what (`level`,
`kind`, `node`) and how (`old` -> `new`). For code (`target == "code"`), positions are those
of the original source: lines from 1, columns from 0 in characters, `end_*` exclusive, and
`old` is exactly the source text in that range. Input-level records point into the test cases
with a JSON pointer (`/0/stdin`, `/1/args/0/2`, `/1/kwargs/n`); character records carry the
position inside that text, number records have no position and hold the JSON text of the values.
`replay.apply_mutations` rebuilds a variant from its original and these records alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

CODE_TARGET = "code"

DIGIT_LEVEL = "digit"
LOGICAL_LEVEL = "logical"
INPUT_LEVEL = "input"
LEVELS = (DIGIT_LEVEL, LOGICAL_LEVEL, INPUT_LEVEL)
"""Levels in the order they appear in a variant's `kind` (e.g. `digit+logical`)."""

ORIGINAL_KIND = "original"

NUMBER_LITERAL = "number_literal"
BINARY_OPERATOR = "binary_operator"
BOOLEAN_OPERATOR = "boolean_operator"
UNARY_OPERATOR = "unary_operator"
AUGMENTED_ASSIGNMENT = "augmented_assignment"
COMPARISON_OPERATOR = "comparison_operator"
IF_NEGATION = "if_negation"
LOGICAL_KINDS = (
    BINARY_OPERATOR,
    BOOLEAN_OPERATOR,
    UNARY_OPERATOR,
    AUGMENTED_ASSIGNMENT,
    COMPARISON_OPERATOR,
    IF_NEGATION,
)
"""The logical transformers, in the order a variant draws them."""

STDIN_CHAR = "stdin_char"
ARGUMENT_CHAR = "argument_char"
ARGUMENT_ADD = "argument_add"
ARGUMENT_SCALE = "argument_scale"
ARGUMENT_NEGATE = "argument_negate"


@dataclass(frozen=True, slots=True)
class Mutation:
    """One change of a variant relative to its original; see the module docstring for fields."""

    level: str
    kind: str
    node: str
    target: str
    old: str
    new: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


def mutations_to_json(mutations: list[Mutation]) -> str:
    """The `mutations` column text: a JSON list of records, keys in field order."""
    return json.dumps([asdict(mutation) for mutation in mutations], ensure_ascii=False, separators=(",", ":"))


def mutations_from_json(text: str) -> list[Mutation]:
    """Records back from the `mutations` column text."""
    items: list[dict[str, Any]] = json.loads(text)
    return [Mutation(**item) for item in items]


def variant_kind(mutations: list[Mutation]) -> str:
    """`original` without mutations, else the levels present joined by `+` (e.g. `digit+input`)."""
    present = {mutation.level for mutation in mutations}
    return "+".join(level for level in LEVELS if level in present) or ORIGINAL_KIND
