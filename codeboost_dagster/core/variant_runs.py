"""Turn augmented variants into sandbox programs and execution records (METHOD.md section 4).

Each variant runs once per test case (once with no input when it has none); a program id is
the hash of (variant id, case index). A test case the sandbox cannot express becomes a
`sandbox_error` record with the reason in `detail`, so every expected run has a record.

A batch runs in two phases: the originals (variant 0) under the sandbox's limit, then every
mutated variant under a wall limit derived from its original's slowest finished run
(`SandboxLimits.variant_wall_factor`): a mutation that makes a 5 ms program loop forever costs a
fraction of a second instead of the full limit. A variant whose original is not in the batch, or
did not finish, keeps the full limit. Records keep plan order whatever the phase.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.augmentation.mutations import INPUT_LEVEL
from codeboost_dagster.core.frames import records
from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.sandbox import (
    FINISHED_STATUSES,
    ExecutionResult,
    Program,
    Sandbox,
    derived_wall_time_s,
    program_from_test_case,
    stitch,
)
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import SandboxLimits


@dataclass(frozen=True)
class PlannedRun:
    """One program to run, with the ids that trace it back to its variant and snippet."""

    program_id: str
    variant_id: str
    snippet_id: str
    case_index: int
    program: Program | None
    problem: str | None = None
    original: bool = True
    input_level: bool = False


def plan_runs(variants: pd.DataFrame) -> list[PlannedRun]:
    """Every (variant, test case) pair as a planned run; inexpressible cases carry their problem."""
    planned: list[PlannedRun] = []
    for row in records(variants):
        cases = json.loads(row["test_cases"]) or [None]
        for index, case in enumerate(cases):
            program_id = content_id(row["variant_id"], str(index))
            try:
                program, problem = program_from_test_case(row["code"], case), None
            except (ValueError, KeyError, TypeError) as error:
                program, problem = None, f"test case {index} cannot run: {error}"
            planned.append(
                PlannedRun(
                    program_id,
                    row["variant_id"],
                    row["snippet_id"],
                    index,
                    program,
                    problem,
                    original=row["variant_index"] == 0,
                    input_level=INPUT_LEVEL in row["kind"].split("+"),
                )
            )
    return planned


def not_run(problem: str, backend: str) -> ExecutionResult:
    """The `sandbox_error` result of a program that never ran, with why in its detail."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return ExecutionResult("", "", None, "sandbox_error", None, 0.0, 0.0, backend, "", "", now, now, problem)


def execute_runs(
    planned: list[PlannedRun], sandbox: Sandbox, backend: str, progress: Callable[[int, int], None] | None = None
) -> pd.DataFrame:
    """Run every planned program on the sandbox's slots, originals first; one EXECUTION_RECORDS row
    per planned run, in plan order."""
    runnable = [run for run in planned if run.program is not None]
    originals = {run.snippet_id for run in runnable if run.original}
    first = [run for run in runnable if run.original or run.snippet_id not in originals]
    phase = _run(first, sandbox, progress, 0, len(runnable))
    results = dict(zip((run.program_id for run in first), phase, strict=True))
    original_ms = slowest_finished_original(first, results)
    second = [
        replace(run, program=replace(run.program, wall_time_s=variant_wall_time_s(run, original_ms, sandbox.limits)))
        for run in runnable
        if run.program_id not in results
    ]
    phase = _run(second, sandbox, progress, len(first), len(runnable))
    results.update(zip((run.program_id for run in second), phase, strict=True))
    rows, runtime = [], sandbox.runtime
    for run in planned:
        result = results[run.program_id] if run.program is not None else not_run(run.problem or "not runnable", backend)
        rows.append(
            {
                "program_id": run.program_id,
                "variant_id": run.variant_id,
                "snippet_id": run.snippet_id,
                "case_index": run.case_index,
                "code": stitch(run.program) if run.program is not None else "",
                "stdin": run.program.stdin if run.program is not None else "",
                **result.to_dict(),
                "packages": ", ".join(runtime.packages_imported(run.program.code)) if run.program else "",
            }
        )
    return pd.DataFrame(rows, columns=EXECUTION_RECORDS.names)


def _run(
    runs: list[PlannedRun], sandbox: Sandbox, progress: Callable[[int, int], None] | None, before: int, total: int
) -> list[ExecutionResult]:
    """One phase's programs on every slot, results in order; progress counts on from `before`."""
    report = None if progress is None else (lambda done, _: progress(before + done, total))
    return sandbox.run_many([run.program for run in runs], progress=report) if runs else []


def slowest_finished_original(runs: list[PlannedRun], results: dict[str, ExecutionResult]) -> dict[str, float]:
    """Per snippet, the slowest run of its original (variant 0) when every one of them finished;
    a snippet whose original did not finish (or is not here) is absent."""
    slowest: dict[str, float] = {}
    unfinished: set[str] = set()
    for run in runs:
        if not run.original:
            continue
        result = results[run.program_id]
        if result.status in FINISHED_STATUSES:
            slowest[run.snippet_id] = max(slowest.get(run.snippet_id, 0.0), result.wall_ms)
        else:
            unfinished.add(run.snippet_id)
    return {snippet: ms for snippet, ms in slowest.items() if snippet not in unfinished}


def variant_wall_time_s(run: PlannedRun, original_ms: dict[str, float], limits: SandboxLimits) -> float | None:
    """A mutated variant's wall limit derived from its original's run; None (the sandbox's full
    limit) without a finished original."""
    if run.snippet_id not in original_ms:
        return None
    factor = limits.input_variant_wall_factor if run.input_level else limits.variant_wall_factor
    return derived_wall_time_s(original_ms[run.snippet_id], factor, limits.variant_wall_min_s, limits.wall_time_s)


def execute_variants(variants: pd.DataFrame, sandbox: Sandbox, backend: str) -> pa.Table:
    """Every (variant, test case) of `variants` run on `sandbox`: the EXECUTION_RECORDS table of one
    batch, in plan order (what each batch of the execution stage does, locally or on a Ray pool)."""
    records = execute_runs(plan_runs(variants), sandbox, backend)
    return pa.Table.from_pandas(records, schema=EXECUTION_RECORDS, preserve_index=False)
