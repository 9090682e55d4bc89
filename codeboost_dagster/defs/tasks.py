"""Training tasks: certified forward and backward tasks from execution records (METHOD.md section 5).

The builder runs its checks (determinism, load-bearing masks, hidden probes, the exploit audit) in
the configured sandbox; their counts, the sandbox-slot time of each kind of check, the audit's
examples and a plot of probes per task are metadata, and the blocking `exploit_audit` check
re-reads the audit so that no task a stub passes reaches the verl dataset.
"""

import contextlib

import pandas as pd
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    AutomationCondition,
    MetadataValue,
    Output,
    multi_asset,
)

from codeboost_dagster.core.slot_time import SlotTime
from codeboost_dagster.core.tasks import TaskBuild, build_tasks, certificate_variations
from codeboost_dagster.core.tasks.exploit_audit import FORWARD_STUBS, STUBS
from codeboost_dagster.metadata import (
    bar_plot,
    check_result,
    counts_table,
    frame_table,
    preview,
    progress_logger,
    slot_time_metadata,
)
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, reads_settings

TASKS_GROUP = "tasks"

TASK_CONSERVATION = AssetCheckSpec(
    "task_conservation",
    asset="training_tasks",
    blocking=True,
    description="every execution record gives a task or a drop reason",
)
SPLIT_BY_SNIPPET = AssetCheckSpec(
    "split_by_snippet", asset="training_tasks", blocking=True, description="no snippet has tasks in two splits"
)
EXPLOIT_AUDIT = AssetCheckSpec(
    "exploit_audit",
    asset="training_tasks",
    blocking=True,
    description="every task was scored against every trivial stub and none passed",
)


def _crosstab(tasks: pd.DataFrame, rows: str, columns: str) -> MetadataValue:
    if tasks.empty:
        return MetadataValue.md("_no tasks_")
    table = pd.crosstab(tasks[rows].fillna("none"), tasks[columns])
    return MetadataValue.md(table.to_markdown())


def _certification_metadata(build: TaskBuild) -> dict:
    """What the checks found: eligible-mask share, probes per task, the audit, nondeterministic drops."""
    stats, audit = build.stats, build.audit
    checked = stats.get("mask_lines_checked", 0)
    probes = {
        key.removeprefix("probes_per_task_"): count
        for key, count in stats.items()
        if key.startswith("probes_per_task_")
    }
    by_stub = (
        audit.groupby("stub")["passed"].agg(["count", "sum"]).rename(columns={"count": "scored", "sum": "passed"})
        if len(audit)
        else pd.DataFrame(columns=["scored", "passed"])
    )
    return {
        "load_bearing_share": round(stats.get("mask_lines_load_bearing", 0) / checked, 4) if checked else 0.0,
        "mask_lines_checked": checked,
        "backward_without_load_bearing_line": stats.get("backward_without_load_bearing_line", 0),
        "probes_per_task": counts_table(probes, "probes"),
        "probes_per_task_plot": bar_plot(
            pd.DataFrame({"tasks": probes}).rename_axis("probes"), "hidden probes per backward task"
        )
        if probes
        else MetadataValue.md("_no backward tasks_"),
        "exploit_audit": frame_table(by_stub.reset_index()),
        "exploitable_examples": frame_table(audit[audit["passed"]].head(5)[["program_id", "stub", "answer"]])
        if len(audit)
        else MetadataValue.md("_none_"),
        "exploitable_dropped": int((build.dropped["reason"] == "exploitable").sum()),
        "nondeterministic_dropped": int((build.dropped["reason"] == "nondeterministic").sum()),
        "hash_seed_dependent_dropped": int((build.dropped["reason"] == "hash_seed_dependent").sum()),
        "clock_dependent_dropped": int((build.dropped["reason"] == "clock_dependent").sum()),
        "backward_drawn": stats.get("backward_drawn", 0),
        "backward_kept": stats.get("backward_kept", 0),
    }


def _exploit_audit_check(build: TaskBuild):
    """No kept task passed a stub, and every kept task was scored against the stubs."""
    kept = set(build.tasks["task_id"])
    audit = build.audit[build.audit["task_id"].isin(kept)]
    passed = audit[audit["passed"]]
    unaudited = len(kept - set(audit["task_id"]))
    return check_result(
        EXPLOIT_AUDIT,
        passed.empty and unaudited == 0,
        metadata={
            "tasks": len(kept),
            "stub_passes": len(passed),
            "unaudited_tasks": unaudited,
            "stubs": ", ".join(STUBS + tuple(f"forward:{name}" for name in FORWARD_STUBS)),
            "examples": frame_table(passed.head(5)[["task_id", "stub", "answer"]]),
        },
    )


@multi_asset(
    group_name=TASKS_GROUP,
    outs={
        "training_tasks": AssetOut(
            metadata=reads_settings("tasks", "sandbox", "reward"),
            kinds={"pandas", "parquet"},
            automation_condition=AutomationCondition.eager(),
            description="Forward and backward prompts with their ground truth and run context, split by snippet.",
        ),
        "task_report": AssetOut(
            metadata=reads_settings("tasks", "sandbox", "reward"),
            kinds={"pandas", "parquet"},
            automation_condition=AutomationCondition.eager(),
            description="Every execution record that gave no task, with its reason.",
        ),
    },
    pool="sandbox",
    check_specs=[TASK_CONSERVATION, SPLIT_BY_SNIPPET, EXPLOIT_AUDIT],
)
def training_tasks(
    context: AssetExecutionContext,
    settings: SettingsResource,
    sandbox: SandboxResource,
    execution_records: pd.DataFrame,
):
    """Certified error-aware forward/backward tasks; every run that gives none is reported with its reason."""
    config = settings.for_stage(context)
    slot_time = SlotTime(config.sandbox.wall_time_s)
    with contextlib.ExitStack() as opened:
        sandboxes = {
            phase: opened.enter_context(sandbox.open(config.sandbox, variation))
            for phase, variation in certificate_variations(config.tasks).items()
        }
        default = opened.enter_context(sandbox.open(config.sandbox))

        def run(programs, phase: str):
            context.log.info(f"{phase}: {len(programs)} runs on the {sandbox.backend} sandbox")
            on = sandboxes.get(phase, default)
            results = on.run_many(programs, progress=progress_logger(context.log, f"tasks, {phase}"))
            slot_time.add_results(phase, results)
            return results

        build = build_tasks(execution_records, config.tasks, config.sandbox, run, config.reward)
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
            **_certification_metadata(build),
            "certificate_varied_runs": MetadataValue.text(
                ", ".join(certificate_variations(config.tasks)) or "none (turned off, or no libfaketime for the clock)"
            ),
            **slot_time_metadata(slot_time),
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
    yield check_result(
        TASK_CONSERVATION,
        len(tasks) + len(dropped) == len(execution_records),
        metadata={"records": len(execution_records), "tasks": len(tasks), "dropped": len(dropped)},
    )
    yield _exploit_audit_check(build)
    leaking = int((tasks.groupby("snippet_id")["split"].nunique() > 1).sum()) if len(tasks) else 0
    yield check_result(SPLIT_BY_SNIPPET, leaking == 0, metadata={"snippets_in_several_splits": leaking})
