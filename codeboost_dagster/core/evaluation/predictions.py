"""Prompts for CRUXEval-style items and execution-based verdicts on the model's answers.

An output prediction is right when `f(input) == (prediction)` holds; an input prediction is right
when `f(prediction) == (output)` holds; both are decided by running the check in the sandbox
(pass@1, as CRUXEval). The answer must parse as one expression (or one argument list), so it
cannot add statements; whatever it computes runs only in the sandbox, and the verdict is read
from a line carrying a per-item nonce the model never sees.
"""

from __future__ import annotations

import ast

import pandas as pd

from codeboost_dagster.core.evaluation.items import INPUT_PREDICTION, OUTPUT_PREDICTION
from codeboost_dagster.core.frames import records
from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.sandbox import Program, Sandbox
from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.tasks.prompts import fenced_block

ANSWER_TAGS = {OUTPUT_PREDICTION: "answer_output", INPUT_PREDICTION: "answer_input"}
MAX_ANSWER_CHARS = 2_000
VERDICT_COLUMNS = ["item_id", "prediction", "correct", "reason"]


def item_prompt(item: dict) -> str:
    """The question for one item, ending with an example of the answer block."""
    code = fenced_block("python", item["code"])
    tag = ANSWER_TAGS[item["kind"]]
    if item["kind"] == OUTPUT_PREDICTION:
        return (
            "Predict the value this Python function returns for the given input.\n\n"
            f"{code}\n\nassert {item['entry_point']}({item['input']}) == ??\n\n"
            f"Write the returned value as a Python literal in a block tagged {tag}, for example:\n"
            f"{fenced_block(tag, '[1, 2]')}"
        )
    return (
        "Find arguments for which this Python function returns the given value.\n\n"
        f"{code}\n\nassert {item['entry_point']}(??) == {item['output']}\n\n"
        f"Write the arguments as you would inside the call's parentheses in a block tagged {tag}, for example:\n"
        f"{fenced_block(tag, '[3, 1], 2')}"
    )


def _parse_problem(item: dict, prediction: str) -> str | None:
    """Why the prediction is not a single expression (or argument list); None when it is."""
    source = prediction if item["kind"] == OUTPUT_PREDICTION else f"__f__({prediction})"
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError):
        return "unparseable"
    if item["kind"] == INPUT_PREDICTION and not isinstance(tree.body, ast.Call):
        return "unparseable"
    return None


def _nonce(item: dict) -> str:
    return "verdict-" + content_id("verdict", item["item_id"])


def verdict_program(item: dict, prediction: str) -> Program:
    """The check that decides the item, printing the nonce and True/False as its last line."""
    entry = item["entry_point"]
    check = (
        f"{entry}({item['input']}) == ({prediction})"
        if item["kind"] == OUTPUT_PREDICTION
        else f"{entry}({prediction}) == ({item['output']})"
    )
    return Program(code=f"{item['code']}\n\n__verdict__ = bool({check})\nprint({_nonce(item)!r}, __verdict__)\n")


def score_predictions(items: pd.DataFrame, answers: list[str], sandbox: Sandbox) -> pd.DataFrame:
    """One verdict per item: the extracted prediction, whether it is right, and why not."""
    verdicts: list[dict] = []
    pending: list[tuple[int, dict, Program]] = []
    for item, answer in zip(records(items), answers):
        prediction = last_block(answer or "", ANSWER_TAGS[item["kind"]])
        prediction = prediction.strip() if prediction is not None else None
        reason = (
            "no_answer_block"
            if prediction is None
            else "empty_answer"
            if not prediction
            else "answer_too_long"
            if len(prediction) > MAX_ANSWER_CHARS
            else _parse_problem(item, prediction)
        )
        verdicts.append({"item_id": item["item_id"], "prediction": prediction, "correct": False, "reason": reason})
        if reason is None:
            pending.append((len(verdicts) - 1, item, verdict_program(item, prediction)))
    results = sandbox.run_many([program for _, _, program in pending])
    for (index, item, _), result in zip(pending, results):
        last = result.stdout.rstrip("\n").rpartition("\n")[2]
        correct = result.status == "ok" and last == f"{_nonce(item)} True"
        verdicts[index]["correct"] = correct
        verdicts[index]["reason"] = (
            None if correct else ("wrong" if result.status == "ok" else f"status_{result.status}")
        )
    return pd.DataFrame(verdicts, columns=VERDICT_COLUMNS)
