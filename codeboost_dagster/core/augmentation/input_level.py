"""Input-level mutation of a snippet's test cases (normal form of `core.test_cases`).

- stdin: each ASCII letter or digit, with probability p, becomes another character of the same
  class (digit -> another digit 0-9, lowercase -> another lowercase, uppercase -> another
  uppercase). Other characters, non-ASCII ones included, never change.
- call arguments (args and kwargs values, recursively through lists and dicts): each int or
  float, with probability p, gets one of +-int_delta, *U(float_scale_low, float_scale_high)
  (rounded for ints) or negation, chosen uniformly; strings change per character as stdin;
  bools, None and dict keys never change. Arguments given as Python source change the same way
  in the numbers and strings of their literal structure (never inside a constructor call, whose
  arguments must stay valid for it: core.call_arguments.literal_constants).
A draw that leaves a value equal (negating 0, a scale rounding back) records nothing.
"""

from __future__ import annotations

import ast
import json
import math
import random
import string
from fractions import Fraction
from typing import Any

from codeboost_dagster.core.augmentation.mutations import (
    ARGUMENT_ADD,
    ARGUMENT_CHAR,
    ARGUMENT_NEGATE,
    ARGUMENT_SCALE,
    INPUT_LEVEL,
    STDIN_CHAR,
    Mutation,
)
from codeboost_dagster.core.augmentation.positions import LineIndex
from codeboost_dagster.core.call_arguments import literal_constants, parse_argument
from codeboost_dagster.core.settings import AugmentationSettings

_CHAR_CLASSES = (("digit", string.digits), ("letter", string.ascii_lowercase), ("letter", string.ascii_uppercase))
_REPLACEMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    char: (name, tuple(other for other in members if other != char))
    for name, members in _CHAR_CLASSES
    for char in members
}
_NUMBER_OPERATIONS = (ARGUMENT_ADD, ARGUMENT_SCALE, ARGUMENT_NEGATE)


def json_pointer(*parts: str | int) -> str:
    """RFC 6901 pointer into the test-case list, e.g. `/1/args/0`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def perturb_text(text: str, rng: random.Random, p: float, kind: str, target: str) -> tuple[str, list[Mutation]]:
    """`text` with ASCII letters/digits replaced per character with probability p, and the records."""
    chars = list(text)
    changed: list[int] = []
    for index, char in enumerate(chars):
        replacement = _REPLACEMENTS.get(char)
        if replacement is not None and rng.random() < p:
            chars[index] = rng.choice(replacement[1])
            changed.append(index)
    if not changed:
        return text, []
    lines = LineIndex(text)
    mutations = []
    for index in changed:
        line, column = lines.position(index)
        char_class = _REPLACEMENTS[text[index]][0]
        mutations.append(
            Mutation(
                level=INPUT_LEVEL,
                kind=kind,
                node=char_class,
                target=target,
                old=text[index],
                new=chars[index],
                line=line,
                column=column,
                end_line=line,
                end_column=column + 1,
            )
        )
    return "".join(chars), mutations


def _perturb_number(value: int | float, rng: random.Random, settings: AugmentationSettings) -> tuple[str, int | float]:
    operation = rng.choice(_NUMBER_OPERATIONS)
    if operation == ARGUMENT_ADD:
        return operation, value + rng.choice((-settings.int_delta, settings.int_delta))
    if operation == ARGUMENT_SCALE:
        factor = rng.uniform(settings.float_scale_low, settings.float_scale_high)
        return operation, round(Fraction(value) * Fraction(factor)) if isinstance(value, int) else value * factor
    return operation, -value


class _ArgumentPerturber:
    """Walks one call's arguments, drawing from `rng` in a fixed order and collecting records."""

    def __init__(self, rng: random.Random, settings: AugmentationSettings) -> None:
        self.rng, self.settings = rng, settings
        self.mutations: list[Mutation] = []

    def value(self, value: Any, pointer: str) -> Any:
        """`value` (found at JSON pointer `pointer`) with its numbers and characters perturbed."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return self._number(value, pointer)
        if isinstance(value, str):
            text, mutations = perturb_text(value, self.rng, self.settings.p, ARGUMENT_CHAR, pointer)
            self.mutations.extend(mutations)
            return text
        if isinstance(value, list):
            return [self.value(item, pointer + json_pointer(index)) for index, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self.value(item, pointer + json_pointer(key)) for key, item in value.items()}
        return value

    def source(self, source: str, pointer: str) -> str:
        """A Python-source argument with the constants of its literal structure perturbed."""
        tree = parse_argument(source)
        before = len(self.mutations)
        for constant in literal_constants(tree):
            constant.value = self.value(constant.value, pointer)
        return ast.unparse(tree) if len(self.mutations) > before else source

    def _number(self, value: int | float, pointer: str) -> int | float:
        if isinstance(value, float) and not math.isfinite(value):
            return value
        if self.rng.random() >= self.settings.p:
            return value
        operation, new = _perturb_number(value, self.rng, self.settings)
        if new == value or (isinstance(new, float) and not math.isfinite(new)):
            return value
        record = Mutation(INPUT_LEVEL, operation, type(value).__name__, pointer, json.dumps(value), json.dumps(new))
        self.mutations.append(record)
        return new


def perturb_test_cases(
    cases: list[dict[str, Any]], rng: random.Random, settings: AugmentationSettings
) -> tuple[list[dict[str, Any]], list[Mutation]]:
    """New normal-form test cases with input-level mutations, and the records of what changed."""
    perturbed: list[dict[str, Any]] = []
    mutations: list[Mutation] = []
    for index, case in enumerate(cases):
        if case["kind"] == "stdin":
            stdin, changes = perturb_text(case["stdin"], rng, settings.p, STDIN_CHAR, json_pointer(index, "stdin"))
            perturbed.append({**case, "stdin": stdin})
            mutations.extend(changes)
            continue
        walker = _ArgumentPerturber(rng, settings)
        args = walker.value(case["args"], json_pointer(index, "args"))
        kwargs = walker.value(case["kwargs"], json_pointer(index, "kwargs"))
        changed = {"args": args, "kwargs": kwargs}
        if "python_args" in case:
            pointer = json_pointer(index, "python_args")
            changed["python_args"] = [
                walker.source(arg, pointer + json_pointer(i)) for i, arg in enumerate(case["python_args"])
            ]
        if "python_kwargs" in case:
            pointer = json_pointer(index, "python_kwargs")
            changed["python_kwargs"] = {
                name: walker.source(arg, pointer + json_pointer(name)) for name, arg in case["python_kwargs"].items()
            }
        perturbed.append({**case, **changed})
        mutations.extend(walker.mutations)
    return perturbed, mutations
