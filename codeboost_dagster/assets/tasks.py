"""Training-task assets: forward and backward tasks from execution records (METHOD.md section 5)."""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    MetadataValue,
    Output,
    multi_asset,
)

from codeboost_dagster.assets.metadata import counts_table, preview
from codeboost_dagster.core.tasks import build_tasks
from codeboost_dagster.resources.settings import SettingsResource

TASKS_GROUP = "tasks"


def _crosstab(tasks: pd.DataFrame, rows: str, columns: str) -> MetadataValue:
    if tasks.empty:
        return MetadataValue.md("_no tasks_")
    table = pd.crosstab(tasks[rows].fillna("none"), tasks[columns])
    return MetadataValue.md(table.to_markdown())


@multi_asset(
    group_name=TASKS_GROUP,
    outs={
        "training_tasks": AssetOut(
            io_manager_key="parquet_io_manager",
            description="Forward and backward prompts with their ground truth and run context, split by snippet.",
        ),
        "task_report": AssetOut(
            io_manager_key="parquet_io_manager", description="Every execution record that gave no task, with its reason."
        ),
    },
    check_specs=[
        AssetCheckSpec("task_conservation", asset="training_tasks", blocking=True),
        AssetCheckSpec("split_by_snippet", asset="training_tasks", blocking=True),
    ],
)
def training_tasks(context: AssetExecutionContext, settings: SettingsResource, execution_records: pd.DataFrame):
    """Error-aware forward/backward tasks; runs that timed out or raised other errors are reported."""
    config = settings.get()
    build = build_tasks(execution_records, config.tasks, config.sandbox)
    tasks, dropped = build.tasks, build.dropped
    context.log.info(f"{len(tasks)} tasks from {len(execution_records)} runs; {len(dropped)} runs dropped")
    example = tasks["prompt"].iloc[0] if len(tasks) else ""
    yield Output(
        tasks,
        output_name="training_tasks",
        metadata={
            "tasks": len(tasks),
            "by_type_and_split": _crosstab(tasks, "task_type", "split"),
            "by_error_type": _crosstab(tasks, "error_type", "task_type"),
            "example_prompt": MetadataValue.md(f"````text\n{example}\n````"),
            "preview": preview(tasks, ["task_id", "task_type", "split", "error_type", "snippet_id"]),
        },
    )
    yield Output(
        dropped,
        output_name="task_report",
        metadata={
            "dropped": len(dropped),
            "dropped_by_reason": counts_table(dropped["reason"].value_counts().to_dict(), "reason"),
        },
    )
    yield AssetCheckResult(
        check_name="task_conservation",
        asset_key="training_tasks",
        passed=len(tasks) + len(dropped) == len(execution_records),
        metadata={"records": len(execution_records), "tasks": len(tasks), "dropped": len(dropped)},
        description="every execution record gives a task or a drop reason",
    )
    leaking = int((tasks.groupby("snippet_id")["split"].nunique() > 1).sum()) if len(tasks) else 0
    yield AssetCheckResult(
        check_name="split_by_snippet",
        asset_key="training_tasks",
        passed=leaking == 0,
        metadata={"snippets_in_several_splits": leaking},
        description="no snippet has tasks in two splits",
    )
