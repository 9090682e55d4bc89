"""Backward answers (METHOD.md sections 5-6): the programs an answer line implies, and their score.

An answer completes the masked program. It earns accuracy only if the completed program
reproduces the visible run (the one the prompt shows: stdout, stderr and the ground truth's
status) *and* every hidden probe (the original program under a perturbation the model never
sees). Printing the shown output and stopping the program, by whatever means, fails the probes,
whose outputs differ. Probes run only for answers that reproduce the visible run, so a wrong or
spinning answer costs one short run. Used by the reward (verl's Ray workers: no Dagster import)
and by the exploit audit at build time, so both score an answer the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from codeboost_dagster.core.sandbox import ExecutionResult, Program
from codeboost_dagster.core.settings import RewardSettings
from codeboost_dagster.core.tasks.masking import replace_line
from codeboost_dagster.core.tasks.reward_score import Score, combine, reproduces, score_outputs

ProgramRunner = Callable[[list[Program]], list[ExecutionResult]]
"""Runs programs in the sandbox; results in input order."""


def _program(truth: dict[str, Any], run: dict[str, Any], answer: str) -> Program:
    code = replace_line(run["masked_code"], truth["masked_line_index"], answer)
    return Program(code=code, stdin=run.get("stdin", ""), wall_time_s=truth.get("rerun_wall_time_s"))


def visible_program(truth: dict[str, Any], answer: str) -> Program:
    """The completed program of the run the prompt shows."""
    return _program(truth, truth, answer)


def probe_programs(truth: dict[str, Any], answer: str) -> list[Program]:
    """The completed program under each hidden probe."""
    return [_program(truth, probe, answer) for probe in truth.get("probes", [])]


def score_answers(
    answers: Sequence[tuple[dict[str, Any], str | None]], run: ProgramRunner, weights: RewardSettings
) -> list[Score]:
    """Scores of (ground truth, answer line or None for a missing block) pairs, in order.

    Two batches: every visible run, then the probes of the answers that reproduced it.
    """

    def run_some(programs: list[Program]) -> list[ExecutionResult]:
        return run(programs) if programs else []

    present = [position for position, (_, answer) in enumerate(answers) if answer is not None]
    visible = dict(zip(present, run_some([visible_program(*answers[position]) for position in present])))
    promising = [
        position
        for position in present
        if reproduces(
            visible[position].stdout, visible[position].stderr, visible[position].status, answers[position][0]
        )
    ]
    probe_batches = [probe_programs(*answers[position]) for position in promising]
    flat = iter(run_some([program for batch in probe_batches for program in batch]))
    probes = {position: [next(flat) for _ in batch] for position, batch in zip(promising, probe_batches)}
    scores = []
    for position, (truth, answer) in enumerate(answers):
        if answer is None:
            scores.append(combine(0, 1, False, 0.0, weights))
            continue
        results = [visible[position], *probes.get(position, [])]
        infra_error = float(any(result.status == "sandbox_error" for result in results))
        defended = position in probes and all(
            reproduces(result.stdout, result.stderr, result.status, probe)
            for result, probe in zip(probes[position], truth.get("probes", []))
        )
        if defended:
            score = score_outputs(
                visible[position].stdout, visible[position].stderr, truth["stdout"], truth["stderr"], 1, 1, weights
            )
        else:
            score = combine(1, 1, False, 0.0, weights)
        scores.append(dataclasses.replace(score, infra_error=infra_error))
    return scores
