"""Answers that read nothing, scored beside every model (issue 30).

A model's figures only mean something next to what a policy earns without reading the program:
the empty answer earns most of a forward task's reward when the program prints nothing, and one
constant is right on a few percent of tasks. Each heuristic here writes a completion for every
prompt of the benchmarks it applies to, and the evaluation scores it with the same code as the
models (`scoring.score_answers`):

- `empty` (forward): both answer blocks empty;
- `best_constant` (forward): the stdout, among the train split's most frequent ones and the empty
  one, that earns the highest mean reward on the train split's forward tasks, with empty stderr;
- `copy_argument` (forward, CRUXEval): the literal argument of the program's last call
  (`print(f(x))` -> `x`, as the exploit audit's `argument_echo` stub); for CRUXEval the given
  input as the output, or the given output as the input;
- `example_line` (backward): the answer line every backward prompt shows as its example;
- `noop` (backward): `pass`, indented as the line before the mask (one deeper after a colon).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pandas as pd

from codeboost_dagster.core.evaluation.items import OUTPUT_PREDICTION
from codeboost_dagster.core.evaluation.predictions import ANSWER_TAGS
from codeboost_dagster.core.frames import records
from codeboost_dagster.core.settings import RewardSettings
from codeboost_dagster.core.tasks.exploit_audit import argument_echoes
from codeboost_dagster.core.tasks.masking import indentation
from codeboost_dagster.core.tasks.prompts import (
    BACKWARD_EXAMPLE_LINE,
    STDERR_TAG,
    STDOUT_TAG,
    answer_tags,
    fenced_block,
    shown_program,
)
from codeboost_dagster.core.tasks.reward_score import score_outputs

PREFIX = "heuristic:"
"""Model names of heuristics start with it: `heuristic:empty`, ..."""
FORWARD, BACKWARD = "codeboost_forward", "codeboost_backward"
CRUXEVAL = ("cruxeval_output", "cruxeval_input")
APPLIES_TO = {
    "empty": (FORWARD,),
    "best_constant": (FORWARD,),
    "copy_argument": (FORWARD, *CRUXEVAL),
    "example_line": (BACKWARD,),
    "noop": (BACKWARD,),
}
"""Each heuristic and the benchmarks it answers."""


def is_heuristic(model: str) -> bool:
    return model.startswith(PREFIX)


def forward_answer(stdout: str, stderr: str = "") -> str:
    """A forward completion: both answer blocks."""
    return fenced_block(STDOUT_TAG, stdout) + "\n" + fenced_block(STDERR_TAG, stderr) + "\n"


def best_constant_stdout(train_tasks: pd.DataFrame, weights: RewardSettings, candidates: int = 20) -> str:
    """The stdout (with empty stderr) of highest mean reward on the forward tasks of `train_tasks`,
    among the empty one and the `candidates` most frequent true stdouts."""
    truths = [json.loads(text) for text in train_tasks.loc[train_tasks["task_type"] == "forward", "ground_truth"]]
    options = ["", *(stdout for stdout, _ in Counter(t["stdout"] for t in truths).most_common(candidates))]

    def mean_reward(stdout: str) -> float:
        scores = [score_outputs(stdout, "", t["stdout"], t["stderr"], 2, 2, weights).score for t in truths]
        return sum(scores) / len(scores) if scores else 0.0

    return max(dict.fromkeys(options), key=mean_reward)


def printed_argument(code: str) -> str:
    """The first literal argument of the program's last call that has one, as `print` shows it:
    `print(f(x))` or the harness's `__result__ = f(x)` answered by `x` ("" when no call has one)."""
    echoes = [call for call in argument_echoes(code) if call]
    return echoes[-1][0] if echoes else ""


def noop_answer_line(masked_code: str, index: int) -> str:
    """`pass` at the indentation the line before the mask suggests (one level deeper after a colon)."""
    before = [line for line in masked_code.split("\n")[:index] if line.strip()]
    if not before:
        return "pass"
    previous = before[-1]
    return indentation(previous) + ("    " if previous.rstrip().endswith(":") else "") + "pass"


def heuristic_answers(name: str, prompts: pd.DataFrame, items: pd.DataFrame, heldout: pd.DataFrame, constant: str):
    """The completion of heuristic `name` for every prompt (`scoring.evaluation_prompts` order: items,
    then held-out tasks); "" for prompts of benchmarks it does not answer."""
    by_id = {item["item_id"]: item for item in records(items)}
    truths = {task["task_id"]: (task, json.loads(task["ground_truth"])) for task in records(heldout)}
    answer: Callable[[dict], str] = {
        "empty": lambda row: forward_answer(""),
        "best_constant": lambda row: forward_answer(constant),
        "copy_argument": lambda row: _copy_answer(row, by_id, truths),
        "example_line": lambda row: _line_answer(truths[row["item_id"]][1], BACKWARD_EXAMPLE_LINE),
        "noop": lambda row: _line_answer(
            truths[row["item_id"]][1],
            noop_answer_line(truths[row["item_id"]][1]["masked_code"], truths[row["item_id"]][1]["masked_line_index"]),
        ),
    }[name]
    return [answer(row) if row["benchmark"] in APPLIES_TO[name] else "" for row in records(prompts)]


def _line_answer(truth: dict, line: str) -> str:
    return fenced_block(answer_tags(truth)[0], line.rstrip("\n") + "\n") + "\n"


def _copy_answer(row: dict, items: dict[str, dict], truths: dict[str, tuple[dict, dict]]) -> str:
    if row["benchmark"] == FORWARD:
        task, _ = truths[row["item_id"]]
        return forward_answer(printed_argument(shown_program(task["prompt"])))
    item = items[row["item_id"]]
    copied = item["input"] if item["kind"] == OUTPUT_PREDICTION else item["output"]
    return fenced_block(ANSWER_TAGS[item["kind"]], copied + "\n") + "\n"
