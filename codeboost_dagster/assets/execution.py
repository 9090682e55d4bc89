"""Execution asset: every variant run once per test case in the sandbox (METHOD.md section 4)."""

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSpec, AssetExecutionContext, MetadataValue, Output, asset

from codeboost_dagster.assets.metadata import counts_table, frame_table, histogram_plot, progress_logger
from codeboost_dagster.core.execution import execute_runs, plan_runs
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource

EXECUTION_GROUP = "execution"
SLOWEST_SHOWN = 10


@asset(
    group_name=EXECUTION_GROUP,
    io_manager_key="parquet_io_manager",
    pool="sandbox",
    check_specs=[AssetCheckSpec("execution_conservation", asset="execution_records", blocking=True)],
)
def execution_records(
    context: AssetExecutionContext, settings: SettingsResource, sandbox: SandboxResource, augmented_variants: pd.DataFrame
):
    """Stdout, stderr, status, error type and timings of every (variant, test case) run."""
    limits = settings.get().sandbox
    planned = plan_runs(augmented_variants)
    context.log.info(f"running {len(planned)} programs on the {sandbox.backend} sandbox")
    with sandbox.open(limits) as opened:
        records = execute_runs(planned, opened, sandbox.backend, progress=progress_logger(context.log, "execution"))
    slowest = records.nlargest(SLOWEST_SHOWN, "wall_ms")[["program_id", "variant_id", "status", "wall_ms", "cpu_ms"]]
    yield Output(
        records,
        metadata={
            "programs": len(records),
            "by_status": counts_table(records["status"].value_counts().to_dict(), "status"),
            "by_error_type": counts_table(records["error_type"].dropna().value_counts().to_dict(), "error type"),
            "wall_ms_distribution": histogram_plot(records["wall_ms"], "wall time per program", "ms"),
            "slowest": frame_table(slowest),
            "backend": sandbox.backend,
            "python_version": MetadataValue.text(", ".join(sorted(set(records["python_version"]) - {""}))),
        },
    )
    yield AssetCheckResult(
        check_name="execution_conservation",
        asset_key="execution_records",
        passed=len(records) == len(planned) and records["program_id"].is_unique,
        metadata={"planned": len(planned), "records": len(records)},
        description="one record per (variant, test case)",
    )
