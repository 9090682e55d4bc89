"""Turn augmented variants into sandbox programs and execution records (METHOD.md section 4).

Each variant runs once per test case (once with no input when it has none); a program id is
the hash of (variant id, case index). A test case the sandbox cannot express becomes a
`sandbox_error` record with the reason in `detail`, so every expected run has a record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.frames import records
from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.sandbox import ExecutionResult, Program, Sandbox, program_from_test_case, stitch
from codeboost_dagster.core.schemas import EXECUTION_RECORDS


@dataclass(frozen=True)
class PlannedRun:
    """One program to run, with the ids that trace it back to its variant and snippet."""

    program_id: str
    variant_id: str
    snippet_id: str
    case_index: int
    program: Program | None
    problem: str | None = None


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
            planned.append(PlannedRun(program_id, row["variant_id"], row["snippet_id"], index, program, problem))
    return planned


def not_run(problem: str, backend: str) -> ExecutionResult:
    """The `sandbox_error` result of a program that never ran, with why in its detail."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return ExecutionResult("", "", None, "sandbox_error", None, 0.0, 0.0, backend, "", "", now, now, problem)


def execute_runs(
    planned: list[PlannedRun], sandbox: Sandbox, backend: str, progress: Callable[[int, int], None] | None = None
) -> pd.DataFrame:
    """Run every planned program on the sandbox's slots; one EXECUTION_RECORDS row per planned run."""
    runnable = [run for run in planned if run.program is not None]
    results = iter(sandbox.run_many([run.program for run in runnable], progress=progress))
    rows = []
    for run in planned:
        result = next(results) if run.program is not None else not_run(run.problem or "not runnable", backend)
        rows.append(
            {
                "program_id": run.program_id,
                "variant_id": run.variant_id,
                "snippet_id": run.snippet_id,
                "case_index": run.case_index,
                "code": stitch(run.program) if run.program is not None else "",
                "stdin": run.program.stdin if run.program is not None else "",
                **result.to_dict(),
            }
        )
    return pd.DataFrame(rows, columns=EXECUTION_RECORDS.names)


def execute_variants(variants: pd.DataFrame, sandbox: Sandbox, backend: str) -> pa.Table:
    """Every (variant, test case) of `variants` run on `sandbox`: the EXECUTION_RECORDS table of one
    batch, in plan order (what each batch of the execution stage does, locally or on a Ray pool)."""
    records = execute_runs(plan_runs(variants), sandbox, backend)
    return pa.Table.from_pandas(records, schema=EXECUTION_RECORDS, preserve_index=False)
