"""Answers that read nothing, scored by the evaluation's own code on real certified tasks, and the
margin of a model over the best of them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from codeboost_dagster.core.evaluation.heuristics import (
    APPLIES_TO,
    PREFIX,
    best_constant_stdout,
    noop_answer_line,
    printed_argument,
)
from codeboost_dagster.core.evaluation.intervals import heuristic_margins
from codeboost_dagster.core.evaluation.scoring import (
    evaluation_prompts,
    output_kind,
    right_by_output_kind,
    score_heuristics,
)
from codeboost_dagster.core.sandbox import Program, open_sandbox, stitch
from codeboost_dagster.core.settings import RewardSettings
from tests.task_records import LIMITS, certified_tasks, execution_records

NO_ITEMS = pd.DataFrame(columns=["item_id", "kind", "code", "entry_point", "input", "output"])


def test_the_copied_argument_is_the_last_calls_literal_argument():
    assert printed_argument("def f(x):\n    return sorted(x)\n\nprint(f([3, 1]))\n") == "[3, 1]\n"
    assert printed_argument("print(g(1))\nprint(repr(f('ab')))\n") == "ab\n"
    harness = stitch(Program("def f(x):\n    return x\n", func_name="f", python_args=["(1, 'a')"]))
    assert printed_argument(harness) == "(1, 'a')\n"
    assert printed_argument("values = [2]\nprint(f(values))\n") == ""
    assert printed_argument("print('no call')\n") == printed_argument("x = (\n") == ""


def test_the_noop_line_takes_the_indentation_the_line_before_suggests():
    assert noop_answer_line("def f(x):\nMASKED_LINE_0\n", 1) == "    pass"
    assert noop_answer_line("def f(x):\n    y = x\nMASKED_LINE_0\n", 2) == "    pass"
    assert noop_answer_line("MASKED_LINE_0\n", 0) == "pass"


def test_the_best_constant_is_chosen_on_train_tasks_by_reward():
    def task(stdout: str, task_type: str = "forward") -> dict:
        return {"task_type": task_type, "ground_truth": json.dumps({"stdout": stdout, "stderr": ""})}

    train = pd.DataFrame([task("True\n")] * 3 + [task("1\n"), task("")] + [task("x\n", "backward")] * 9)
    assert best_constant_stdout(train, RewardSettings()) == "True\n"
    assert best_constant_stdout(train.iloc[:0], RewardSettings()) == ""


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("forkserver", LIMITS, concurrency=2) as opened:
        yield opened


def test_heuristics_are_scored_like_models_on_certified_tasks(sandbox):
    codes = [
        "def f(x):\n    return x\n\nprint(f([3, 1]))\n",  # the copied argument is the output
        "def f(x):\n    return sorted(x)\n\nprint(f([3, 1]))\n",  # it is not
        "def f(x):\n    return 10 // x\n\nprint(f(0))\n",  # empty stdout: the empty answer is right
    ]
    build = certified_tasks(sandbox, execution_records(sandbox, codes), forward_fraction=1.0)
    assert dict(zip(build.dropped["variant_id"], build.dropped["reason"])) == {"v0": "exploitable"}
    # The audit ships no task that copying the argument answers; one is made from v1's by giving it
    # the identity's output, so that the heuristic has a task it gets right.
    identity = build.tasks.iloc[[0]].assign(task_id="identity", variant_id="v0")
    identity["ground_truth"] = [json.dumps({**json.loads(identity["ground_truth"].iloc[0]), "stdout": "[3, 1]\n"})]
    tasks = pd.concat([identity, build.tasks], ignore_index=True)
    prompts = evaluation_prompts(NO_ITEMS, tasks)
    scored = score_heuristics(prompts, NO_ITEMS, tasks, tasks, sandbox, RewardSettings())
    assert set(scored["model"]) == {
        PREFIX + name for name, benchmarks in APPLIES_TO.items() if "codeboost_forward" in benchmarks
    }
    right = {
        model: [variant for variant, correct in zip(tasks["variant_id"], group["correct"]) if correct]
        for model, group in scored.groupby("model")
    }
    assert right["heuristic:copy_argument"] == ["v0"]
    assert right["heuristic:empty"] == ["v2"]
    parsed = json.loads(scored.loc[scored["model"] == "heuristic:copy_argument", "prediction"].iloc[0])
    assert parsed == {"stdout": "[3, 1]\n", "stderr": ""}
    assert {"score", "format", "stdout_ok"} <= set(json.loads(scored["score_parts"].iloc[0]))


def test_the_margin_is_over_the_best_heuristic_and_paired():
    items = [f"t{index}" for index in range(200)]

    def rows(model: str, correct: list[bool]) -> list[dict]:
        return [
            {
                "model": model,
                "benchmark": "codeboost_forward",
                "item_id": item,
                "correct": c,
                "score": float(c),
                "format": 1.0,
            }
            for item, c in zip(items, correct)
        ]

    empty = [index % 4 == 0 for index in range(200)]  # right on 25%
    trained = [index % 4 == 0 or index % 10 == 1 for index in range(200)]  # the same, plus 10%
    frame = pd.DataFrame(
        rows("heuristic:empty", empty) + rows("heuristic:best_constant", [False] * 200) + rows("trained", trained)
    )
    margins = heuristic_margins(frame, 1000, 0.95, seed=0).set_index("metric")
    assert margins.loc["pass_at_1", "best_heuristic"] == "heuristic:empty"
    assert margins.loc["pass_at_1", "margin"] == pytest.approx(np.mean(trained) - np.mean(empty))
    assert margins.loc["pass_at_1", "excludes_zero"] and margins.loc["pass_at_1", "items"] == 200
    assert set(margins["model"]) == {"trained"}


def test_output_kinds_run_from_reading_free_to_followed_execution():
    code = "print(f([3, 1]))\n"
    assert output_kind("", code) == output_kind("\n", code) == "empty stdout"
    assert output_kind("[3, 1]\n", code) == "copy of an argument"
    assert output_kind("True\n", code) == "boolean"
    assert output_kind("-12\n", code) == "small int"
    assert output_kind("1234\n", code) == output_kind("[1, 3]\n", code) == "longer structure"


def test_right_answers_are_counted_by_output_kind():
    def task(task_id: str, stdout: str, task_type: str = "forward") -> dict:
        prompt = "```python\nprint(f(7))\n```"
        return {
            "task_id": task_id,
            "task_type": task_type,
            "prompt": prompt,
            "ground_truth": json.dumps({"stdout": stdout}),
        }

    heldout = pd.DataFrame([task("a", ""), task("b", "True\n"), task("c", "7\n"), task("d", "x\n", "backward")])
    predictions = pd.DataFrame(
        {
            "model": ["trained"] * 4,
            "benchmark": ["codeboost_forward"] * 3 + ["codeboost_backward"],
            "item_id": ["a", "b", "c", "d"],
            "correct": [True, False, True, True],
            "score": [0.5, 0.1, 1.0, 1.0],
        }
    )
    table = right_by_output_kind(predictions, heldout).set_index("output_kind")
    assert table["tasks"].to_dict() == {"boolean": 1, "copy of an argument": 1, "empty stdout": 1}
    assert table["right"].to_dict() == {"boolean": 0, "copy of an argument": 1, "empty stdout": 1}
