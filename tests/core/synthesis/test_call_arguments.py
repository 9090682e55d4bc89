"""Call arguments as Python source: what a `call` case may carry, how it is shown and run, and how
input-level augmentation changes it."""

from __future__ import annotations

import datetime
import decimal
import fractions
import random

import pytest

from codeboost_dagster.core.augmentation.input_level import perturb_test_cases
from codeboost_dagster.core.call_arguments import InvalidArgument, parse_argument, python_source, qualified_argument
from codeboost_dagster.core.sandbox import open_sandbox, program_from_test_case, stitch
from codeboost_dagster.core.sandbox.program import MAIN_GUARD, harness_start
from codeboost_dagster.core.settings import AugmentationSettings
from codeboost_dagster.core.test_cases import InvalidTestCases, normalize_test_cases
from tests.task_records import LIMITS

VALUES = [
    (1, "a"),
    {2, 3},
    frozenset({4}),
    b"\x00x",
    bytearray(b"ab"),
    fractions.Fraction(-5, 3),
    decimal.Decimal("1.50"),
    datetime.date(2024, 2, 29),
    datetime.datetime(2020, 1, 2, 3, 4),
    datetime.timedelta(days=2, seconds=5),
    {"k": [1.5, None, True]},
    (),
    (7,),
    set(),
    complex(1, -2),
    float("inf"),
]


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd')",
        "helper(3)",
        "x",
        "[*items]",
        "{**extra}",
        "(lambda: 1)()",
        "fractions.Fraction(1, 3).limit_denominator()",
        "1 if True else 2",
        "f'{1}'",
    ],
)
def test_anything_but_literals_and_value_constructors_is_refused(source):
    with pytest.raises(InvalidArgument):
        parse_argument(source)


def test_a_bare_constructor_the_module_imported_is_qualified():
    assert qualified_argument("Fraction(1, 3)") == "fractions.Fraction(1, 3)"
    assert qualified_argument("date(2024, 1, 2)") == "datetime.date(2024, 1, 2)"
    with pytest.raises(InvalidArgument):
        qualified_argument("Point(1, 2)")


def test_a_case_with_python_arguments_is_normalized_and_checked():
    (case,) = normalize_test_cases(
        [{"kind": "call", "func_name": "f", "python_args": ["Fraction(1, 2)"], "source": "example"}]
    )
    assert case == {
        "kind": "call",
        "func_name": "f",
        "args": [],
        "kwargs": {},
        "python_args": ["fractions.Fraction(1, 2)"],
        "source": "example",
    }
    for bad in (
        {"kind": "call", "func_name": "f", "python_args": ["os.getcwd()"]},
        {"kind": "call", "func_name": "f", "python_args": [3]},
        {"kind": "call", "func_name": "f", "args": [1], "python_args": ["2"]},
        {"kind": "call", "func_name": "f", "python_kwargs": {"not an identifier": "1"}},
    ):
        with pytest.raises(InvalidTestCases):
            normalize_test_cases([bad])
    assert normalize_test_cases([{"input": [1], "func_name": "f"}]) == [
        {"kind": "call", "func_name": "f", "args": [1], "kwargs": {}}
    ]  # the JSON form keeps its normal form (and so its ids)


def test_every_value_the_generator_builds_round_trips_through_the_sandbox():
    code = "def f(*values):\n    return values\n"
    cases = [{"kind": "call", "func_name": "f", "python_args": [python_source(value) for value in VALUES]}]
    program = program_from_test_case(code, normalize_test_cases(cases)[0])
    shown = stitch(program)
    assert "    import datetime\n    import decimal\n    import fractions\n" in shown
    assert shown.splitlines()[harness_start(shown)] == MAIN_GUARD  # the imports belong to the harness
    with open_sandbox("forkserver", LIMITS, concurrency=1) as sandbox:
        result = sandbox.run(program)
    assert result.status == "ok"
    assert result.stdout.strip() == str(tuple(VALUES))


def test_input_level_mutation_changes_literals_but_never_a_constructor_argument():
    case = {
        "kind": "call",
        "func_name": "f",
        "args": [],
        "kwargs": {},
        "python_args": ["(10, 'word')", "fractions.Fraction(3, 4)"],
        "python_kwargs": {"n": "5"},
    }
    settings = AugmentationSettings(p=1.0)
    changed, mutations = perturb_test_cases([case], random.Random(0), settings)
    (new,) = changed
    assert new["python_args"][1] == "fractions.Fraction(3, 4)"
    assert new["python_args"][0] != "(10, 'word')" and new["python_kwargs"]["n"] != "5"
    assert {mutation.target.split("/")[2] for mutation in mutations} == {"python_args", "python_kwargs"}
    assert normalize_test_cases(changed)  # still a valid case
