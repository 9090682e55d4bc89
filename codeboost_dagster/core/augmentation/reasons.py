"""Why an attempted variant was not kept: the vocabulary of the `reason` column of `dropped`.

Snippet-level reasons drop every augmented variant (indices 1..K) of a snippet; its original
(index 0) is kept, except for the whole-snippet reason `not_canonical`. Variant-level reasons drop one variant.
"""

from __future__ import annotations

TOO_LARGE = "too_large"
INVALID_TEST_CASES = "invalid_test_cases"
SYNTAX_ERROR = "syntax_error"
LIBCST_PARSE_ERROR = "libcst_parse_error"
TOO_DEEPLY_NESTED = "too_deeply_nested"
AUGMENTATION_ERROR = "augmentation_error"
NOT_CANONICAL = "not_canonical"

UNCHANGED = "unchanged"
DUPLICATE_VARIANT = "duplicate_variant"
DOES_NOT_COMPILE = "does_not_compile"

SNIPPET_REASONS = (
    TOO_LARGE,
    INVALID_TEST_CASES,
    SYNTAX_ERROR,
    LIBCST_PARSE_ERROR,
    TOO_DEEPLY_NESTED,
    AUGMENTATION_ERROR,
)
"""too_large: longer than the caller's `max_code_chars`; invalid_test_cases: not in (or not
convertible to) the normal form; syntax_error: the original does not `compile()`;
libcst_parse_error: libcst cannot parse it (e.g. Python 2 syntax) or does not print it back
exactly (e.g. a lone carriage return); too_deeply_nested: nesting
beyond what libcst can walk without RecursionError; augmentation_error: an unexpected exception
(the detail names it) - a bug to report, never silent."""

VARIANT_REASONS = (UNCHANGED, DUPLICATE_VARIANT, DOES_NOT_COMPILE, TOO_DEEPLY_NESTED, AUGMENTATION_ERROR)
"""unchanged: no random draw changed anything; duplicate_variant: same code and test cases as
an earlier variant of the snippet; does_not_compile: the mutated code fails `compile()` (detail:
the error and the mutations)."""

WHOLE_SNIPPET_REASONS = (NOT_CANONICAL,)
"""not_canonical: docstrings and comments cannot be removed (libcst cannot parse it, or the result
does not compile); the original too is dropped, since showing it could state its own output."""

DROP_REASONS = tuple(dict.fromkeys(SNIPPET_REASONS + VARIANT_REASONS + WHOLE_SNIPPET_REASONS))
"""Every reason a drop row can carry."""
