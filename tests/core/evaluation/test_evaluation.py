"""Evaluation core: items from HumanEval-shaped problems, execution verdicts both ways with
hand-made right, wrong and hostile answers, decontamination, and the summary."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from codeboost_dagster.core.evaluation.decontamination import contamination_report
from codeboost_dagster.core.evaluation.heldout import select_heldout, stratum_of
from codeboost_dagster.core.evaluation.intervals import interval_table
from codeboost_dagster.core.evaluation.items import (
    INPUT_PREDICTION,
    NO_EXACT_ASSERTION,
    OUTPUT_PREDICTION,
    build_items,
    candidates_of,
    humaneval_problems,
    select_items,
    unaccounted_problems,
)
from codeboost_dagster.core.evaluation.predictions import score_predictions
from codeboost_dagster.core.evaluation.scoring import evaluation_prompts, summarize, task_failure
from codeboost_dagster.core.frames import with_none
from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.settings import SandboxLimits

LIMITS = SandboxLimits(wall_time_s=2.0, cpu_time_s=2.0)


def _problem(task_id: str, body: str, tests: str, entry: str = "f") -> dict:
    return {
        "task_id": task_id,
        "prompt": f"def {entry}(x, y=1):\n",
        "canonical_solution": body,
        "entry_point": entry,
        "test": f"def check(candidate):\n{tests}",
    }


PROBLEMS = [
    _problem(
        "P/0",
        "    return x * 2 + y\n",
        "    assert candidate(3) == 7\n    assert candidate(1, y=0) == 2\n    assert abs(candidate(0.5) - 2) < 1e-6\n",
    ),
    _problem("P/1", "    return 1 // x\n", "    assert candidate(0) == 1\n"),
    _problem("P/2", "    import random\n    return random.random()\n", "    assert candidate(1) == 0.5\n"),
    _problem("P/3", "    while True:\n        pass\n", "    assert candidate(1) == 0\n"),
    _problem("P/4", "    return x / 3\n", "    for x in range(3):\n        assert abs(candidate(x) - x / 3) < 1e-9\n"),
]


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("forkserver", LIMITS) as opened:
        yield opened


@pytest.fixture(scope="module")
def items(sandbox) -> pd.DataFrame:
    return build_items(PROBLEMS, sandbox).items


def _answer(tag: str, text: str) -> str:
    return f"Let me think.\n```{tag}\n{text}\n```"


def test_only_exact_equality_asserts_on_the_candidate_become_candidates():
    found = candidates_of(PROBLEMS[0])
    assert [candidate.input for candidate in found] == ["1, y=0", "3"]
    assert found[0].code.startswith("def f(x, y=1):\n    return x * 2 + y")


def test_items_hold_the_real_output_and_bad_functions_are_dropped_with_a_reason(sandbox):
    build = build_items(PROBLEMS, sandbox)
    assert sorted(build.items["kind"].value_counts().items()) == [(INPUT_PREDICTION, 2), (OUTPUT_PREDICTION, 2)]
    outputs = dict(zip(build.items["input"], build.items["output"]))
    assert outputs == {"3": "7", "1, y=0": "2"}
    assert dict(zip(build.dropped["problem_id"], build.dropped["reason"])) == {
        "P/1": "status_error",
        "P/2": "non_deterministic",
        "P/3": "status_timeout",
        "P/4": NO_EXACT_ASSERTION,
    }
    assert unaccounted_problems(PROBLEMS, build) == []
    assert unaccounted_problems(
        [*PROBLEMS, _problem("P/5", "    return x\n", "    assert candidate(1) == 1\n")], build
    ) == ["P/5"]
    assert build.items["item_id"].is_unique
    again = build_items(PROBLEMS, sandbox)
    assert again.items["item_id"].tolist() == build.items["item_id"].tolist()


def test_output_predictions_are_judged_by_execution(items, sandbox):
    chosen = items[(items["kind"] == OUTPUT_PREDICTION) & (items["input"] == "3")]
    chosen = pd.concat([chosen] * 6, ignore_index=True)
    answers = [
        _answer("answer_output", "7"),
        _answer("answer_output", "8"),
        "7",
        _answer("answer_output", "7)\nprint(1"),
        _answer("answer_output", "[i for i in iter(int, 1)]"),
        _answer("answer_output", "7.0"),
    ]
    verdicts = score_predictions(chosen, answers, sandbox)
    assert verdicts["correct"].tolist() == [True, False, False, False, False, True]
    assert with_none(verdicts)["reason"].tolist() == [
        None,
        "wrong",
        "no_answer_block",
        "unparseable",
        "status_timeout",
        None,
    ]


def test_input_predictions_are_right_when_the_function_gives_the_output(items, sandbox):
    chosen = items[(items["kind"] == INPUT_PREDICTION) & (items["input"] == "3")]
    chosen = pd.concat([chosen] * 5, ignore_index=True)
    answers = [
        _answer("answer_input", "3"),
        _answer("answer_input", "2, y=3"),
        _answer("answer_input", "4"),
        _answer("answer_input", ""),
        _answer("answer_input", "__import__('os').kill(__import__('os').getpid(), 9)"),
    ]
    verdicts = score_predictions(chosen, answers, sandbox)
    assert verdicts["correct"].tolist() == [True, True, False, False, False]
    assert with_none(verdicts)["reason"].tolist()[2:4] == ["wrong", "empty_answer"]


def test_an_answer_cannot_print_its_way_to_a_right_verdict(items, sandbox):
    chosen = items[(items["kind"] == OUTPUT_PREDICTION) & (items["input"] == "3")]
    verdicts = score_predictions(chosen, [_answer("answer_output", "print('True') or 8")], sandbox)
    assert verdicts["correct"].tolist() == [False]


def test_near_duplicate_evaluation_functions_are_reported():
    functions = pd.DataFrame(
        {
            "problem_id": ["P/0", "P/1"],
            "code": [
                PROBLEMS[0]["prompt"] + PROBLEMS[0]["canonical_solution"],
                "def g(a):\n    return sorted(a)[::-1]\n",
            ],
        }
    )
    snippets = pd.DataFrame(
        {
            "snippet_id": ["s1", "s2"],
            "code": [functions["code"][0] + "\nprint(f(3))\n", "import sys\nprint(sys.argv)\n"],
        }
    )
    report = contamination_report(functions, snippets, gamma=0.5)
    assert report["near_duplicate"].tolist() == [True, False]
    assert with_none(report)["nearest_snippet_id"].tolist() == ["s1", None]
    assert report["distance"].iloc[0] == pytest.approx(1 / 3)


def test_summary_per_model_and_benchmark():
    predictions = pd.DataFrame(
        {
            "model": ["base", "base", "trained"],
            "benchmark": ["cruxeval_output"] * 3,
            "item_id": ["a", "b", "a"],
            "correct": [True, False, True],
            "score": [1.0, 0.0, 1.0],
            "format": [1.0, 0.0, 1.0],
        }
    )
    summary = summarize(predictions)
    assert summary[["model", "items", "pass_at_1"]].values.tolist() == [["base", 2, 0.5], ["trained", 1, 1.0]]


def test_the_real_humaneval_data_gives_about_a_thousand_asserts_and_a_stable_subset():
    problems = humaneval_problems()
    assert len(problems) == 164
    assert sum(len(candidates_of(problem)) for problem in problems) > 1000
    frame = pd.DataFrame(
        {
            "item_id": ["c", "a", "b", "d"],
            "kind": [OUTPUT_PREDICTION, OUTPUT_PREDICTION, INPUT_PREDICTION, INPUT_PREDICTION],
        }
    )
    assert select_items(frame, 1)["item_id"].tolist() == ["b", "a"]
    assert len(select_items(frame, 0)) == 4


def _tasks() -> pd.DataFrame:
    """Test tasks of 30 snippets: every snippet has a forward task and variants' backward tasks."""
    rows = []
    for snippet in range(30):
        error = [None, "ZeroDivisionError", "KeyError"][snippet % 3]
        for variant in range(3):
            rows.append(
                {
                    "task_id": f"t{snippet}-{variant}f",
                    "snippet_id": f"s{snippet}",
                    "task_type": "forward",
                    "error_type": error,
                }
            )
            rows.append(
                {
                    "task_id": f"t{snippet}-{variant}b",
                    "snippet_id": f"s{snippet}",
                    "task_type": "backward",
                    "error_type": error,
                }
            )
    return pd.DataFrame(rows)


def test_heldout_tasks_are_one_per_snippet_and_cover_every_stratum():
    tasks = _tasks()
    chosen = select_heldout(tasks, 12, seed=0)
    assert len(chosen) == 12 and chosen["snippet_id"].is_unique
    assert stratum_of(chosen).value_counts().tolist() == [2] * 6
    everything = select_heldout(tasks, 0, seed=0)
    assert len(everything) == 30 and everything["snippet_id"].is_unique
    shuffled = select_heldout(tasks.sample(frac=1.0, random_state=3), 12, seed=0)
    assert shuffled["task_id"].tolist() == chosen["task_id"].tolist()
    assert select_heldout(tasks, 12, seed=1)["task_id"].tolist() != chosen["task_id"].tolist()


def _predictions(base_correct: list[bool], trained_correct: list[bool]) -> pd.DataFrame:
    rows = []
    for model, outcomes in (("base", base_correct), ("trained", trained_correct)):
        for index, correct in enumerate(outcomes):
            rows.append(
                {
                    "model": model,
                    "benchmark": "cruxeval_output",
                    "item_id": f"i{index}",
                    "correct": correct,
                    "score": float(correct),
                    "format": 1.0,
                }
            )
    return pd.DataFrame(rows)


def test_the_paired_interval_of_the_difference():
    rng = np.random.default_rng(0)
    base = list(rng.random(200) < 0.3)
    better = interval_table(_predictions(base, [True] * 150 + base[150:]), 1000, 0.95, seed=0)
    row = better.set_index("metric").loc["pass_at_1"]
    assert row["items"] == 200 and row["difference"] > 0 and row["excludes_zero"]
    assert row["base_low"] <= row["base"] <= row["base_high"]
    same = interval_table(_predictions(base, base), 1000, 0.95, seed=0).set_index("metric").loc["pass_at_1"]
    assert same["difference"] == 0 and not same["excludes_zero"]
    again = interval_table(_predictions(base, [True] * 150 + base[150:]), 1000, 0.95, seed=0)
    pd.testing.assert_frame_equal(better, again)
    base_only = interval_table(_predictions(base, [])[lambda f: f["model"] == "base"], 100, 0.95, seed=0)
    assert base_only["difference"].isna().all() and not base_only["excludes_zero"].any()


def test_every_failed_heldout_answer_has_a_reason():
    assert task_failure({"format": 0.0, "stdout_ok": 0.0, "infra_error": 0.0}) == "no_answer_block"
    assert task_failure({"format": 1.0, "stdout_ok": 0.0, "infra_error": 0.0}) == "wrong_output"
    assert task_failure({"format": 1.0, "stdout_ok": 0.0, "infra_error": 1.0}) == "infra_error"


def test_answer_openings_show_the_format_never_the_answer(items):
    tasks = pd.DataFrame(
        [
            {
                "task_id": "f1",
                "task_type": "forward",
                "error_type": None,
                "prompt": "p1",
                "ground_truth": json.dumps({"task_type": "forward", "stdout": "41\n", "stderr": ""}),
            },
            {
                "task_id": "b1",
                "task_type": "backward",
                "error_type": None,
                "prompt": "p2",
                "ground_truth": json.dumps(
                    {"task_type": "backward", "mask_token": "MASKED_LINE_0", "masked_code": "x"}
                ),
            },
        ]
    )
    prompts = evaluation_prompts(items, tasks).set_index("item_id")
    kinds = items.set_index("item_id")["kind"]
    assert {prompts.loc[item, "opening"] for item in kinds[kinds == OUTPUT_PREDICTION].index} == {"```answer_output\n"}
    assert {prompts.loc[item, "opening"] for item in kinds[kinds == INPUT_PREDICTION].index} == {"```answer_input\n"}
    assert prompts.loc["f1", "opening"] == "```answer_stdout\n"
    assert prompts.loc["b1", "opening"] == "```answer_MASKED_LINE_0\n"
