"""`execution_records` as a streamed stage: variants go in batches to the per-node sandbox pools on
Ray (`execute_on_ray`) or to the sandbox open on this machine (`execute_here`, which treats it as
one pool), and their records stream back, in input order, into a Parquet file (row groups of
`sink_row_group_rows`).

Every batch runs `plan_runs` / `execute_runs` on an open sandbox of the same backend and limits,
so the records are the same wherever they ran; only timestamps and wall times differ. A batch
that failed after its retries becomes `sandbox_error` rows, one per planned run, whose `detail`
says what happened.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.sandbox import ExecutionResult, Program, Runtime, Sandbox
from codeboost_dagster.core.scale_out.batch_runner import FUTURES, BatchReport, LocalCalls, run_batches
from codeboost_dagster.core.scale_out.parquet_streams import (
    ParquetFile,
    ParquetSink,
    TableSource,
    grouped_batches,
    source_batches,
    source_rows,
)
from codeboost_dagster.core.scale_out.sandbox_pools import SandboxPools
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import ScaleOutSettings
from codeboost_dagster.core.variant_runs import execute_runs, execute_variants, not_run, plan_runs

BatchDone = Callable[[pd.DataFrame, pa.Table, BatchReport], None]
"""Called as on_batch(variants of the batch, its records, report) when a batch is written."""


def lost_results(programs: Sequence[Program], detail: str, backend: str) -> list[ExecutionResult]:
    """A `sandbox_error` result per program of a batch that could not run (after its retries)."""
    lost = not_run(detail, backend)
    return [lost for _ in programs]


class LostSandbox:
    """Stands in for the sandbox of a lost batch: every program gets a `sandbox_error` result."""

    runtime = Runtime(python_version="")  # it ran nothing: no packages to name

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

    @classmethod
    def of(cls, outputs: tuple[ParquetFile, ...], reports: Sequence[BatchReport]) -> StreamedStage:
        """The stage whose batches ended as `reports` say."""
        retried = sum(report.attempts > 1 for report in reports)
        return cls(outputs, len(reports), retried, sum(report.lost is not None for report in reports))


def variant_batches(variants: TableSource, settings: ScaleOutSettings) -> Iterator[pd.DataFrame]:
    """The variants in batches of about `execution_batch_rows`, a snippet's variants in one batch
    (its mutated variants' wall limits derive from its original's run, see core.variant_runs)."""
    return grouped_batches(source_batches(variants, settings.execution_batch_rows), "snippet_id")


def execute_on_ray(
    variants: TableSource,
    out_path: Path,
    pools: SandboxPools,
    settings: ScaleOutSettings,
    on_batch: BatchDone | None = None,
) -> StreamedStage:
    """Run every (variant, test case) on the pools; records go to `out_path` as batches finish."""
    finished = pools.run(
        "execute",
        variant_batches(variants, settings),
        lost_records,
        settings.batch_retries,
        source_rows(variants),
    )
    return _write_records(finished, out_path, settings, on_batch)


def execute_here(
    variants: TableSource,
    out_path: Path,
    sandbox: Sandbox,
    backend: str,
    settings: ScaleOutSettings,
    on_batch: BatchDone | None = None,
) -> StreamedStage:
    """Run every (variant, test case) on `sandbox`, open on this machine, as one pool: it runs
    `batches_per_pool` batches at once (their programs share its slots, so none idles through a
    batch's tail); records go to `out_path` as batches finish."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=settings.batches_per_pool) as threads:
        finished = run_batches(
            variant_batches(variants, settings),
            LocalCalls(threads, execute_variants, sandbox, backend),
            lambda batch, detail: lost_records(batch, detail, backend),
            window=settings.batches_per_pool + settings.queued_batches_per_pool,
            retries=settings.batch_retries,
            rows=len,
            rows_total=source_rows(variants),
            handles=FUTURES,
        )
        return _write_records(finished, out_path, settings, on_batch)


def _write_records(
    finished: Iterator[tuple[pd.DataFrame, pa.Table, BatchReport]],
    out_path: Path,
    settings: ScaleOutSettings,
    on_batch: BatchDone | None,
) -> StreamedStage:
    """The stage's one batch loop: each finished batch's records into the sink, in input order."""
    reports = []
    with ParquetSink(out_path, EXECUTION_RECORDS, settings.sink_row_group_rows) as sink:
        for batch, table, report in finished:
            sink.write(table)
            reports.append(report)
            if on_batch is not None:
                on_batch(batch, table, report)
        output = sink.close()
    return StreamedStage.of((output,), reports)
