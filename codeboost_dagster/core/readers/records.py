"""The raw row every reader yields: one unit of a dump, readable or not (never silently skipped)."""

from __future__ import annotations

from dataclasses import dataclass

from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.test_cases import InvalidTestCases, dump_test_cases, normalize_test_cases


@dataclass(frozen=True)
class RawSnippet:
    """One code unit of a dump; `read_error` (a reason code) is set when it could not be read."""

    snippet_id: str
    dump: str
    origin: str
    code: str
    test_cases: str
    expected_stdout: str | None = None
    read_error: str | None = None
    read_error_detail: str | None = None


def snippet_from_source(
    dump: str, origin: str, code: str, raw_test_cases: object = None, expected_stdout: str | None = None
) -> RawSnippet:
    """Build a readable row; test cases are normalised here so ids hash the canonical form."""
    try:
        test_cases = dump_test_cases(normalize_test_cases(raw_test_cases))  # type: ignore[arg-type]
    except InvalidTestCases as error:
        return unreadable(dump, origin, "invalid_test_cases", str(error), code=code, test_cases=str(raw_test_cases))
    return RawSnippet(
        snippet_id=content_id(code, test_cases),
        dump=dump,
        origin=origin,
        code=code,
        test_cases=test_cases,
        expected_stdout=expected_stdout,
    )


def unreadable(dump: str, origin: str, reason: str, detail: str, code: str = "", test_cases: str = "[]") -> RawSnippet:
    """A row that records why a unit of the dump could not be read."""
    return RawSnippet(
        snippet_id=content_id("unreadable", dump, origin),
        dump=dump,
        origin=origin,
        code=code,
        test_cases=test_cases,
        read_error=reason,
        read_error_detail=detail,
    )
