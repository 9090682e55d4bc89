"""verl reward entry points for CodeBoost tasks. Imports without Dagster: verl loads this file
inside its reward workers (`reward.custom_reward_function.path` / `.name`).

`compute_score` scores one completion, the way verl 0.9.1's reward loop calls it (one rollout per
call, from each reward worker's thread pool); `compute_score_batch` scores a whole GRPO step and
re-executes every backward answer of the step in parallel through one sandbox, once for the
visible run and once per hidden probe (core.tasks.backward). The ground truth (a JSON string written
by the training_tasks asset) carries everything a re-run needs: masked code, stdin, probes,
limits, backend, runtime (Python and package lock) and the re-run wall limit derived from the ground truth's own
run, so a re-run sees the same path, cwd and limits as the ground-truth run and a spinning answer
costs little. Completions are read with CRLF newlines normalised; every rollout gets exactly one
score, and a re-run that failed inside the sandbox is flagged (`infra_error`), never a silent 0.

Each process keeps one warm sandbox per (backend, limits, runtime): with `workers_per_node` reward
workers on a node, each takes that share of the node's cores as slots, and every sandbox leases
its own uids (core.sandbox.uids). A sandbox whose runtime is not the ground truth's refuses to
score (`RewardRuntimeMismatch`) instead of comparing outputs of two environments.
Under a verl job, the score parts also go to the run's tally (`verl.reward_tally`).
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from codeboost_dagster.core.sandbox import RuntimeMismatch, Sandbox, open_sandbox
from codeboost_dagster.core.sandbox.runtime import RUNTIME_ENV
from codeboost_dagster.core.settings import RewardSettings, SandboxLimits
from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.tasks.backward import score_answers
from codeboost_dagster.core.tasks.prompts import STDERR_TAG, STDOUT_TAG, answer_tags
from codeboost_dagster.core.tasks.reward_score import Score, score_outputs
from codeboost_dagster.verl import reward_tally

T = TypeVar("T")

BACKEND_ENV = "CODEBOOST_REWARD_SANDBOX"

SandboxKey = tuple[str, SandboxLimits, str, str, int]
"""(backend, limits, the ground truth's runtime identity and Python version, slots)."""

_sandboxes: dict[SandboxKey, Sandbox] = {}
_sandboxes_lock = threading.Lock()


class RewardRuntimeMismatch(RuntimeMismatch):
    """The re-run sandbox here runs another runtime than the ground truth was recorded with."""


def _shared_sandbox(key: SandboxKey) -> Sandbox:
    """One warm sandbox per key per process, closed when the process exits; refuses one whose
    runtime (or, for ground truths older than runtimes, Python version) differs from the ground truth's."""
    backend, limits, runtime, python_version, slots = key
    with _sandboxes_lock:
        if key not in _sandboxes:
            sandbox = open_sandbox(backend, limits, concurrency=slots)
            wanted, found = (runtime, sandbox.runtime.identity) if runtime else (python_version, sandbox.python_version)
            if wanted and found != wanted:
                sandbox.close()
                raise RewardRuntimeMismatch(
                    f"the ground truth ran on {wanted}, but the {backend} sandbox on this node runs {found}: "
                    f"re-runs would be scored against another environment. Build the runtime from the same "
                    f"lock on every node (`make setup`, or core.sandbox.runtime_build with ${RUNTIME_ENV} "
                    f"pointing at it), or score with the docker backend ({BACKEND_ENV}=docker) whose image carries it."
                )
            atexit.register(sandbox.close)
            _sandboxes[key] = sandbox
        return _sandboxes[key]


def reward_slots(workers_per_node: int) -> int:
    """Sandbox slots of one reward worker: its share of this node's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers_per_node))


def _truth(ground_truth: str | dict) -> dict[str, Any]:
    return json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)


def _section(kind: type[T], values: Any) -> T:
    """A settings section from the reward kwargs verl passes (`verl.config` writes them from the
    run's settings); fields it does not carry keep their defaults."""
    names = {field.name for field in dataclasses.fields(kind)}
    return kind(**{name: value for name, value in dict(values or {}).items() if name in names})


def score_forward(solution_str: str, truth: dict[str, Any], weights: RewardSettings) -> Score:
    """Score predicted stdout/stderr blocks against the recorded outputs."""
    stdout = last_block(solution_str, STDOUT_TAG)
    stderr = last_block(solution_str, STDERR_TAG)
    found = (stdout is not None) + (stderr is not None)
    return score_outputs(stdout, stderr, truth["stdout"], truth["stderr"], found, 2, weights)


def backward_answer(solution_str: str, truth: dict[str, Any]) -> str | None:
    """The answer line(s) of a backward completion, or None when its block is missing."""
    return last_block(solution_str, answer_tags(truth)[0])


def _limits(truth: dict[str, Any]) -> SandboxLimits:
    return SandboxLimits(**truth["limits"]) if "limits" in truth else SandboxLimits()


def _backend(truth: dict[str, Any]) -> str:
    return os.environ.get(BACKEND_ENV) or truth.get("backend") or "forkserver"


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[str | dict],
    extra_infos: Sequence[dict | None] | None = None,
    **kwargs: Any,
) -> list[dict[str, float]]:
    """Score a batch (verl's BatchRewardManager signature); backward re-runs go out together."""
    if len(solution_strs) != len(ground_truths):
        raise ValueError(f"{len(solution_strs)} completions but {len(ground_truths)} ground truths")
    weights = _section(RewardSettings, kwargs)
    slots = reward_slots(int(kwargs.get("workers_per_node", 1)))
    truths = [_truth(truth) for truth in ground_truths]
    solutions = [solution.replace("\r\n", "\n") for solution in solution_strs]
    scores: list[Score | None] = [None] * len(truths)
    pending: dict[SandboxKey, list[int]] = {}
    for index, (solution, truth) in enumerate(zip(solutions, truths)):
        if truth["task_type"] == "forward":
            scores[index] = score_forward(solution, truth, weights)
        else:
            key = (_backend(truth), _limits(truth), truth.get("runtime", ""), truth.get("python_version", ""), slots)
            pending.setdefault(key, []).append(index)
    for key, indices in pending.items():
        answers = [(truths[index], backward_answer(solutions[index], truths[index])) for index in indices]
        for index, score in zip(indices, score_answers(answers, _shared_sandbox(key).run_many, weights)):
            scores[index] = score
    missing = [index for index, score in enumerate(scores) if score is None]
    if missing:
        raise RuntimeError(f"no score for rollouts {missing[:10]}: a batch's rewards would misalign")
    parts = [score.to_dict() for score in scores]  # type: ignore[union-attr]
    if kwargs.get("tally"):
        infos = extra_infos or [None] * len(parts)
        keys = [str((info or {}).get("task_id") or truth) for info, truth in zip(infos, ground_truths)]
        reward_tally.report(kwargs["tally"], list(zip(keys, parts)))
    return parts


def compute_score(
    data_source: str, solution_str: str, ground_truth: str | dict, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """Score one completion (verl's NaiveRewardManager signature):
    {'score', 'format', 'stdout_ok', 'stderr_iou', 'infra_error'}."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]
