"""Call-input synthesis: uncalled functions, their slices, candidates by source, and the chosen
cases, every candidate run in the real local sandbox."""

from __future__ import annotations

import ast
import json
import textwrap

import pytest

from codeboost_dagster.core.filtering import filter_snippets, raw_snippets_frame
from codeboost_dagster.core.readers.records import snippet_from_source
from codeboost_dagster.core.sandbox import open_sandbox, programs_from_test_cases, stitch
from codeboost_dagster.core.settings import FilterSettings, SynthesisSettings
from codeboost_dagster.core.synthesis.candidates import candidates
from codeboost_dagster.core.synthesis.functions import uncalled_functions
from codeboost_dagster.core.synthesis.synthesize import SYNTHESIZED, synthesize_calls
from codeboost_dagster.core.test_cases import normalize_test_cases
from tests.task_records import LIMITS

FILTERS = FilterSettings(min_lines=1, min_chars=1)

MODULE = textwrap.dedent(
    '''
    """A small library nobody calls."""
    import os
    from fractions import Fraction

    LIMIT = 40


    def _helper(x):
        return x * 2


    def hinted(values: list[int], scale: Fraction) -> str:
        total = sum(values) * scale
        return f"{total} over {len(values)}"


    def documented(word):
        """Shout a word.

        >>> documented("hey")
        'HEY!'
        """
        return word.upper() + "!"


    def defaults_only(count=3, fill="ab"):
        return fill * count


    def needs_literal(code):
        if code == "zebra-7":
            return _helper(LIMIT)
        return -1


    def reads_file(path):
        with open(path) as handle:
            return handle.read()


    def lists_dir(folder):
        return sorted(os.listdir(folder))


    def never_binds(a, b, c, d, e, f, g, h):
        return a.nonexistent_method_of_anything()


    def called_below(x):
        return x


    print(called_below(1))
    '''
)


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("forkserver", LIMITS, concurrency=2) as opened:
        yield opened


def _synthesized(sandbox, *sources: tuple[str, str], filters: FilterSettings = FILTERS, seed: int = 0):
    raw = raw_snippets_frame([snippet_from_source("lib", origin, code) for origin, code in sources])
    kept = filter_snippets(raw, filters).kept
    return synthesize_calls(raw, kept, sandbox, SynthesisSettings(seed=seed), filters)


@pytest.fixture(scope="module")
def outcome(sandbox):
    return _synthesized(sandbox, ("lib/module.py", MODULE))


def _report(outcome) -> dict[str, dict]:
    return {row["function"]: row for row in outcome.report.to_dict("records")}


def _cases(outcome, function: str) -> list[dict]:
    row = outcome.snippets[outcome.snippets["origin"] == f"lib/module.py::{function}"].iloc[0]
    return normalize_test_cases(row["test_cases"])


def test_only_uncalled_functions_with_parameters_are_considered():
    names = [function.name for function in uncalled_functions(MODULE)]
    assert names == ["_helper", "hinted", "documented", "defaults_only", "needs_literal", "reads_file", "lists_dir",
                     "never_binds"]  # fmt: skip


def test_a_slice_holds_what_the_function_needs_and_nothing_the_module_runs():
    (needs_literal,) = [f for f in uncalled_functions(MODULE) if f.name == "needs_literal"]
    assert "LIMIT = 40" in needs_literal.slice_code and "def _helper" in needs_literal.slice_code
    assert "print(" not in needs_literal.slice_code and "def hinted" not in needs_literal.slice_code
    assert "import os" not in needs_literal.slice_code


def test_functions_that_reach_outside_their_arguments_are_skipped_with_the_reason(outcome):
    report = _report(outcome)
    assert report["reads_file"]["outcome"] == "touches_file_system" and "open" in report["reads_file"]["detail"]
    assert report["lists_dir"]["outcome"] == "touches_file_system"
    assert report["reads_file"]["snippet_id"] is None


def test_a_function_whose_every_candidate_fails_at_the_boundary_is_recorded(outcome):
    row = _report(outcome)["never_binds"]
    assert row["outcome"] == "every_candidate_rejected"
    assert row["candidates"] > 0 and row["rejected_at_boundary"] == row["candidates"]


def test_type_hints_give_values_of_the_annotated_types(outcome):
    cases = _cases(outcome, "hinted")
    assert cases and {case["source"] for case in cases} == {"type_hint"}
    assert all(case["python_args"][1].startswith("fractions.Fraction(") for case in cases)


def test_a_doctest_example_is_the_first_case(outcome):
    cases = _cases(outcome, "documented")
    assert cases[0]["source"] == "example" and cases[0]["python_args"] == ["'hey'"]


def test_defaults_are_called_as_they_are(outcome):
    cases = _cases(outcome, "defaults_only")
    assert cases[0]["source"] == "default" and "python_args" not in cases[0]


def test_a_literal_from_the_body_reaches_the_branch_it_guards(outcome, sandbox):
    cases = _cases(outcome, "needs_literal")
    assert any(case["source"] == "literal_pool" and case["python_args"] == ["'zebra-7'"] for case in cases)
    row = outcome.snippets[outcome.snippets["origin"] == "lib/module.py::needs_literal"].iloc[0]
    programs = programs_from_test_cases(row["code"], cases)
    outputs = {result.stdout for result in sandbox.run_many(programs)}
    assert "80\n" in outputs and "-1\n" in outputs


def test_every_chosen_case_runs_without_failing_at_the_call_boundary(outcome, sandbox):
    programs = [
        p
        for row in outcome.snippets.itertuples()
        for p in programs_from_test_cases(row.code, normalize_test_cases(row.test_cases))
    ]
    results = sandbox.run_many(programs)
    assert results and all(result.error_type not in ("TypeError", "AttributeError") for result in results)
    assert all("fractions.Fraction(" not in stitch(p) or "import fractions" in stitch(p) for p in programs)


def test_every_function_is_reported_and_every_program_is_a_synthesized_one(outcome):
    report = outcome.report
    assert set(report["function"]) == {f.name for f in uncalled_functions(MODULE)}
    synthesized = report[report["outcome"] == SYNTHESIZED]
    assert set(synthesized["snippet_id"]) == set(outcome.snippets["snippet_id"])
    assert outcome.snippets["origin"].str.startswith("lib/module.py::").all()
    assert sum(sum(json.loads(text).values()) for text in synthesized["cases_by_source"]) == synthesized["cases"].sum()


def test_rows_with_test_cases_or_a_documented_output_are_left_as_they_are(sandbox):
    code = "def f(x):\n    return x\n"
    cased = snippet_from_source("lib", "cased.py", code, [{"input": [1], "func_name": "f"}])
    documented = snippet_from_source("lib", "documented.py", code + "\n# shown\n", expected_stdout="")
    raw = raw_snippets_frame([cased, documented])
    result = synthesize_calls(raw, filter_snippets(raw, FILTERS).kept, sandbox, SynthesisSettings(), FILTERS)
    assert result.snippets.empty and result.report.empty
    assert not _synthesized(sandbox, ("lib/plain.py", code)).snippets.empty


def test_a_module_too_long_to_show_still_gives_its_functions(sandbox):
    long_module = MODULE + "".join(f"\nCONSTANT_{i} = {i}\n" for i in range(60))
    result = _synthesized(
        sandbox, ("lib/long.py", long_module), filters=FilterSettings(min_lines=1, min_chars=1, max_lines=100)
    )
    assert "lib/long.py::hinted" in set(result.snippets["origin"])


def test_synthesis_is_deterministic_under_row_order_and_seed(sandbox):
    other = "def double(n: int) -> int:\n    return n * 2\n"
    forward = _synthesized(sandbox, ("a.py", MODULE), ("b.py", other))
    backward = _synthesized(sandbox, ("b.py", other), ("a.py", MODULE))

    def cases(result):
        return dict(zip(result.snippets["origin"], result.snippets["test_cases"], strict=True))

    assert cases(forward) == cases(backward)
    assert cases(_synthesized(sandbox, ("a.py", MODULE), seed=1)) != cases(_synthesized(sandbox, ("a.py", MODULE)))
    function = next(f for f in uncalled_functions(MODULE) if f.name == "never_binds")
    module = ast.parse(MODULE)
    assert candidates(function, module, 16, 4, seed=0) == candidates(function, module, 16, 4, seed=0)
    assert candidates(function, module, 16, 4, seed=0) != candidates(function, module, 16, 4, seed=1)
