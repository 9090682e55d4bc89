"""One evaluation pass: the prompts of every benchmark, the verdict on every answer, and the summary.

Benchmarks: `cruxeval_output` / `cruxeval_input` (items from HumanEval, pass@1 by execution) and
`codeboost_forward` / `codeboost_backward` (held-out test tasks, scored by `compute_score`: mean
reward, stdout exact rate, format rate). The answers that read nothing (`heuristics`) go through
the same scoring beside the models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

import pandas as pd

from codeboost_dagster.core.evaluation.heuristics import APPLIES_TO, PREFIX, best_constant_stdout, heuristic_answers
from codeboost_dagster.core.evaluation.items import OUTPUT_PREDICTION
from codeboost_dagster.core.evaluation.predictions import ANSWER_TAGS, item_prompt, score_predictions
from codeboost_dagster.core.frames import records
from codeboost_dagster.core.sandbox import Sandbox
from codeboost_dagster.core.schemas import EVALUATION_PREDICTIONS, EVALUATION_SUMMARY
from codeboost_dagster.core.settings import CodeBoostSettings, RewardSettings
from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.tasks.exploit_audit import argument_echoes
from codeboost_dagster.core.tasks.prompts import (
    STDERR_TAG,
    STDOUT_TAG,
    answer_opening,
    answer_tags,
    opening_line,
    shown_program,
)
from codeboost_dagster.core.training.generation import generate_greedy


def benchmark_of_item(kind: str) -> str:
    """The benchmark name of a CRUXEval-style item kind."""
    return "cruxeval_output" if kind == OUTPUT_PREDICTION else "cruxeval_input"


def evaluation_prompts(items: pd.DataFrame, heldout: pd.DataFrame) -> pd.DataFrame:
    """Every question of one pass, in a fixed order: items first, then held-out tasks; `opening`
    is the answer's first line, for when answers are opened for the model, and `answer_tags` the
    tags of the blocks the answer holds (generation stops once they are closed)."""
    rows = [
        {
            "item_id": item["item_id"],
            "benchmark": benchmark_of_item(item["kind"]),
            "error_type": None,
            "prompt": item_prompt(item),
            "opening": opening_line(ANSWER_TAGS[item["kind"]]),
            "answer_tags": (ANSWER_TAGS[item["kind"]],),
        }
        for item in records(items)
    ]
    rows += [
        {
            "item_id": task["task_id"],
            "benchmark": f"codeboost_{task['task_type']}",
            "error_type": task["error_type"],
            "prompt": task["prompt"],
            "opening": answer_opening(truth),
            "answer_tags": answer_tags(truth),
        }
        for task in records(heldout)
        for truth in [json.loads(task["ground_truth"])]
    ]
    return pd.DataFrame(rows, columns=["item_id", "benchmark", "error_type", "prompt", "opening", "answer_tags"])


def task_failure(score: dict[str, float]) -> str:
    """Why a held-out task's answer is not right, from its reward's parts."""
    if score.get("infra_error"):
        return "infra_error"
    if not score["format"]:
        return "no_answer_block"
    return "wrong_output"


def score_answers(
    model: str,
    prompts: pd.DataFrame,
    answers: list[str],
    items: pd.DataFrame,
    heldout: pd.DataFrame,
    sandbox: Sandbox,
    weights: RewardSettings,
) -> pd.DataFrame:
    """The verdict on every answer of one model (EVALUATION_PREDICTIONS columns), in prompt order."""
    from codeboost_dagster.verl.reward import compute_score_batch

    frame = prompts.assign(model=model, answer=answers)
    item_verdicts = score_predictions(items, answers[: len(items)], sandbox).set_index("item_id")
    task_scores = compute_score_batch(
        ["codeboost"] * len(heldout), answers[len(items) :], list(heldout["ground_truth"]), None, **vars(weights)
    )
    rows = []
    for position, row in enumerate(records(frame)):
        if position < len(items):
            verdict = item_verdicts.loc[row["item_id"]]
            correct = bool(verdict["correct"])
            rows.append(
                {
                    **row,
                    "prediction": verdict["prediction"],
                    "correct": correct,
                    "score": float(correct),
                    "format": float(verdict["reason"] != "no_answer_block"),
                    "reason": verdict["reason"],
                    "score_parts": json.dumps({"correct": correct}),
                }
            )
        else:
            score = task_scores[position - len(items)]
            correct = score["stdout_ok"] == 1.0
            rows.append(
                {
                    **row,
                    "prediction": parsed_answer(row["answer"], heldout.iloc[position - len(items)]),
                    "correct": correct,
                    "score": score["score"],
                    "format": score["format"],
                    "reason": None if correct else task_failure(score),
                    "score_parts": json.dumps(score, sort_keys=True),
                }
            )
    return pd.DataFrame(rows, columns=EVALUATION_PREDICTIONS.names)


def parsed_answer(answer: str, task: pd.Series) -> str | None:
    """What the reward reads of a held-out task's completion: a forward task's blocks as JSON
    (null for a missing block), a backward task's line (None without an answer block)."""
    truth = json.loads(task["ground_truth"])
    if truth["task_type"] == "forward":
        return json.dumps({"stdout": last_block(answer, STDOUT_TAG), "stderr": last_block(answer, STDERR_TAG)})
    from codeboost_dagster.verl.reward import backward_answer

    return backward_answer(answer, truth)


def score_heuristics(
    prompts: pd.DataFrame,
    items: pd.DataFrame,
    heldout: pd.DataFrame,
    train_tasks: pd.DataFrame,
    sandbox: Sandbox,
    weights: RewardSettings,
) -> pd.DataFrame:
    """The answers that read nothing (`heuristics`), scored as a model's are, on the prompts of the
    benchmarks each answers; the best constant is chosen on `train_tasks`."""
    constant = best_constant_stdout(train_tasks, weights)
    parts = []
    for name, benchmarks in APPLIES_TO.items():
        answers = heuristic_answers(name, prompts, items, heldout, constant)
        scored = score_answers(PREFIX + name, prompts, answers, items, heldout, sandbox, weights)
        parts.append(scored[scored["benchmark"].isin(benchmarks)])
    return pd.concat(parts, ignore_index=True)


def answer_and_score(
    locations: Mapping[str, str],
    prompts: pd.DataFrame,
    items: pd.DataFrame,
    heldout: pd.DataFrame,
    sandbox: Sandbox,
    settings: CodeBoostSettings,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
    train_tasks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every model's greedy answers to the same prompts (`evaluation_prompts`), scored: the
    EVALUATION_PREDICTIONS rows of one pass, model by model, then (given the train split's tasks)
    the heuristics' (`score_heuristics`). `progress(model)` reports generation."""
    config = settings.evaluation
    openings = list(prompts["opening"]) if config.open_answers else None
    parts = []
    for name, location in locations.items():
        answers = generate_greedy(
            location,
            list(prompts["prompt"]),
            config.max_new_tokens,
            config.batch_size,
            progress(name) if progress else None,
            openings=openings,
            dtype=config.dtype,
            answer_tags=list(prompts["answer_tags"]) if config.stop_at_answer else None,
        )
        parts.append(score_answers(name, prompts, answers, items, heldout, sandbox, settings.reward))
    if train_tasks is not None:
        parts.append(score_heuristics(prompts, items, heldout, train_tasks, sandbox, settings.reward))
    return pd.concat(parts, ignore_index=True)


def summarize(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per model and benchmark: item count, pass@1 (CRUXEval) or stdout exact rate (CodeBoost),
    mean reward and format rate."""
    if predictions.empty:
        return pd.DataFrame(columns=EVALUATION_SUMMARY.names)
    grouped = predictions.groupby(["model", "benchmark"], sort=True)
    summary = grouped.agg(
        items=("item_id", "size"),
        pass_at_1=("correct", "mean"),
        mean_reward=("score", "mean"),
        format_rate=("format", "mean"),
    ).reset_index()
    return summary.reindex(columns=EVALUATION_SUMMARY.names)


OUTPUT_KINDS = ("empty stdout", "copy of an argument", "boolean", "small int", "longer structure")
"""How a forward task's true stdout looks, from what reading-free answers could hit to what needs
the execution followed: the empty stdout, a copy of a literal call argument (the exploit audit
drops those tasks, so this counts any that remain), `True`/`False`, an integer of at most three
digits, anything else."""


def output_kind(stdout: str, code: str) -> str:
    """The kind of a forward task's true stdout (`OUTPUT_KINDS`)."""
    shown = stdout.strip()
    if not shown:
        return "empty stdout"
    if stdout in {echo for call in argument_echoes(code) for echo in call}:
        return "copy of an argument"
    if shown in ("True", "False"):
        return "boolean"
    if re.fullmatch(r"-?\d{1,3}", shown):
        return "small int"
    return "longer structure"


def right_by_output_kind(predictions: pd.DataFrame, heldout: pd.DataFrame) -> pd.DataFrame:
    """Per model and output kind of the held-out forward tasks: how many tasks, how many answered
    with the right stdout, and the mean reward."""
    kinds = {
        task["task_id"]: output_kind(json.loads(task["ground_truth"])["stdout"], shown_program(task["prompt"]))
        for task in records(heldout[heldout["task_type"] == "forward"])
    }
    rows = predictions[predictions["benchmark"].eq("codeboost_forward") & predictions["item_id"].isin(kinds)]
    table = (
        rows.assign(output_kind=rows["item_id"].map(kinds))
        .groupby(["model", "output_kind"], sort=True)
        .agg(tasks=("item_id", "size"), right=("correct", "sum"), mean_reward=("score", "mean"))
        .reset_index()
    )
    return table.astype({"right": "int64"})
