"""The dumps sensor: a new file or folder in the dumps folder becomes a partition and an ingestion run."""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)

from codeboost_dagster.jobs import curation_job, ingest_dump_job
from codeboost_dagster.partitions import code_dumps
from codeboost_dagster.resources.dumps import DumpFolder


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


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_dump_job],
    request_job=curation_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
)
def curate_after_ingestion(context: RunStatusSensorContext):
    """A newly ingested dump is curated against the existing selection right away."""
    return RunRequest(run_key=f"curate-after-{context.dagster_run.run_id}")
