"""METHOD.md section 1: basic filters. Every raw row is either kept or reported with its reason.

Checks run in order and the first failure is the reason: unreadable (the reader's reason),
empty code, too many test cases, too large, too short, does not `compile()`, does not parse
with libcst, exact duplicate of an earlier kept row of the same dump. Compiling only parses;
no snippet code is executed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import libcst
import pandas as pd

from codeboost_dagster.core.compiling import compile_problem
from codeboost_dagster.core.frames import records, with_none
from codeboost_dagster.core.readers import RawSnippet
from codeboost_dagster.core.schemas import FILTER_REPORT, FILTERED_SNIPPETS, RAW_SNIPPETS
from codeboost_dagster.core.settings import FilterSettings


@dataclass(frozen=True)
class FilterOutcome:
    """Kept rows (FILTERED_SNIPPETS columns) and dropped rows with reasons (FILTER_REPORT columns)."""

    kept: pd.DataFrame
    dropped: pd.DataFrame


def raw_snippets_frame(rows: Iterable[RawSnippet]) -> pd.DataFrame:
    """Rows from the readers as a DataFrame with the RAW_SNIPPETS columns."""
    return with_none(pd.DataFrame([row.__dict__ for row in rows], columns=RAW_SNIPPETS.names))


def _libcst_problem(code: str) -> str | None:
    try:
        libcst.parse_module(code)
    except libcst.ParserSyntaxError as error:
        return f"line {error.raw_line}: {error.message}"
    except (RecursionError, ValueError, MemoryError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def drop_reason(row: dict, settings: FilterSettings) -> tuple[str, str | None] | None:
    """(reason, detail) for the first filter a row fails, or None if it passes all of them."""
    if row["read_error"]:
        return row["read_error"], row["read_error_detail"]
    code: str = row["code"]
    if not code.strip():
        return "empty_code", None
    if len(json.loads(row["test_cases"])) > settings.max_test_cases:
        return "too_many_test_cases", f"more than {settings.max_test_cases} test cases"
    lines = len(code.splitlines())
    if len(code) > settings.max_chars or lines > settings.max_lines:
        return "too_large", f"{lines} lines, {len(code)} chars (limits {settings.max_lines}, {settings.max_chars})"
    if lines < settings.min_lines or len(code.strip()) < settings.min_chars:
        return (
            "too_short",
            f"{lines} lines, {len(code.strip())} chars (minimum {settings.min_lines}, {settings.min_chars})",
        )
    problem = compile_problem(code)
    if problem:
        return "syntax_error", problem
    problem = _libcst_problem(code)
    if problem:
        return "libcst_parse_error", problem
    return None


def kept_row(row: dict) -> dict:
    """A raw row that passed the filters, with the sizes FILTERED_SNIPPETS adds."""
    return {**row, "lines": len(row["code"].splitlines()), "chars": len(row["code"])}


def filter_snippets(raw: pd.DataFrame, settings: FilterSettings) -> FilterOutcome:
    """Split raw rows into kept and dropped; `duplicate_of` holds the origin of the kept twin."""
    kept: list[dict] = []
    dropped: list[dict] = []
    first_kept: dict[str, str] = {}
    for row in records(raw):
        verdict = drop_reason(row, settings)
        if verdict is None and row["snippet_id"] in first_kept:
            verdict = ("exact_duplicate", "same code and test cases as the row at duplicate_of")
        if verdict is not None:
            reason, detail = verdict
            duplicate_of = first_kept[row["snippet_id"]] if reason == "exact_duplicate" else None
            dropped.append({**row, "reason": reason, "detail": detail, "duplicate_of": duplicate_of})
            continue
        first_kept[row["snippet_id"]] = row["origin"]
        kept.append(kept_row(row))
    return FilterOutcome(
        kept=pd.DataFrame(kept, columns=FILTERED_SNIPPETS.names),
        dropped=pd.DataFrame(dropped, columns=FILTER_REPORT.names),
    )
