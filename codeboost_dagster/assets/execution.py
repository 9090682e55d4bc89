"""Execution asset: every variant run once per test case in the sandbox (METHOD.md section 4).

Locally the sandbox's slots on this machine run every program. With `scale_out` enabled the
variants stream in batches to one warm sandbox pool per Ray node and the records stream back
to Parquet (core.scale_out); the records are the same, only timestamps and wall times differ.
With the streamed IO manager the variants arrive as a Parquet handle and the records leave as
one, so the run's memory does not grow with the dump; with the plain one they are DataFrames.
"""

import pandas as pd
from dagster import Any, AssetCheckResult, AssetCheckSpec, AssetExecutionContext, AssetIn, MetadataValue, Output, asset

from codeboost_dagster.assets.metadata import counts_table, frame_table, histogram_plot, progress_logger
from codeboost_dagster.assets.ray_progress import batch_progress
from codeboost_dagster.core.execution import execute_runs, plan_runs
from codeboost_dagster.core.scale_out import ExecutionTally, ParquetFile, TableSource, execute_on_ray
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.resources.ray_scale_out import RayScaleOut
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, reads_settings
from codeboost_dagster.resources.streamed_parquet_io import STREAMED_INPUT

EXECUTION_GROUP = "execution"
SLOWEST_SHOWN = 10


def _metadata(by_status, by_error_type, wall_ms: pd.Series, slowest: pd.DataFrame, backend: str, versions) -> dict:
    return {
        "by_status": counts_table(by_status, "status"),
        "by_error_type": counts_table(by_error_type, "error type"),
        "wall_ms_distribution": histogram_plot(wall_ms, "wall time per program", "ms"),
        "slowest": frame_table(slowest),
        "backend": backend,
        "python_version": MetadataValue.text(", ".join(sorted(set(versions) - {""}))),
    }


def _on_ray(
    context: AssetExecutionContext,
    config: CodeBoostSettings,
    sandbox: SandboxResource,
    scale_out: RayScaleOut,
    variants: TableSource,
):
    tally = ExecutionTally(config.scale_out.summary_sample_rows, SLOWEST_SHOWN)
    progress = batch_progress(context, "execution_records", "execution", config.scale_out.progress_interval_s)

    def on_batch(batch, records, report) -> None:
        tally.add(report.index, batch, records)
        progress(report)

    with scale_out.session(config.scale_out.namespace), scale_out.scratch() as scratch:
        with sandbox.pools(config.sandbox, config.scale_out) as pools:
            context.log.info(
                f"running the variants on {len(pools.actors)} Ray sandbox pools ({sum(pools.slots)} slots)"
            )
            stage = execute_on_ray(variants, scratch / "execution_records.parquet", pools, config.scale_out, on_batch)
        metadata = _metadata(
            tally.by_status,
            tally.by_error_type,
            pd.Series(tally.wall_ms_sample, dtype=float),
            tally.slowest(),
            sandbox.backend,
            tally.python_versions,
        )
        metadata.update(
            {
                "programs": tally.records,
                "ray_batches": stage.batches,
                "retried_batches": stage.retried_batches,
                "lost_batches": stage.lost_batches,
            }
        )
        records = stage.outputs[0] if isinstance(variants, ParquetFile) else stage.outputs[0].read()
        yield Output(records, metadata=metadata)
    yield AssetCheckResult(
        check_name="execution_conservation",
        asset_key="execution_records",
        passed=tally.records == tally.planned and not tally.mismatched_batches,
        metadata={
            "planned": tally.planned,
            "records": tally.records,
            "mismatched_batches": len(tally.mismatched_batches),
        },
        description="one record per (variant, test case)",
    )


@asset(
    group_name=EXECUTION_GROUP,
    metadata=reads_settings("sandbox"),
    kinds={"pandas", "parquet", "ray"},
    ins={"augmented_variants": AssetIn(metadata={STREAMED_INPUT: True}, dagster_type=Any)},
    pool="sandbox",
    check_specs=[
        AssetCheckSpec(
            "execution_conservation",
            asset="execution_records",
            blocking=True,
            description="one record per (variant, test case)",
        )
    ],
)
def execution_records(
    context: AssetExecutionContext,
    settings: SettingsResource,
    sandbox: SandboxResource,
    scale_out: RayScaleOut,
    augmented_variants: TableSource,
):
    """Stdout, stderr, status, error type and timings of every (variant, test case) run."""
    run_settings = settings.for_stage(context)
    if scale_out.enabled:
        yield from _on_ray(context, run_settings, sandbox, scale_out, augmented_variants)
        return
    if isinstance(augmented_variants, ParquetFile):
        augmented_variants = augmented_variants.read()
    limits = run_settings.sandbox
    planned = plan_runs(augmented_variants)
    context.log.info(f"running {len(planned)} programs on the {sandbox.backend} sandbox")
    with sandbox.open(limits) as opened:
        records = execute_runs(planned, opened, sandbox.backend, progress=progress_logger(context.log, "execution"))
    slowest = records.nlargest(SLOWEST_SHOWN, "wall_ms")[["program_id", "variant_id", "status", "wall_ms", "cpu_ms"]]
    metadata = _metadata(
        records["status"].value_counts().to_dict(),
        records["error_type"].dropna().value_counts().to_dict(),
        records["wall_ms"],
        slowest,
        sandbox.backend,
        records["python_version"],
    )
    yield Output(records, metadata={"programs": len(records), **metadata})
    yield AssetCheckResult(
        check_name="execution_conservation",
        asset_key="execution_records",
        passed=len(records) == len(planned) and records["program_id"].is_unique,
        metadata={"planned": len(planned), "records": len(records)},
        description="one record per (variant, test case)",
    )
