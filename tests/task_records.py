"""Real execution records and certified tasks for tests: programs run in the real local sandbox."""

from __future__ import annotations

import contextlib
import json

import pandas as pd

from codeboost_dagster.core.sandbox import Sandbox, open_sandbox
from codeboost_dagster.core.settings import SandboxLimits, TaskSettings
from codeboost_dagster.core.tasks import TaskBuild, build_tasks, certificate_variations
from codeboost_dagster.core.variant_runs import execute_runs, plan_runs

LIMITS = SandboxLimits(wall_time_s=2.0, cpu_time_s=2.0)
PROGRAM = """def scale(values, factor):
    result = []
    for value in values:
        result.append(value * factor)
    return result


total = sum(scale([1, 2, 3], {factor}))
print(total)
print(scale([4, 5], 2))
print(10 // {divisor})
"""


def programs(count: int) -> list[str]:
    """`count` distinct programs; every fifth one ends with a ZeroDivisionError."""
    return [PROGRAM.format(factor=3 + index, divisor=(index % 5) or 0) for index in range(count)]


def execution_records(sandbox: Sandbox, codes: list[str], stdins: list[str] | None = None) -> pd.DataFrame:
    """One record per program (snippet s<i>, variant v<i>), as the execution stage writes them."""
    cases = [json.dumps([{"input": stdin}]) if stdin else "[]" for stdin in (stdins or [""] * len(codes))]
    variants = pd.DataFrame(
        {
            "variant_id": [f"v{i}" for i in range(len(codes))],
            "snippet_id": [f"s{i}" for i in range(len(codes))],
            "variant_index": 0,
            "kind": "original",
            "code": codes,
            "test_cases": cases,
        }
    )
    return execute_runs(plan_runs(variants), sandbox, sandbox.backend)


def certified_tasks(sandbox: Sandbox, records: pd.DataFrame, **overrides) -> TaskBuild:
    """build_tasks with its checks on `sandbox`; `overrides` are TaskSettings fields."""
    return build_tasks(records, TaskSettings(**overrides), LIMITS, lambda batch, _: sandbox.run_many(batch))


def certified_tasks_varied(sandbox: Sandbox, records: pd.DataFrame, settings: TaskSettings) -> TaskBuild:
    """build_tasks whose certificate phases with a variation (another hash seed, a later clock) run
    on forkserver sandboxes opened with it, as the task stage opens them."""
    with contextlib.ExitStack() as opened:
        varied = {
            phase: opened.enter_context(open_sandbox("forkserver", LIMITS, 2, variation=variation))
            for phase, variation in certificate_variations(settings).items()
        }
        return build_tasks(
            records, settings, LIMITS, lambda programs, phase: varied.get(phase, sandbox).run_many(programs)
        )
