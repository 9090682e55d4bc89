"""Scheduled re-curation, so the selection stays current even when dumps arrive outside the sensor."""

from dagster import DefaultScheduleStatus, ScheduleDefinition

from codeboost_dagster.jobs import curation_job

recuration_schedule = ScheduleDefinition(
    name="recuration_schedule",
    job=curation_job,
    cron_schedule="0 3 * * *",
    description="Daily incremental re-curation across every ingested dump.",
    default_status=DefaultScheduleStatus.RUNNING,
)
