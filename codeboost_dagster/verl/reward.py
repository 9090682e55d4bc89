"""verl reward entry points for CodeBoost tasks. Imports without Dagster: verl loads this file
inside Ray workers (`reward.custom_reward_function.path` / `.name`).

`compute_score` scores one completion; `compute_score_batch` scores a whole GRPO step and
re-executes every backward answer of the step in parallel through one sandbox, once for the
visible run and once per hidden probe (core.backward). The ground truth (a JSON string written
by the training_tasks asset) carries everything a re-run needs: masked code, stdin, probes,
limits, backend and the re-run wall limit derived from the ground truth's own run, so a re-run
sees the same path, cwd and limits as the ground-truth run and a spinning answer costs little.
Completions are read with CRLF newlines normalised; every rollout gets exactly one score, and a
re-run that failed inside the sandbox is flagged (`infra_error`), never a silent 0.

On a Ray cluster (verl's reward workers, with CODEBOOST_REWARD_ON_RAY=1) the batch's re-runs go
to the job's shared sandbox pools, one warm pool per node (core.scale_out), instead of a sandbox
opened in each reward process; Ray is imported only then.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import os
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from codeboost_dagster.core.answers import last_block
from codeboost_dagster.core.backward import score_answers
from codeboost_dagster.core.prompts import STDERR_TAG, STDOUT_TAG
from codeboost_dagster.core.reward_score import Score, score_outputs
from codeboost_dagster.core.sandbox import ExecutionResult, Program, Sandbox, open_sandbox
from codeboost_dagster.core.settings import RewardSettings, SandboxLimits, ScaleOutSettings

T = TypeVar("T")

BACKEND_ENV = "CODEBOOST_REWARD_SANDBOX"
ON_RAY_ENV = "CODEBOOST_REWARD_ON_RAY"

_sandboxes: dict[tuple[str, SandboxLimits], Sandbox] = {}
_sandboxes_lock = threading.Lock()


def _shared_sandbox(backend: str, limits: SandboxLimits) -> Sandbox:
    """One warm sandbox per (backend, limits) per process, closed when the process exits."""
    key = (backend, limits)
    with _sandboxes_lock:
        if key not in _sandboxes:
            sandbox = open_sandbox(backend, limits)
            atexit.register(sandbox.close)
            _sandboxes[key] = sandbox
        return _sandboxes[key]


def _rerun(
    backend: str, limits: SandboxLimits, scale_out: ScaleOutSettings, programs: list[Program]
) -> list[ExecutionResult]:
    """Results of the batch's re-runs: on the Ray job's pools when asked to, else on this process's sandbox."""
    if os.environ.get(ON_RAY_ENV) == "1":
        import ray

        if ray.is_initialized():
            from codeboost_dagster.core.scale_out import run_programs_on_pools, shared_pools

            return run_programs_on_pools(programs, shared_pools(backend, limits, scale_out), scale_out)
    return _shared_sandbox(backend, limits).run_many(programs)


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
    return last_block(solution_str, f"answer_{truth['mask_token']}")


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
    scale_out = _section(ScaleOutSettings, kwargs.get("scale_out"))
    truths = [_truth(truth) for truth in ground_truths]
    solutions = [solution.replace("\r\n", "\n") for solution in solution_strs]
    scores: list[Score | None] = [None] * len(truths)
    pending: dict[tuple[str, SandboxLimits], list[int]] = {}
    for index, (solution, truth) in enumerate(zip(solutions, truths)):
        if truth["task_type"] == "forward":
            scores[index] = score_forward(solution, truth, weights)
        else:
            pending.setdefault((_backend(truth), _limits(truth)), []).append(index)
    for (backend, limits), indices in pending.items():
        answers = [(truths[index], backward_answer(solutions[index], truths[index])) for index in indices]
        rerun = functools.partial(_rerun, backend, limits, scale_out)
        for index, score in zip(indices, score_answers(answers, rerun, weights)):
            scores[index] = score
    missing = [index for index, score in enumerate(scores) if score is None]
    if missing:
        raise RuntimeError(f"no score for rollouts {missing[:10]}: a batch's rewards would misalign")
    return [score.to_dict() for score in scores]  # type: ignore[union-attr]


def compute_score(
    data_source: str, solution_str: str, ground_truth: str | dict, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """Score one completion (verl's NaiveRewardManager signature):
    {'score', 'format', 'stdout_ok', 'stderr_iou', 'infra_error'}."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]
