"""Rebuild a variant from its original and its mutation records alone, by plain text edits.

This is independent of libcst: it shows that the records are complete and exact (tests check
that replaying every kept variant's records gives back its code and test cases), and it lets a
user see any single mutation on its own. Every record is checked against the original: the text
(or JSON value) it claims to replace must be there, otherwise `ReplayError` is raised.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import defaultdict
from typing import Any

from codeboost_dagster.core.augmentation.mutations import (
    ARGUMENT_CHAR,
    CODE_TARGET,
    IF_NEGATION,
    INPUT_LEVEL,
    STDIN_CHAR,
    Mutation,
)
from codeboost_dagster.core.augmentation.positions import LineIndex

_CHAR_KINDS = (STDIN_CHAR, ARGUMENT_CHAR)
_INSERTION, _REPLACEMENT = 0, 1


class ReplayError(ValueError):
    """A record does not match the original it is applied to."""


def _wrap_parts(mutation: Mutation) -> tuple[str, str]:
    """(prefix, suffix) of an `if` negation, whose new text is prefix + old + suffix."""
    suffix = ")"
    if not mutation.new.endswith(mutation.old + suffix):
        raise ReplayError(f"if negation at {mutation.line}:{mutation.column} does not wrap its old text")
    return mutation.new[: len(mutation.new) - len(mutation.old) - len(suffix)], suffix


def apply_mutations(original_code: str, mutations: list[Mutation]) -> str:
    """The variant's code: the original with every code-level record applied (others are ignored)."""
    lines = LineIndex(original_code)
    operations: list[tuple[int, int, int, str]] = []
    for mutation in mutations:
        if mutation.target != CODE_TARGET:
            continue
        start = lines.offset(mutation.line, mutation.column)
        end = lines.offset(mutation.end_line, mutation.end_column)
        if original_code[start:end] != mutation.old:
            raise ReplayError(f"{mutation.kind} at {mutation.line}:{mutation.column}: {mutation.old!r} is not there")
        if mutation.kind == IF_NEGATION:
            prefix, suffix = _wrap_parts(mutation)
            operations += [(start, _INSERTION, start, prefix), (end, _INSERTION, end, suffix)]
        else:
            operations.append((start, _REPLACEMENT, end, mutation.new))
    replaced = sorted((start, end) for start, kind, end, _ in operations if kind == _REPLACEMENT)
    if any(next_start < end for (_, end), (next_start, _) in itertools.pairwise(replaced)):
        raise ReplayError("code mutations overlap")
    code = original_code
    for start, _, end, text in sorted(operations, reverse=True):
        code = code[:start] + text + code[end:]
    return code


def _resolve(cases: list[Any], pointer: str) -> tuple[Any, Any]:
    """(container, key) that a JSON pointer designates inside the test-case list."""
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    if not parts:
        raise ReplayError(f"empty pointer {pointer!r}")
    container: Any = cases
    for part in parts[:-1]:
        container = container[int(part) if isinstance(container, list) else part]
    last = parts[-1]
    return container, int(last) if isinstance(container, list) else last


def _apply_char_mutations(cases: list[Any], target: str, mutations: list[Mutation]) -> None:
    container, key = _resolve(cases, target)
    text: str = container[key]
    lines = LineIndex(text)
    chars = list(text)
    for mutation in mutations:
        offset = lines.offset(mutation.line, mutation.column)
        if text[offset : offset + len(mutation.old)] != mutation.old:
            raise ReplayError(f"{target} {mutation.line}:{mutation.column}: {mutation.old!r} is not there")
        chars[offset] = mutation.new
    container[key] = "".join(chars)


def apply_input_mutations(test_cases: list[dict[str, Any]], mutations: list[Mutation]) -> list[dict[str, Any]]:
    """The variant's test cases (normal form): the original ones with every input-level record applied."""
    cases = copy.deepcopy(test_cases)
    characters: dict[str, list[Mutation]] = defaultdict(list)
    for mutation in mutations:
        if mutation.level != INPUT_LEVEL:
            continue
        if mutation.kind in _CHAR_KINDS:
            characters[mutation.target].append(mutation)
            continue
        container, key = _resolve(cases, mutation.target)
        if json.dumps(container[key]) != mutation.old:
            raise ReplayError(f"{mutation.target}: {mutation.old} is not there")
        container[key] = json.loads(mutation.new)
    for target, changes in characters.items():
        _apply_char_mutations(cases, target, changes)
    return cases
