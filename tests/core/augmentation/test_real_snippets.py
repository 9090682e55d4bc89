"""Properties over real snippets (the `algorithms` package and standard-library functions)."""

from __future__ import annotations

import ast
import json
import random
import warnings

import libcst as cst
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.augmentation import (
    DROP_REASONS,
    accounting_problems,
    apply_input_mutations,
    apply_mutations,
    augment_snippet,
    augment_snippets,
    mutations_from_json,
)
from codeboost_dagster.core.augmentation.mutations import LOGICAL_KINDS
from codeboost_dagster.core.augmentation.sites import locate_sites
from codeboost_dagster.core.settings import AugmentationSettings
from codeboost_dagster.core.test_cases import normalize_test_cases
from tests.real_snippets import algorithms_modules, stdlib_functions

STDLIB_MODULES = ["heapq", "bisect", "textwrap", "fractions", "statistics", "colorsys", "calendar", "difflib", "shlex"]
ALGORITHMS = algorithms_modules()
HALF = ALGORITHMS[::2]
REAL = ALGORITHMS + stdlib_functions(400, STDLIB_MODULES)
GUARD_LINE = 'if __name__ == "__main__":\n'
GUARD = GUARD_LINE + "    print(1 + 2 < 3 and not False, -4)\n"
TEST_CASES = json.dumps(
    [
        {"kind": "stdin", "stdin": "3\n10 20 30\nabc\n"},
        {"kind": "call", "func_name": "f", "args": [[1, 2.5], "xy"], "kwargs": {"k": 9}},
    ]
)
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<variant>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def _frame(snippets, test_cases: str = "[]") -> pd.DataFrame:
    return pd.DataFrame(
        {"snippet_id": [s.snippet_id for s in snippets], "code": [s.code for s in snippets], "test_cases": test_cases}
    )


@PROPERTY_SETTINGS
@given(st.sampled_from(REAL), st.integers(0, 2**32), st.sampled_from([0.1, 0.3, 1.0]))
def test_kept_variants_compile_and_replay_from_their_records(snippet, seed, p):
    code = snippet.code + "\n" + GUARD
    augmentation_settings = AugmentationSettings(p=p, seed=seed, variants_per_snippet=3)
    outcome = augment_snippet(snippet.snippet_id, code, TEST_CASES, augmentation_settings)
    original_cases = normalize_test_cases(TEST_CASES)
    code = outcome.variants[0].code  # the canonical original that mutations are recorded against
    guard_lines = {number for number, line in enumerate(code.splitlines(), 1) if line + "\n" == GUARD_LINE}
    indices = [r.variant_index for r in outcome.variants] + [d.variant_index for d in outcome.dropped]
    assert sorted(indices) == [0, 1, 2, 3]
    assert {d.reason for d in outcome.dropped} <= {"unchanged", "duplicate_variant", "does_not_compile"}
    for row in outcome.variants[1:]:
        mutations = mutations_from_json(row.mutations)
        assert _compiles(row.code)
        assert apply_mutations(code, mutations) == row.code
        assert apply_input_mutations(original_cases, mutations) == json.loads(row.test_cases)
        assert row.code.count(GUARD_LINE) == code.count(GUARD_LINE), "the guard is untouched"
        assert not {m.line for m in mutations if m.target == "code"} & guard_lines


@PROPERTY_SETTINGS
@given(st.sampled_from(REAL), st.integers(0, 2**32))
def test_same_snippet_and_seed_give_the_same_variants(snippet, seed):
    augmentation_settings = AugmentationSettings(seed=seed, p=0.3)
    first = augment_snippet(snippet.snippet_id, snippet.code, "[]", augmentation_settings)
    assert augment_snippet(snippet.snippet_id, snippet.code, "[]", augmentation_settings) == first


@pytest.fixture(scope="module")
def corpus_result():
    """Every other algorithms module augmented with the default settings, in this process."""
    return augment_snippets(_frame(HALF), AugmentationSettings(), workers=1)


def test_every_attempted_variant_is_kept_or_dropped_with_a_reason(corpus_result):
    snippet_ids = [s.snippet_id for s in HALF]
    assert accounting_problems(snippet_ids, corpus_result, AugmentationSettings().variants_per_snippet) == []
    assert set(corpus_result.dropped["reason"]) <= set(DROP_REASONS)
    assert "augmentation_error" not in set(corpus_result.dropped["reason"])
    kept = corpus_result.variants
    assert (kept.groupby("snippet_id")["variant_id"].nunique() == kept.groupby("snippet_id").size()).all()
    assert set(kept["kind"]) <= {"original", "digit", "logical", "digit+logical"}


def test_fraction_of_variants_with_a_logical_mutation_matches_p(corpus_result):
    p, k = AugmentationSettings().p, AugmentationSettings().variants_per_snippet
    expected = variance = 0.0
    for snippet in HALF:
        sites = locate_sites(cst.parse_module(snippet.code), snippet.code).by_kind
        with_candidates = sum(1 for kind in LOGICAL_KINDS if sites.get(kind))
        chance = 1 - (1 - p) ** with_candidates
        expected += k * chance
        variance += k * chance * (1 - chance)
    kept = corpus_result.variants
    duplicates = int((corpus_result.dropped["reason"] == "duplicate_variant").sum())
    observed = int(kept["kind"].str.contains("logical").sum())
    assert abs(observed - expected) <= 4 * variance**0.5 + duplicates
    assert observed > 0.8 * expected > 40


def test_results_do_not_depend_on_worker_count_or_row_order():
    snippets = ALGORITHMS[1::16] + REAL[-20:]
    frame = _frame(snippets, TEST_CASES)
    augmentation_settings = AugmentationSettings(p=0.2)
    serial = augment_snippets(frame, augmentation_settings, workers=1)
    shuffled = frame.sample(frac=1.0, random_state=random.Random(4).randrange(2**31))
    progress = []
    parallel = augment_snippets(
        shuffled, augmentation_settings, workers=2, progress=lambda done, total: progress.append((done, total))
    )
    assert progress[-1] == (len(frame), len(frame))
    for table, key in ((serial.variants, "variant_id"), (serial.dropped, ["snippet_id", "variant_index"])):
        other = parallel.variants if table is serial.variants else parallel.dropped
        pd.testing.assert_frame_equal(
            table.sort_values(key).reset_index(drop=True), other.sort_values(key).reset_index(drop=True)
        )
    order = {snippet_id: i for i, snippet_id in enumerate(shuffled["snippet_id"])}
    assert parallel.variants["snippet_id"].map(order).is_monotonic_increasing


def test_kept_variants_keep_the_programs_structure():
    for snippet in ALGORITHMS[1::20]:
        outcome = augment_snippet(snippet.snippet_id, snippet.code, "[]", AugmentationSettings(p=0.3))
        original = ast.parse(outcome.variants[0].code)  # the canonical original
        for row in outcome.variants[1:]:
            variant = ast.parse(row.code)
            assert [type(node).__name__ for node in variant.body] == [type(node).__name__ for node in original.body]
