"""`execution_records` on Ray: variants stream in batches to the per-node sandbox pools, and their
records stream back, in input order, into a Parquet file (row groups of `sink_row_group_rows`).

The records are the ones the local path makes (same `plan_runs` / `execute_runs`, same sandbox
backend and limits); only timestamps and wall times differ. A batch that failed on Ray after its
retries becomes `sandbox_error` rows, one per planned run, whose `detail` says what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.execution import execute_runs, plan_runs
from codeboost_dagster.core.sandbox import ExecutionResult, Program
from codeboost_dagster.core.scale_out.batch_runner import BatchReport
from codeboost_dagster.core.scale_out.sandbox_pools import SandboxPools
from codeboost_dagster.core.scale_out.tables import ParquetFile, ParquetSink, TableSource, source_batches, source_rows
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import ScaleOutSettings

BatchDone = Callable[[pd.DataFrame, pa.Table, BatchReport], None]
"""Called as on_batch(variants of the batch, its records, report) when a batch is written."""


def lost_results(programs: Sequence[Program], detail: str, backend: str) -> list[ExecutionResult]:
    """A `sandbox_error` result per program of a batch that Ray could not run."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    lost = ExecutionResult("", "", None, "sandbox_error", None, 0.0, 0.0, backend, "", "", now, now, detail)
    return [lost for _ in programs]


class LostSandbox:
    """Stands in for the sandbox of a lost batch: every program gets a `sandbox_error` result."""

    def __init__(self, detail: str, backend: str) -> None:
        self.detail, self.backend = detail, backend

    def run_many(self, programs: Sequence[Program], progress: object = None) -> list[ExecutionResult]:
        """One `sandbox_error` result per program, in order."""
        return lost_results(programs, self.detail, self.backend)


def lost_records(variants: pd.DataFrame, detail: str, backend: str) -> pa.Table:
    """The batch's planned runs as `sandbox_error` records (code and stdin kept, for a re-run)."""
    records = execute_runs(plan_runs(variants), LostSandbox(detail, backend), backend)  # type: ignore[arg-type]
    return pa.Table.from_pandas(records, schema=EXECUTION_RECORDS, preserve_index=False)


@dataclass(frozen=True)
class StreamedStage:
    """A finished streamed stage: its output file(s), batches run, retried and lost."""

    outputs: tuple[ParquetFile, ...]
    batches: int
    retried_batches: int
    lost_batches: int


def execute_on_ray(
    variants: TableSource,
    out_path: Path,
    pools: SandboxPools,
    settings: ScaleOutSettings,
    on_batch: BatchDone | None = None,
) -> StreamedStage:
    """Run every (variant, test case) on the pools; records go to `out_path` as batches finish."""
    batches = retried = lost = 0
    with ParquetSink(out_path, EXECUTION_RECORDS, settings.sink_row_group_rows) as sink:
        finished = pools.run(
            "execute",
            source_batches(variants, settings.execution_batch_rows),
            lost_records,
            settings.batch_retries,
            source_rows(variants),
        )
        for batch, table, report in finished:
            sink.write(table)
            batches, retried, lost = batches + 1, retried + (report.attempts > 1), lost + (report.lost is not None)
            if on_batch is not None:
                on_batch(batch, table, report)
        output = sink.close()
    return StreamedStage((output,), batches, retried, lost)
