"""Input level: stdin characters and function-call arguments, their records and their rates."""

from __future__ import annotations

import json
import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.augmentation import apply_input_mutations, augment_snippet, mutations_from_json
from codeboost_dagster.core.augmentation.input_level import perturb_test_cases
from codeboost_dagster.core.settings import AugmentationSettings
from codeboost_dagster.core.test_cases import normalize_test_cases

SETTINGS = AugmentationSettings()
CERTAIN = AugmentationSettings(p=1.0)


def _classes(text: str) -> list[str]:
    def name(char: str) -> str:
        for label, members in (("d", string.digits), ("l", string.ascii_lowercase), ("u", string.ascii_uppercase)):
            if char in members:
                return label
        return char

    return [name(char) for char in text]


def test_every_stdin_letter_and_digit_changes_within_its_class_with_p_one():
    stdin = "n=12, Name: Zoë\n3 4\t-7.5 é\n"
    cases, mutations = perturb_test_cases([{"kind": "stdin", "stdin": stdin}], random.Random(0), CERTAIN)
    new = cases[0]["stdin"]
    assert len(new) == len(stdin) and _classes(new) == _classes(stdin)
    changeable = [i for i, char in enumerate(stdin) if char in string.ascii_letters + string.digits]
    assert all(new[i] != stdin[i] for i in changeable)
    assert all(new[i] == stdin[i] for i in range(len(stdin)) if i not in changeable)
    assert len(mutations) == len(changeable)
    assert {(m.level, m.kind, m.target) for m in mutations} == {("input", "stdin_char", "/0/stdin")}
    assert (mutations[-1].line, mutations[-1].column, mutations[-1].old) == (2, 7, "5")


def test_call_arguments_change_recursively_and_bools_none_and_keys_never():
    case = {
        "kind": "call",
        "func_name": "solve",
        "args": [10, 2.5, True, None, "ab1", [3, [4.0, False]], {"a/b": 7, "c~": "Z"}],
        "kwargs": {"limit": -6},
    }
    for seed in range(50):
        (new,), mutations = perturb_test_cases([case], random.Random(seed), CERTAIN)
        assert new["args"][2] is True and new["args"][3] is None and new["args"][5][1][1] is False
        assert list(new["args"][6]) == ["a/b", "c~"] and list(new["kwargs"]) == ["limit"]
        targets = {m.target for m in mutations}
        numbers = (("/0/args/0", 10, new["args"][0]), ("/0/args/5/0", 3, new["args"][5][0]))
        for target, old, value in (*numbers, ("/0/kwargs/limit", -6, new["kwargs"]["limit"])):
            assert isinstance(value, int) and (value != old) == (target in targets)
            scaled = min(0.5 * old, 1.5 * old) - 0.5 <= value <= max(0.5 * old, 1.5 * old) + 0.5
            assert value in (old + 5, old - 5, -old) or scaled
        assert isinstance(new["args"][1], float) and (new["args"][1] != 2.5) == ("/0/args/1" in targets)
        assert {"/0/args/4", "/0/args/6/a~1b", "/0/args/6/c~0"} <= targets, "strings change per character"
        assert apply_input_mutations([case], mutations) == [new]


def test_stdin_characters_change_with_probability_p():
    stdin = "".join(random.Random(1).choice(string.digits + string.ascii_letters + " \n") for _ in range(20000))
    eligible = sum(char.isascii() and char.isalnum() for char in stdin)
    _, mutations = perturb_test_cases([{"kind": "stdin", "stdin": stdin}], random.Random(2), SETTINGS)
    p = SETTINGS.p
    assert abs(len(mutations) / eligible - p) < 4 * (p * (1 - p) / eligible) ** 0.5


def test_numeric_arguments_change_with_probability_p():
    args = list(range(1, 20001))
    _, mutations = perturb_test_cases(
        [{"kind": "call", "func_name": "f", "args": args, "kwargs": {}}], random.Random(3), SETTINGS
    )
    p, n = SETTINGS.p, len(args)
    assert abs(len(mutations) / n - p) < 4 * (p * (1 - p) / n) ** 0.5 + 0.01


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)
test_case = st.one_of(
    st.builds(lambda text: {"kind": "stdin", "stdin": text}, st.text(max_size=200)),
    st.builds(
        lambda args, kwargs: {"kind": "call", "func_name": "f", "args": args, "kwargs": kwargs},
        st.lists(json_values, max_size=4),
        st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True), json_values, max_size=3),
    ),
)


@settings(max_examples=60)
@given(st.lists(test_case, max_size=3), st.integers(), st.sampled_from([0.1, 0.5, 1.0]))
def test_recorded_input_mutations_replay_to_the_variant(cases, seed, p):
    settings = AugmentationSettings(p=p)
    new, mutations = perturb_test_cases(cases, random.Random(seed), settings)
    assert apply_input_mutations(cases, mutations) == new
    assert json.loads(json.dumps(new)) == new
    assert (new == cases) == (not mutations)


def test_variant_rows_carry_perturbed_test_cases_in_normal_form():
    raw = json.dumps([{"input": "5\n1 2 3 4 5\n"}, {"input": [[1, 2, 3]], "func_name": "total"}])
    outcome = augment_snippet("s", "print(input())\n", raw, AugmentationSettings(p=0.5, variants_per_snippet=4))
    original = normalize_test_cases(raw)
    for row in outcome.variants[1:]:
        mutations = mutations_from_json(row.mutations)
        assert row.kind == "input" and row.code == "print(input())\n"
        assert normalize_test_cases(row.test_cases) == json.loads(row.test_cases)
        assert apply_input_mutations(original, mutations) == json.loads(row.test_cases)
