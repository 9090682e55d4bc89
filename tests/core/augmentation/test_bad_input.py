"""Bad input yields the original only, with the reason recorded, never a crash; the table contract."""

from __future__ import annotations

import json

import libcst as cst
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.augmentation import (
    DROP_REASONS,
    accounting_problems,
    apply_mutations,
    augment_snippet,
    augment_snippets,
    mutations_from_json,
    screening,
)
from codeboost_dagster.core.schemas import AUGMENTATION_REPORT, AUGMENTED_VARIANTS
from codeboost_dagster.core.settings import AugmentationSettings

SETTINGS = AugmentationSettings(p=0.5, variants_per_snippet=3, canonical_programs=False)
"""Screening sees the code as it arrives here; canonicalisation (on by default) is tested below."""
CANONICAL = AugmentationSettings(p=0.5, variants_per_snippet=3)


def _only_original(code: str, test_cases: str = "[]", max_code_chars: int | None = None) -> set[str]:
    outcome = augment_snippet("bad", code, test_cases, SETTINGS, max_code_chars)
    assert [row.variant_index for row in outcome.variants] == [0]
    assert outcome.variants[0].code == code and outcome.variants[0].kind == "original"
    assert [drop.variant_index for drop in outcome.dropped] == [1, 2, 3]
    assert all(drop.reason in DROP_REASONS for drop in outcome.dropped)
    return {drop.reason for drop in outcome.dropped}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("print 'hello'\n", "syntax_error"),
        ("if True:\n\tx = 1\n        y = 2\n", "syntax_error"),
        ("x = 1\x00\n", "syntax_error"),
        ("x = " + "(" * 300 + "1" + ")" * 300 + "\n", "syntax_error"),
        ("x = " + "+".join(["1"] * 5000) + "\n", "too_deeply_nested"),
        ("x = " + "+".join(["1"] * 400) + "\n", "too_deeply_nested"),
        ('print("no numbers, no operators")\n', "unchanged"),
        ("", "unchanged"),
    ],
    ids=[
        "python2_print",
        "tabs_and_spaces",
        "null_byte",
        "300_parentheses",
        "sum_of_5000",
        "sum_of_400",
        "plain",
        "empty",
    ],
)
def test_bad_code_keeps_the_original_with_a_reason(code, reason):
    assert _only_original(code) == {reason}


@pytest.mark.parametrize("code", ["print 'hello'\n", "x = 1\x00\n", "x = " + "+".join(["1"] * 5000) + "\n", "\r"])
def test_code_that_cannot_be_made_canonical_is_dropped_whole(code):
    outcome = augment_snippet("bad", code, "[]", CANONICAL)
    assert outcome.variants == []
    assert [(drop.variant_index, drop.reason) for drop in outcome.dropped] == [(i, "not_canonical") for i in range(4)]
    result = augment_snippets(
        pd.DataFrame({"snippet_id": ["bad"], "code": [code], "test_cases": ["[]"]}), CANONICAL, workers=1
    )
    assert accounting_problems(["bad"], result, CANONICAL.variants_per_snippet) == []


def test_canonical_variants_carry_no_docstrings_or_comments_and_map_to_source_lines():
    code = 'def f(x):\n    """>>> f(2)\n    4\n    """\n    return x * 2  # double\n\n\nprint(f(2))\n'
    outcome = augment_snippet("doc", code, "[]", AugmentationSettings(p=1.0, variants_per_snippet=2))
    for row in outcome.variants:
        assert '"""' not in row.code and "#" not in row.code
        assert json.loads(row.source_lines)[:2] == [1, 5]
    assert outcome.variants[0].code == "def f(x):\n    return x * 2\n\n\nprint(f(2))\n"


def test_huge_code_is_refused_by_the_size_limit():
    code = "x = 1\n" * 200_000
    assert _only_original(code, max_code_chars=100_000) == {"too_large"}


def test_invalid_test_cases_keep_the_original_and_its_raw_text():
    outcome = augment_snippet("bad", "x = 1\n", '{"input": "not a list"}', SETTINGS)
    assert outcome.variants[0].test_cases == '{"input": "not a list"}'
    assert {drop.reason for drop in outcome.dropped} == {"invalid_test_cases"}


def test_libcst_parse_errors_are_reported(monkeypatch):
    real_parse = cst.parse_module
    monkeypatch.setattr(screening.cst, "parse_module", lambda code: real_parse("print 'python 2'\n"))
    assert _only_original("x = 1 + 2\n") == {"libcst_parse_error"}


def test_nested_but_valid_code_never_crashes():
    code = "x = " + "[" * 150 + "1" + "]" * 150 + "\ny = 2 + 3\n"
    outcome = augment_snippet("deep", code, "[]", SETTINGS)
    assert len(outcome.variants) + len(outcome.dropped) == 4


@pytest.mark.parametrize(
    "code",
    [
        'π = 3.14159\nnom_é = "héllo wörld 42"\nif π > 3 and nom_é:\n    print(π * 2, nom_é, -1)\n',
        "x = 10\r\nif x > 5:\r\n    x -= 1\r\nprint(x + 2)",
        "def f(a):\n    return a * 2 if not a else a + 1",
    ],
    ids=["non_ascii", "crlf_no_final_newline", "no_final_newline"],
)
def test_unusual_text_is_augmented_and_replays_exactly(code):
    outcome = augment_snippet("odd", code, "[]", AugmentationSettings(p=1.0, variants_per_snippet=3))
    assert len(outcome.variants) > 1
    for row in outcome.variants[1:]:
        compile(row.code, "<variant>", "exec")
        assert apply_mutations(outcome.variants[0].code, mutations_from_json(row.mutations)) == row.code


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["[]", '[{"input": "1 2"}]', "not json"]))
def test_arbitrary_text_never_raises(code, test_cases):
    outcome = augment_snippet("fuzz", code, test_cases, SETTINGS)
    indices = [r.variant_index for r in outcome.variants] + [d.variant_index for d in outcome.dropped]
    assert sorted(indices) == [0, 1, 2, 3]
    assert "augmentation_error" not in {drop.reason for drop in outcome.dropped}
    canonical = augment_snippet("fuzz", code, test_cases, CANONICAL)
    indices = [r.variant_index for r in canonical.variants] + [d.variant_index for d in canonical.dropped]
    assert sorted(indices) == [0, 1, 2, 3]


def test_tables_have_the_documented_columns_and_types():
    snippets = pd.DataFrame(
        {
            "snippet_id": ["a", "b", "c"],
            "code": ["x = 12\nprint(x * 3)\n", "print 'py2'\n", "print(input())\n"],
            "test_cases": ["[]", "[]", json.dumps([{"kind": "stdin", "stdin": "hello 42"}])],
        }
    )
    calls = []
    result = augment_snippets(snippets, SETTINGS, workers=1, progress=lambda done, total: calls.append((done, total)))
    assert list(result.variants.columns) == AUGMENTED_VARIANTS.names
    assert list(result.dropped.columns) == AUGMENTATION_REPORT.names
    assert str(result.variants["variant_index"].dtype) == "int32"
    assert calls[-1] == (3, 3)
    assert accounting_problems(snippets["snippet_id"], result, SETTINGS.variants_per_snippet) == []
    assert list(result.variants["snippet_id"].drop_duplicates()) == ["a", "b", "c"]
    assert set(result.dropped.loc[result.dropped["snippet_id"] == "b", "reason"]) == {"syntax_error"}


def test_empty_input_gives_empty_tables():
    empty = pd.DataFrame({"snippet_id": [], "code": [], "test_cases": []})
    result = augment_snippets(empty, SETTINGS, workers=2)
    assert result.variants.empty and list(result.variants.columns) == AUGMENTED_VARIANTS.names
    assert result.dropped.empty and list(result.dropped.columns) == AUGMENTATION_REPORT.names


def test_malformed_input_tables_are_rejected():
    with pytest.raises(ValueError, match="lack columns"):
        augment_snippets(pd.DataFrame({"snippet_id": ["a"], "code": ["x"]}), SETTINGS, workers=1)
    twice = pd.DataFrame({"snippet_id": ["a", "a"], "code": ["x = 1\n", "x = 2\n"], "test_cases": ["[]", "[]"]})
    with pytest.raises(ValueError, match="unique"):
        augment_snippets(twice, SETTINGS, workers=1)


def test_source_libcst_cannot_print_back_is_a_parse_error_not_a_bug():
    outcome = augment_snippet("lone-cr", "\r", "[]", SETTINGS)
    assert {drop.reason for drop in outcome.dropped} == {"libcst_parse_error"}
    assert [row.variant_index for row in outcome.variants] == [0]
