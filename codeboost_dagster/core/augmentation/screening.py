"""Decide whether a snippet can be augmented at all, and parse it (with libcst) exactly once.

Checks, cheapest first: size (when the caller sets a limit), test cases in normal form,
`compile()` of the original, nesting depth, libcst parse, site location. The depth check runs
on CPython's own AST before libcst sees the code: libcst walks trees recursively (a few Python
frames per level, so a RecursionError beyond roughly a quarter of the recursion limit) and its
parse time grows quadratically with nesting (about 0.6 s at depth 1000, 16 s at 3000, measured
with libcst 1.9), so a pathological snippet is refused in milliseconds instead.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from typing import Any

import libcst as cst

from codeboost_dagster.core.augmentation import reasons
from codeboost_dagster.core.augmentation.sites import LocatedSites, SiteLocationError, SourceNotReproduced, locate_sites
from codeboost_dagster.core.compiling import depth_exceeds, max_nesting_depth
from codeboost_dagster.core.test_cases import InvalidTestCases, normalize_test_cases


class Rejection(Exception):
    """The snippet cannot be augmented; `reason` is from `reasons.SNIPPET_REASONS`."""

    def __init__(self, reason: str, detail: str | None) -> None:
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class ParsedSnippet:
    """A snippet ready for augmentation: parsed once, candidate sites located once."""

    code: str
    test_cases: list[dict[str, Any]]
    module: cst.Module
    sites: LocatedSites


def _check_compiles(code: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, MemoryError, OverflowError) as error:
            raise Rejection(reasons.SYNTAX_ERROR, _describe(error)) from None
        except RecursionError as error:
            raise Rejection(reasons.TOO_DEEPLY_NESTED, _describe(error)) from None
        limit = max_nesting_depth()
        if depth_exceeds(tree, limit):
            raise Rejection(reasons.TOO_DEEPLY_NESTED, f"syntax tree deeper than {limit} levels")
        try:
            compile(tree, "<snippet>", "exec", dont_inherit=True)
        except RecursionError as error:
            raise Rejection(reasons.TOO_DEEPLY_NESTED, _describe(error)) from None
        except (SyntaxError, ValueError, MemoryError, OverflowError) as error:
            raise Rejection(reasons.SYNTAX_ERROR, _describe(error)) from None


def _describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"line {error.lineno}: {error.msg}"
    return f"{type(error).__name__}: {error}"


def normalized_test_cases(raw: str | None) -> list[dict[str, Any]]:
    """The snippet's test cases in normal form, or a Rejection with reason invalid_test_cases."""
    try:
        return normalize_test_cases(raw)
    except InvalidTestCases as error:
        raise Rejection(reasons.INVALID_TEST_CASES, str(error)) from None


def parse_snippet(code: str, test_cases: list[dict[str, Any]], max_code_chars: int | None) -> ParsedSnippet:
    """Parse and locate sites once, or raise Rejection with the first failed check."""
    if max_code_chars is not None and len(code) > max_code_chars:
        raise Rejection(reasons.TOO_LARGE, f"{len(code)} characters, limit {max_code_chars}")
    _check_compiles(code)
    try:
        module = cst.parse_module(code)
        sites = locate_sites(module, code)
    except cst.ParserSyntaxError as error:
        raise Rejection(reasons.LIBCST_PARSE_ERROR, f"line {error.raw_line}: {error.message}") from None
    except RecursionError as error:
        raise Rejection(reasons.TOO_DEEPLY_NESTED, _describe(error)) from None
    except SourceNotReproduced as error:
        raise Rejection(reasons.LIBCST_PARSE_ERROR, str(error)) from None
    except SiteLocationError as error:
        raise Rejection(reasons.AUGMENTATION_ERROR, _describe(error)) from None
    return ParsedSnippet(code, test_cases, module, sites)
