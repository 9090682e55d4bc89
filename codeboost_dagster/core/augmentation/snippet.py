"""Augment one snippet: its original plus K attempted variants, each kept or dropped with a reason.

How a variant is composed (following the release, which applied every level to each sample,
and METHOD.md section 3): variant k draws, from its own random stream, all three levels, each
with its own probability p per random choice - every mutable digit of the code (digit level),
each of the six logical transformers (at most one change each), and every input character or
number of the test cases (input level). A variant can therefore carry several levels; its `kind`
names those present (`digit+logical`, ...). With no change drawn it is dropped as `unchanged`
(no redraw, so rates stay what p says); a variant equal to an earlier one is a
`duplicate_variant`; one whose code does not compile is `does_not_compile`.

Each variant draws from its own random stream per (seed, snippet, variant) (`variant_rng`), so
variants never depend on order or workers.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from codeboost_dagster.core.augmentation import reasons
from codeboost_dagster.core.augmentation.digit_level import plan_digit_edits
from codeboost_dagster.core.augmentation.edits import render
from codeboost_dagster.core.augmentation.input_level import perturb_test_cases
from codeboost_dagster.core.augmentation.logical_level import plan_logical_edits
from codeboost_dagster.core.augmentation.mutations import Mutation, mutations_to_json, variant_kind
from codeboost_dagster.core.augmentation.positions import LineIndex
from codeboost_dagster.core.augmentation.screening import (
    ParsedSnippet,
    Rejection,
    normalized_test_cases,
    parse_snippet,
)
from codeboost_dagster.core.compiling import compile_problem
from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.settings import AugmentationSettings
from codeboost_dagster.core.tasks.canonical import NotCanonical, canonical_program
from codeboost_dagster.core.test_cases import dump_test_cases


def variant_rng(seed: int, snippet_id: str, variant_index: int) -> random.Random:
    """A generator seeded from sha256 of (seed, snippet_id, variant_index): same inputs, same draws."""
    key = f"{seed}\x1f{snippet_id}\x1f{variant_index}".encode("utf-8", errors="surrogatepass")
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:16], "big"))


@dataclass(frozen=True, slots=True)
class VariantRow:
    """One kept row of the `variants` table (index 0 is the original)."""

    variant_id: str
    snippet_id: str
    variant_index: int
    kind: str
    mutations: str
    code: str
    test_cases: str
    source_lines: str


@dataclass(frozen=True, slots=True)
class DropRow:
    """One row of the `dropped` table: an attempted variant that was not kept, and why."""

    snippet_id: str
    variant_index: int
    reason: str
    detail: str | None


@dataclass(frozen=True)
class SnippetAugmentation:
    """Everything attempted for one snippet: 1 + K rows between `variants` and `dropped`."""

    variants: list[VariantRow]
    dropped: list[DropRow]


def _variant_row(
    snippet_id: str, index: int, mutations: list[Mutation], code: str, test_cases: str, source_lines: str
) -> VariantRow:
    return VariantRow(
        content_id(snippet_id, code, test_cases),
        snippet_id,
        index,
        variant_kind(mutations),
        mutations_to_json(mutations),
        code,
        test_cases,
        source_lines,
    )


class _VariantBuilder:
    """Builds variants 1..K of one parsed snippet and remembers what was already produced."""

    def __init__(
        self, snippet_id: str, parsed: ParsedSnippet, test_cases: str, settings: AugmentationSettings, source_lines: str
    ):
        self.snippet_id, self.parsed, self.settings, self.source_lines = snippet_id, parsed, settings, source_lines
        self.original_test_cases = test_cases
        self.lines = LineIndex(parsed.code)
        self.seen = {(parsed.code, test_cases): 0}

    def build(self, index: int) -> VariantRow | DropRow:
        """Variant `index`, or the reason it is dropped."""
        parsed, p = self.parsed, self.settings.p
        rng = variant_rng(self.settings.seed, self.snippet_id, index)
        sites = parsed.sites.by_kind
        edits = plan_digit_edits(sites, rng, p) + plan_logical_edits(sites, rng, p, parsed.code)
        edits.sort(key=lambda edit: edit.site.start)
        cases, input_mutations = perturb_test_cases(parsed.test_cases, rng, self.settings)
        mutations = [edit.mutation(parsed.code, self.lines) for edit in edits] + input_mutations
        if not mutations:
            return DropRow(self.snippet_id, index, reasons.UNCHANGED, "no random draw changed anything")
        code = render(parsed.module, parsed.code, parsed.sites.statement_ranges, edits) if edits else parsed.code
        problem = compile_problem(code) if edits else None
        if problem is not None:
            detail = f"{problem}; mutations: {mutations_to_json(mutations)}"
            return DropRow(self.snippet_id, index, reasons.DOES_NOT_COMPILE, detail)
        test_cases = dump_test_cases(cases) if input_mutations else self.original_test_cases
        earlier = self.seen.setdefault((code, test_cases), index)
        if earlier != index:
            detail = f"same code and test cases as variant {earlier}"
            return DropRow(self.snippet_id, index, reasons.DUPLICATE_VARIANT, detail)
        return _variant_row(self.snippet_id, index, mutations, code, test_cases, self.source_lines)


def _error_detail(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _build_guarded(builder: _VariantBuilder, index: int) -> VariantRow | DropRow:
    try:
        return builder.build(index)
    except RecursionError as error:
        return DropRow(builder.snippet_id, index, reasons.TOO_DEEPLY_NESTED, _error_detail(error))
    except cst.CSTValidationError as error:
        detail = f"libcst rejected the rewrite: {error}"
        return DropRow(builder.snippet_id, index, reasons.DOES_NOT_COMPILE, detail)
    except Exception as error:  # a bug must not sink the batch; the row names it
        return DropRow(builder.snippet_id, index, reasons.AUGMENTATION_ERROR, _error_detail(error))


def augment_snippet(
    snippet_id: str,
    code: str,
    test_cases: str | None,
    settings: AugmentationSettings,
    max_code_chars: int | None = None,
) -> SnippetAugmentation:
    """The original and `settings.variants_per_snippet` attempted variants of one snippet.

    With `settings.canonical_programs` the original is the canonical program (core.tasks.canonical) and
    every variant mutates it; a snippet that cannot be made canonical is dropped whole (original
    included) as `not_canonical`. Never raises for bad input: a snippet that cannot be augmented
    keeps its original and every attempted variant is dropped with the snippet-level reason.
    """
    attempts = range(1, settings.variants_per_snippet + 1)
    source_lines = json.dumps(list(range(1, code.count("\n") + 2)))
    if settings.canonical_programs:
        try:
            canonical = canonical_program(code)
        except NotCanonical as error:
            return SnippetAugmentation(
                [],
                [
                    DropRow(snippet_id, index, reasons.NOT_CANONICAL, str(error))
                    for index in range(settings.variants_per_snippet + 1)
                ],
            )
        code, source_lines = canonical.code, json.dumps(list(canonical.source_lines))

    def original_only(original: VariantRow, reason: str, detail: str | None) -> SnippetAugmentation:
        return SnippetAugmentation([original], [DropRow(snippet_id, index, reason, detail) for index in attempts])

    try:
        cases = normalized_test_cases(test_cases)
    except Rejection as rejection:
        return original_only(
            _variant_row(snippet_id, 0, [], code, test_cases or "", source_lines), rejection.reason, rejection.detail
        )
    cases_text = dump_test_cases(cases)
    original = _variant_row(snippet_id, 0, [], code, cases_text, source_lines)
    try:
        parsed = parse_snippet(code, cases, max_code_chars)
    except Rejection as rejection:
        return original_only(original, rejection.reason, rejection.detail)
    except Exception as error:  # a bug must not sink the batch; the rows name it
        return original_only(original, reasons.AUGMENTATION_ERROR, _error_detail(error))
    builder = _VariantBuilder(snippet_id, parsed, cases_text, settings, source_lines)
    outcomes = [_build_guarded(builder, index) for index in attempts]
    variants = [original, *(row for row in outcomes if isinstance(row, VariantRow))]
    return SnippetAugmentation(variants, [row for row in outcomes if isinstance(row, DropRow)])


def augment_chunk(
    rows: Sequence[tuple[str, str, str | None]], settings: AugmentationSettings, max_code_chars: int | None
) -> list[SnippetAugmentation]:
    """`augment_snippet` over (snippet_id, code, test_cases) rows; the unit of work of a pool worker."""
    return [augment_snippet(snippet_id, code, cases, settings, max_code_chars) for snippet_id, code, cases in rows]
