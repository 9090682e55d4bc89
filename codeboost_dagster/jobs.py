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

CURATION_ASSETS = AssetSelection.assets("curated_snippets", "curation_report")

curation_job = define_asset_job(
    name="recurate",
    selection=CURATION_ASSETS,
    description="Re-curate the selection across every ingested dump (incremental).",
)

training_data_job = define_asset_job(
    name="build_training_data",
    selection=CURATION_ASSETS | CURATION_ASSETS.downstream(),
    description="Curate, augment and execute: everything downstream of the ingested dumps.",
)

PIPELINE_JOB_NAMES = (ingest_dump_job.name, training_data_job.name)
