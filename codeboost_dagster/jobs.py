"""Jobs: per-dump ingestion (what the sensor runs) and the whole pipeline for one dump."""

from dagster import AssetSelection, define_asset_job

from codeboost_dagster.partitions import code_dumps

INGESTION_ASSETS = AssetSelection.assets("raw_snippets", "filtered_snippets", "filter_report")

ingest_dump_job = define_asset_job(
    name="ingest_dump",
    selection=INGESTION_ASSETS,
    partitions_def=code_dumps,
    description="Read one code dump and apply the basic filters.",
)

PIPELINE_JOB_NAMES = (ingest_dump_job.name,)
