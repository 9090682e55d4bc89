"""verl reward entry points for CodeBoost tasks. Imports without Dagster: verl loads this file
inside Ray workers (`reward.custom_reward_function.path` / `.name`).

`compute_score` scores one completion; `compute_score_batch` scores a whole GRPO step and
re-executes every backward answer of the step in parallel through one sandbox. The ground truth
(a JSON string written by the training_tasks asset) carries everything a re-run needs: masked
code, stdin, limits and backend, so the re-run sees the same path, cwd and limits as the
ground-truth run.

On a Ray cluster (verl's reward workers, with CODEBOOST_REWARD_ON_RAY=1) the batch's re-runs go
to the job's shared sandbox pools, one warm pool per node (core.scale_out), instead of a sandbox
opened in each reward process; Ray is imported only then.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Sequence
from typing import Any

from codeboost_dagster.core.answers import last_block
from codeboost_dagster.core.prompts import STDERR_TAG, STDOUT_TAG
from codeboost_dagster.core.sandbox import ExecutionResult, Program, Sandbox, open_sandbox
from codeboost_dagster.core.scoring import Score, combine, score_outputs
from codeboost_dagster.core.settings import RewardSettings, SandboxLimits, ScaleOutSettings

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


def _rerun(backend: str, limits: SandboxLimits, programs: list[Program]) -> list[ExecutionResult]:
    """Results of the batch's re-runs: on the Ray job's pools when asked to, else on this process's sandbox."""
    if os.environ.get(ON_RAY_ENV) == "1":
        import ray

        if ray.is_initialized():
            from codeboost_dagster.core.scale_out import run_programs_on_pools, shared_pools

            settings = ScaleOutSettings()
            return run_programs_on_pools(programs, shared_pools(backend, limits, settings), settings)
    return _shared_sandbox(backend, limits).run_many(programs)


def _truth(ground_truth: str | dict) -> dict[str, Any]:
    return json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)


def _weights(kwargs: dict[str, Any]) -> RewardSettings:
    overrides = {name: kwargs[name] for name in ("accuracy_weight", "format_weight", "stderr_weight") if name in kwargs}
    return RewardSettings(**overrides)


def score_forward(solution_str: str, truth: dict[str, Any], weights: RewardSettings) -> Score:
    """Score predicted stdout/stderr blocks against the recorded outputs."""
    stdout = last_block(solution_str, STDOUT_TAG)
    stderr = last_block(solution_str, STDERR_TAG)
    found = (stdout is not None) + (stderr is not None)
    return score_outputs(stdout, stderr, truth["stdout"], truth["stderr"], found, 2, weights)


def backward_program(solution_str: str, truth: dict[str, Any]) -> Program | None:
    """The completed program a backward answer implies, or None when the answer block is missing."""
    answer = last_block(solution_str, f"answer_{truth['mask_token']}")
    if answer is None:
        return None
    lines = truth["masked_code"].split("\n")
    lines[truth["masked_line_index"]] = answer[:-1] if answer.endswith("\n") else answer
    return Program(code="\n".join(lines), stdin=truth.get("stdin", ""))


def score_backward_run(result: ExecutionResult | None, truth: dict[str, Any], weights: RewardSettings) -> Score:
    """Score the re-run of a completed program against the ground-truth run's outputs."""
    if result is None:
        return combine(0, 1, False, 0.0, weights)
    return score_outputs(result.stdout, result.stderr, truth["stdout"], truth["stderr"], 1, 1, weights)


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
    weights = _weights(kwargs)
    truths = [_truth(truth) for truth in ground_truths]
    scores: list[Score | None] = [None] * len(truths)
    pending: dict[tuple[str, SandboxLimits], list[tuple[int, Program]]] = {}
    for index, (solution, truth) in enumerate(zip(solution_strs, truths)):
        if truth["task_type"] == "forward":
            scores[index] = score_forward(solution, truth, weights)
            continue
        program = backward_program(solution, truth)
        if program is None:
            scores[index] = score_backward_run(None, truth, weights)
        else:
            pending.setdefault((_backend(truth), _limits(truth)), []).append((index, program))
    for (backend, limits), jobs in pending.items():
        results = _rerun(backend, limits, [program for _, program in jobs])
        for (index, _), result in zip(jobs, results):
            scores[index] = score_backward_run(result, truths[index], weights)
    return [score.to_dict() for score in scores if score is not None]


def compute_score(
    data_source: str, solution_str: str, ground_truth: str | dict, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """Score one completion (verl's NaiveRewardManager signature): {'score', 'format', 'stdout_ok', 'stderr_iou'}."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]
