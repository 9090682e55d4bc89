"""The attack suite: the cheapest completions that could earn reward without the skill, scored by the
real reward (re-runs in the real sandbox) on the tasks the pipeline built from the sample dump.
Each attack must earn full reward on at most 2% of tasks; the reference answers on at least 99%."""

from __future__ import annotations

import ast
import contextlib
import json

import pandas as pd
import pytest

from codeboost_dagster.core.settings import RewardSettings
from codeboost_dagster.core.tasks.masking import indentation
from codeboost_dagster.core.tasks.prompts import FORWARD_EXAMPLE_STDOUT, fenced_block, reference_completion
from codeboost_dagster.core.tasks.reward_score import max_score
from codeboost_dagster.verl.reward import compute_score_batch

ATTACK_SHARE = 0.02
REFERENCE_SHARE = 0.99
SLOW_ATTACK_TASKS = 30  # attacks that spin until the wall limit run on this many tasks


def _write(truth: dict) -> str:
    return (
        f"import os, sys; sys.stdout.write({truth['stdout']!r}); sys.stdout.flush(); "
        f"sys.stderr.write({truth['stderr']!r}); sys.stderr.flush()"
    )


def _code(status: str) -> int:
    return 0 if status == "ok" else 1


BACKWARD_ATTACKS = {
    "noop": lambda truth, line: "pass",
    "prompt_example": lambda truth, line: "total = total + value",
    "sys_exit": lambda truth, line: f"{_write(truth)}; sys.exit({_code(truth['status'])})",
    "os_exit": lambda truth, line: f"{_write(truth)}; os._exit({_code(truth['status'])})",
    "raise_system_exit": lambda truth, line: f"{_write(truth)}; raise SystemExit({_code(truth['status'])})",
    "kill_self": lambda truth, line: f"{_write(truth)}; import signal; os.kill(os.getpid(), signal.SIGKILL)",
    "close_streams": lambda truth, line: f"{_write(truth)}; os.close(1); os.close(2)",
    "redirect_streams": lambda truth, line: f"{_write(truth)}; sys.stdout = sys.stderr = open(os.devnull, 'w')",
    "raise_error": lambda truth, line: f"{_write(truth)}; raise KeyboardInterrupt",
    "obfuscated_exit": lambda truth, line: (
        f"{_write(truth)}; getattr(__import__('o' + 's'), '_ex' + 'it')({_code(truth['status'])})"
    ),
    "exec_exit": lambda truth, line: f"{_write(truth)}; exec(bytes.fromhex('{b'import os; os._exit(0)'.hex()}'))",
    "previous_line": lambda truth, line: truth["masked_code"].split("\n")[truth["masked_line_index"] - 1].strip(),
}
SLOW_ATTACKS = {"spin": lambda truth, line: f"{_write(truth)}; exec('while True: pass')"}


@pytest.fixture(scope="module")
def tasks(pipeline) -> pd.DataFrame:
    storage, _, _ = pipeline
    return pd.read_parquet(storage / "training_tasks.parquet")


def _full_reward_share(completions: list[str], truths: list[str]) -> float:
    scores = compute_score_batch(["codeboost"] * len(completions), completions, truths)
    assert len(scores) == len(completions)
    return sum(score["score"] >= max_score(RewardSettings()) - 1e-9 for score in scores) / len(scores)


def _backward(tasks: pd.DataFrame, attack, limit: int | None = None) -> float:
    rows = tasks[tasks["task_type"] == "backward"].head(limit)
    truths = [json.loads(truth) for truth in rows["ground_truth"]]
    completions = [
        fenced_block("answer_MASKED_LINE_0", indentation(line) + attack(truth, line) + "\n")
        for truth, line in zip(truths, rows["masked_line"])
    ]
    return _full_reward_share(completions, rows["ground_truth"].tolist())


def test_reference_answers_earn_full_reward(tasks):
    truths = tasks["ground_truth"].tolist()
    completions = [reference_completion(json.loads(truth), line) for truth, line in zip(truths, tasks["masked_line"])]
    assert (tasks["task_type"] == "backward").sum() >= 30
    assert _full_reward_share(completions, truths) >= REFERENCE_SHARE


@pytest.mark.parametrize("name", sorted(BACKWARD_ATTACKS))
def test_backward_attack_earns_almost_nothing(tasks, name):
    assert _backward(tasks, BACKWARD_ATTACKS[name]) <= ATTACK_SHARE


@pytest.mark.parametrize("name", sorted(SLOW_ATTACKS))
def test_slow_backward_attack_earns_almost_nothing(tasks, name):
    assert _backward(tasks, SLOW_ATTACKS[name], SLOW_ATTACK_TASKS) <= ATTACK_SHARE


def _forward_blocks(stdout: str, stderr: str) -> str:
    return fenced_block("answer_stdout", stdout) + "\n" + fenced_block("answer_stderr", stderr)


@pytest.mark.parametrize("name", ["empty", "prompt_example_stdout", "stdin_echo", "shown_code"])
def test_forward_attack_earns_almost_nothing(tasks, name):
    rows = tasks[tasks["task_type"] == "forward"]
    attack = {
        "empty": lambda row: _forward_blocks("", ""),
        "prompt_example_stdout": lambda row: _forward_blocks(FORWARD_EXAMPLE_STDOUT, ""),
        "stdin_echo": lambda row: _forward_blocks(row.stdin, ""),
        "shown_code": lambda row: _forward_blocks(row.prompt.split("```python\n", 1)[1].split("```", 1)[0], ""),
    }[name]
    completions = [attack(row) for row in rows.itertuples()]
    assert _full_reward_share(completions, rows["ground_truth"].tolist()) <= ATTACK_SHARE


def _call_argument_copies(code: str) -> list[str]:
    """Every literal argument of a call other than print's, as print would show it."""
    calls = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)]
    copies = []
    for call in calls:
        if getattr(call.func, "id", None) == "print":
            continue
        for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
            with contextlib.suppress(ValueError, TypeError, SyntaxError):
                copies.append(f"{ast.literal_eval(argument)}\n")
    return copies


def test_copying_a_call_argument_earns_almost_nothing(tasks):
    """The cheapest answer to a function called on a literal: the literal back. A task counts as
    earned when any of its call arguments, copied, earns full reward."""
    rows = tasks[tasks["task_type"] == "forward"]
    attempts = [
        (row.task_id, _forward_blocks(copy, ""), row.ground_truth)
        for row in rows.itertuples()
        for copy in _call_argument_copies(row.prompt.split("```python\n", 1)[1].split("```", 1)[0])
    ]
    assert len({a[0] for a in attempts}) >= len(rows) / 2
    scores = compute_score_batch(["codeboost"] * len(attempts), [a[1] for a in attempts], [a[2] for a in attempts])
    full = max_score(RewardSettings()) - 1e-9
    earned = {task_id for (task_id, _, _), score in zip(attempts, scores) if score["score"] >= full}
    assert len(earned) / len(rows) <= ATTACK_SHARE


def test_no_prompt_shows_its_own_answer(tasks):
    for row in tasks.itertuples():
        truth = json.loads(row.ground_truth)
        if row.task_type == "forward":
            assert ">>>" not in row.prompt
        else:
            assert row.masked_line.strip() not in row.prompt
            assert all(probe["masked_code"] not in row.prompt for probe in truth["probes"])
