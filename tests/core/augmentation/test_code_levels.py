"""Digit and logical levels: literals, candidate sites, the six transformers, the guard, the rates."""

from __future__ import annotations

import ast
import random
from collections import Counter

import libcst as cst
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeboost_dagster.core.augmentation import apply_mutations, augment_snippet, mutations_from_json
from codeboost_dagster.core.augmentation.digit_level import mutable_digit_indices, mutate_digits, plan_digit_edits
from codeboost_dagster.core.augmentation.logical_level import plan_logical_edits
from codeboost_dagster.core.augmentation.mutations import LOGICAL_KINDS, NUMBER_LITERAL
from codeboost_dagster.core.augmentation.sites import locate_sites
from codeboost_dagster.core.settings import AugmentationSettings
from tests.real_snippets import algorithms_modules

EVERY_KIND = """\
def f(a, b, xs):
    total = 0
    for x in xs:
        total += x * 2
    if a and not b:
        total = -total
    if 0 < a < 10:
        return total
    return xs[1] + xs[-1] + xs[1:3]


if __name__ == "__main__":
    f(3, None, [1, 2, 3, 4])
"""


def _literal(text: str) -> cst.BaseNumber:
    return cst.parse_expression(text)


def _sites(code: str):
    return locate_sites(cst.parse_module(code), code).by_kind


def _variants(code: str, p: float, count: int, test_cases: str = "[]"):
    settings = AugmentationSettings(p=p, variants_per_snippet=count)
    return augment_snippet("snippet", code, test_cases, settings)


@pytest.mark.parametrize(
    ("literal", "mutable"),
    [
        ("7", "7"),
        ("1_024", "1024"),
        ("3.25", "325"),
        ("1.5e10", "15"),
        ("2E-3", "2"),
        ("12j", "12"),
        ("0.5J", "05"),
        ("0x1F", ""),
        ("0o17", ""),
        ("0b101", ""),
        ("00", ""),
        ("0", "0"),
    ],
)
def test_mutable_digits_are_the_decimal_mantissa(literal, mutable):
    indices = mutable_digit_indices(_literal(literal))
    assert "".join(literal[i] for i in indices) == mutable


@given(st.one_of(st.integers(0, 10**30).map(str), st.floats(0, 1e300, allow_nan=False).map(repr)), st.integers())
def test_mutated_literal_keeps_format_and_never_reuses_a_digit(literal, seed):
    node = _literal(literal)
    mutated = mutate_digits(node, random.Random(seed), 1.0)
    assert len(mutated) == len(literal)
    for index, (old, new) in enumerate(zip(literal, mutated)):
        if index in mutable_digit_indices(node):
            assert new != old and new in "123456789"
        else:
            assert new == old
    assert type(ast.literal_eval(mutated)) is type(ast.literal_eval(literal))


def test_sites_skip_subscripts_and_the_main_guard():
    sites = _sites(EVERY_KIND)
    numbers = [site.node.value for site in sites[NUMBER_LITERAL]]
    assert numbers == ["0", "2", "0", "10", "3", "1", "2", "3", "4"]
    assert {kind for kind in sites} == {NUMBER_LITERAL, *LOGICAL_KINDS}
    assert len(sites["if_negation"]) == 2
    assert [EVERY_KIND[s.start : s.end] for s in sites["comparison_operator"]] == ["<", "<"]
    reversed_guard = 'if "__main__" == __name__:\n    pass\n'
    assert _sites(reversed_guard) == {}


def test_every_transformer_applies_exactly_once_with_p_one():
    outcome = _variants(EVERY_KIND, p=1.0, count=5)
    for row in outcome.variants[1:]:
        kinds = Counter(m.kind for m in mutations_from_json(row.mutations) if m.level == "logical")
        assert kinds == Counter(LOGICAL_KINDS)
        tree = ast.parse(row.code)
        guard = tree.body[-1]
        assert ast.unparse(guard.test) == "__name__ == '__main__'"
        chained = [node for node in ast.walk(tree) if isinstance(node, ast.Compare) and len(node.ops) == 2]
        assert len(chained) == 1, "a chained comparison keeps its chain"


def test_if_negation_wraps_the_test_in_parentheses():
    code = "def g(a, b):\n    if a and b:\n        return 1\n"
    outcome = _variants(code, p=1.0, count=1)
    assert "    if not (a or b):\n" in outcome.variants[1].code
    compact = "def g(a):\n    if(a):\n        return 1\n"
    assert "    if not ((a)):\n" in _variants(compact, p=1.0, count=1).variants[1].code


def test_not_is_removed_with_its_space():
    outcome = _variants("def g(done):\n    return not done\n", p=1.0, count=1)
    assert outcome.variants[1].code == "def g(done):\n    return done\n"
    (mutation,) = mutations_from_json(outcome.variants[1].mutations)
    assert (mutation.kind, mutation.old, mutation.new, mutation.line, mutation.column) == (
        "unary_operator",
        "not ",
        "",
        2,
        11,
    )


def test_snippet_with_only_the_guard_yields_the_original_only():
    code = 'import sys\n\nif __name__ == "__main__":\n    sys.exit(main())\n'
    outcome = _variants(code, p=1.0, count=3)
    assert [row.variant_index for row in outcome.variants] == [0]
    assert {drop.reason for drop in outcome.dropped} == {"unchanged"}


def test_only_the_operator_token_changes_and_whitespace_stays():
    code = "x = (a  +  b)\ny = c is  not d\nz = e  in  f\nw = ~g\n"
    outcome = _variants(code, p=1.0, count=4)
    for row in outcome.variants[1:]:
        assert apply_mutations(outcome.variants[0].code, mutations_from_json(row.mutations)) == row.code
        assert row.code.startswith("x = (a  -  b)\n") and row.code.endswith("w = -g\n")
        one_comparison_changed = ("y = c is d\n" in row.code) != ("z = e  not in  f\n" in row.code)
        assert one_comparison_changed


@pytest.fixture(scope="module")
def parsed_corpus():
    """(code, candidate sites) of every other algorithms module, parsed once."""
    return [(s.code, locate_sites(cst.parse_module(s.code), s.code).by_kind) for s in algorithms_modules()[::2]]


def test_each_transformer_applies_with_probability_p(parsed_corpus):
    p, draws_per_snippet = 0.1, 20
    applied, eligible = Counter(), Counter()
    for index, (code, sites) in enumerate(parsed_corpus):
        for draw in range(draws_per_snippet):
            rng = random.Random(f"{index}/{draw}")
            edits = plan_logical_edits(sites, rng, p, code)
            applied.update(edit.site.kind for edit in edits)
            eligible.update(kind for kind in LOGICAL_KINDS if sites.get(kind))
    for kind in LOGICAL_KINDS:
        n = eligible[kind]
        assert n > 500, kind
        assert abs(applied[kind] / n - p) < 4 * (p * (1 - p) / n) ** 0.5, kind


def test_the_changed_node_is_chosen_uniformly():
    code = "y = a + b + c + d + e\n"
    sites = _sites(code)
    chosen = Counter()
    for draw in range(4000):
        (edit,) = plan_logical_edits(sites, random.Random(draw), 1.0, code)
        chosen[edit.site.start] += 1
    assert len(chosen) == 4
    assert all(abs(count - 1000) < 4 * (4000 * 0.25 * 0.75) ** 0.5 for count in chosen.values())


def test_each_digit_changes_with_probability_p(parsed_corpus):
    p = 0.1
    changed = total = 0
    for index, (_, sites) in enumerate(parsed_corpus):
        for draw in range(2):
            rng = random.Random(f"{index}/{draw}")
            edits = {edit.site.node: edit.new_text for edit in plan_digit_edits(sites, rng, p)}
            for site in sites.get(NUMBER_LITERAL, ()):
                new = edits.get(site.node, site.node.value)
                total += len(mutable_digit_indices(site.node))
                changed += sum(old != char for old, char in zip(site.node.value, new))
    assert total > 2000
    assert abs(changed / total - p) < 4 * (p * (1 - p) / total) ** 0.5
