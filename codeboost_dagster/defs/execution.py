"""Execution: every variant run once per test case in the sandbox (METHOD.md section 4).

One batch loop wherever it runs (the `scale_out` resource, core.scale_out): the variants arrive
as a Parquet handle, stream in batches to the sandbox open on this machine or to one warm sandbox
pool per Ray node, and the records stream back to Parquet and leave as a handle, so the run's
memory does not grow with the dump. The records are the same wherever they ran (only timestamps
and wall times differ); the metadata is summed batch by batch the same way.
"""

import pandas as pd
from dagster import (
    Any,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AutomationCondition,
    MetadataValue,
    Output,
    asset,
)

from codeboost_dagster.core.scale_out import ExecutionTally, ParquetFile
from codeboost_dagster.metadata import (
    batch_progress,
    check_result,
    counts_table,
    frame_table,
    histogram_plot,
    slot_time_metadata,
    stage_metadata,
)
from codeboost_dagster.resources.parquet_io import STREAMED_INPUT
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, reads_settings
from codeboost_dagster.resources.stage_executor import StageExecutor

EXECUTION_GROUP = "execution"
SLOWEST_SHOWN = 10

EXECUTION_CONSERVATION = AssetCheckSpec(
    "execution_conservation",
    asset="execution_records",
    blocking=True,
    description="one record per (variant, test case)",
)


@asset(
    group_name=EXECUTION_GROUP,
    metadata=reads_settings("sandbox"),
    kinds={"pandas", "parquet", "ray"},
    ins={"augmented_variants": AssetIn(metadata={STREAMED_INPUT: True}, dagster_type=Any)},
    pool="sandbox",
    automation_condition=AutomationCondition.eager(),
    check_specs=[EXECUTION_CONSERVATION],
)
def execution_records(
    context: AssetExecutionContext,
    settings: SettingsResource,
    sandbox: SandboxResource,
    scale_out: StageExecutor,
    augmented_variants: ParquetFile,
):
    """Stdout, stderr, status, error type and timings of every (variant, test case) run; mutated
    variants run under a wall limit derived from their original's run (`wall_limit_s`)."""
    config = settings.for_stage(context)
    tally = ExecutionTally(config.scale_out.summary_sample_rows, SLOWEST_SHOWN, config.sandbox.wall_time_s)
    progress = batch_progress(context, "execution_records", "execution", config.scale_out.progress_interval_s)

    def on_batch(batch, records, report) -> None:
        tally.add(report.index, batch, records)
        progress(report)

    context.log.info(f"running {augmented_variants.rows} variants on the {sandbox.backend} sandbox {scale_out.place}")
    with scale_out.execution(augmented_variants, config, sandbox, on_batch) as stage:
        yield Output(
            stage.outputs[0],
            metadata={
                "programs": tally.records,
                "by_status": counts_table(tally.by_status, "status"),
                "by_error_type": counts_table(tally.by_error_type, "error type"),
                "wall_ms_distribution": histogram_plot(
                    pd.Series(tally.wall_ms_sample, dtype=float), "wall time per program (sample)", "ms"
                ),
                "slowest": frame_table(tally.slowest()),
                **slot_time_metadata(tally.slot_time),
                "backend": sandbox.backend,
                "runtime": MetadataValue.text(", ".join(sorted(tally.runtimes))),
                "runs_by_package": counts_table(tally.by_package, "runtime package"),
                **stage_metadata(stage, scale_out.place),
            },
        )
    yield check_result(
        EXECUTION_CONSERVATION,
        tally.records == tally.planned and not tally.mismatched_batches,
        metadata={
            "planned": tally.planned,
            "records": tally.records,
            "mismatched_batches": len(tally.mismatched_batches),
        },
    )
