"""Ingestion: one partition per code dump, read and filtered (METHOD.md section 1).

The dumps sensor turns each new file or folder in the dumps folder into a partition and an
`ingest_dump` run; a changed dump is ingested again.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    AssetSelection,
    DefaultSensorStatus,
    DynamicPartitionsDefinition,
    MetadataValue,
    Output,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset,
    define_asset_job,
    multi_asset,
    sensor,
)

from codeboost_dagster.core.filtering import filter_snippets, raw_snippets_frame
from codeboost_dagster.core.readers import read_dump
from codeboost_dagster.core.schemas import FILTER_REPORT, FILTERED_SNIPPETS, schema_problems
from codeboost_dagster.metadata import check_result, counts_table, histogram_plot, preview
from codeboost_dagster.resources.dumps import DumpFolder
from codeboost_dagster.resources.settings import SettingsResource, reads_settings

INGESTION_GROUP = "ingestion"

code_dumps = DynamicPartitionsDefinition(name="code_dumps")
"""One partition per code dump, added by `new_dump_sensor`."""

FILTER_CONSERVATION = AssetCheckSpec(
    "filter_conservation", asset="filtered_snippets", blocking=True, description="raw rows = kept rows + dropped rows"
)
UNIQUE_SNIPPET_IDS = AssetCheckSpec(
    "unique_snippet_ids", asset="filtered_snippets", blocking=True, description="no two kept rows share a snippet id"
)
FILTER_SCHEMA = AssetCheckSpec(
    "filter_schema",
    asset="filtered_snippets",
    blocking=True,
    description="the kept and dropped tables have the columns and types of their schemas",
)


@asset(
    partitions_def=code_dumps,
    group_name=INGESTION_GROUP,
    metadata=reads_settings("ingestion"),
    kinds={"pandas", "parquet"},
)
def raw_snippets(context: AssetExecutionContext, dumps: DumpFolder, settings: SettingsResource) -> Output[pd.DataFrame]:
    """Every unit of one code dump (file, row, doctest module), readable or not, with a content-hash id."""
    key = context.partition_key
    path = dumps.dump_path(key)
    context.log.info(f"reading dump {key!r} from {path}")
    frame = raw_snippets_frame(read_dump(path, key, settings.for_stage(context).ingestion))
    unreadable = frame[frame["read_error"].notna()]
    return Output(
        frame,
        metadata={
            "dump_path": MetadataValue.path(str(path)),
            "rows": len(frame),
            "unreadable_rows": len(unreadable),
            "unreadable_by_reason": counts_table(unreadable["read_error"].value_counts().to_dict(), "reason"),
            "preview": preview(frame, ["snippet_id", "origin", "code", "read_error"]),
        },
    )


def _conservation_check(raw: pd.DataFrame, kept: pd.DataFrame, dropped: pd.DataFrame) -> AssetCheckResult:
    balanced = len(raw) == len(kept) + len(dropped)
    return check_result(
        FILTER_CONSERVATION, balanced, metadata={"raw": len(raw), "kept": len(kept), "dropped": len(dropped)}
    )


def _unique_ids_check(kept: pd.DataFrame) -> AssetCheckResult:
    duplicates = int(kept["snippet_id"].duplicated().sum())
    return check_result(UNIQUE_SNIPPET_IDS, duplicates == 0, metadata={"duplicate_ids": duplicates})


def _schema_check(kept: pd.DataFrame, dropped: pd.DataFrame) -> AssetCheckResult:
    problems = schema_problems(list(kept.columns), FILTERED_SNIPPETS) + schema_problems(
        list(dropped.columns), FILTER_REPORT
    )
    return check_result(
        FILTER_SCHEMA,
        not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"problems": "; ".join(problems) or "none"},
    )


@multi_asset(
    partitions_def=code_dumps,
    group_name=INGESTION_GROUP,
    ins={"raw_snippets": AssetIn()},
    outs={
        "filtered_snippets": AssetOut(
            metadata=reads_settings("filtering"),
            kinds={"pandas", "parquet"},
            description="Rows that pass the basic filters.",
        ),
        "filter_report": AssetOut(
            metadata=reads_settings("filtering"),
            kinds={"pandas", "parquet"},
            description="Every dropped row with its reason.",
        ),
    },
    check_specs=[FILTER_CONSERVATION, UNIQUE_SNIPPET_IDS, FILTER_SCHEMA],
)
def filtered_snippets(context: AssetExecutionContext, settings: SettingsResource, raw_snippets: pd.DataFrame):
    """Basic filters over one dump: compile, libcst parse, size bounds, exact duplicates."""
    outcome = filter_snippets(raw_snippets, settings.for_stage(context).filtering)
    kept, dropped = outcome.kept, outcome.dropped
    reasons = dropped["reason"].value_counts().to_dict()
    context.log.info(f"dump {context.partition_key!r}: kept {len(kept)} of {len(raw_snippets)}; dropped {reasons}")
    yield Output(
        kept,
        output_name="filtered_snippets",
        metadata={
            "kept": len(kept),
            "dropped": len(dropped),
            "lines_distribution": histogram_plot(kept["lines"], "lines per kept snippet", "lines"),
            "preview": preview(kept, ["snippet_id", "origin", "lines", "code"]),
        },
    )
    yield Output(
        dropped,
        output_name="filter_report",
        metadata={
            "dropped": len(dropped),
            "dropped_by_reason": counts_table(reasons, "reason"),
            "preview": preview(dropped, ["origin", "reason", "detail"]),
        },
    )
    yield _conservation_check(raw_snippets, kept, dropped)
    yield _unique_ids_check(kept)
    yield _schema_check(kept, dropped)


ingest_dump_job = define_asset_job(
    name="ingest_dump",
    selection=AssetSelection.groups(INGESTION_GROUP),
    description="Read one code dump and apply the basic filters.",
)


@sensor(job=ingest_dump_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def new_dump_sensor(context: SensorEvaluationContext, dumps: DumpFolder):
    """Add a partition per new dump and request its ingestion; a changed dump is ingested again.

    Run keys are `key@fingerprint`, so repeated ticks over unchanged dumps request nothing.
    """
    entries, refused = dumps.scan()
    for name in refused:
        context.log.warning(f"ignoring dump {name!r}: not a safe partition key (rename it)")
    if not entries:
        return SkipReason(f"no dumps in {dumps.path}")
    known = set(context.instance.get_dynamic_partitions(code_dumps.name))
    new_keys = [entry.key for entry in entries if entry.key not in known]
    return SensorResult(
        run_requests=[
            RunRequest(partition_key=entry.key, run_key=f"{entry.key}@{entry.fingerprint}") for entry in entries
        ],
        dynamic_partitions_requests=[code_dumps.build_add_request(new_keys)] if new_keys else [],
    )
