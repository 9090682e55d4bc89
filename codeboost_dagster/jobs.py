"""Jobs: per-dump ingestion (what the sensor runs) and the whole pipeline for one dump."""

from dagster import AssetSelection, Backoff, Jitter, RetryPolicy, define_asset_job

from codeboost_dagster.partitions import code_dumps

# Steps that depend on a sandbox engine, a Ray cluster or a model cache can fail for reasons
# that pass (an engine restart, a busy head node): retried after 5 s, then 10 s, jittered.
TRANSIENT_FAILURE_RETRY = RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

INGESTION_ASSETS = AssetSelection.assets("raw_snippets", "filtered_snippets", "filter_report")

ingest_dump_job = define_asset_job(
    name="ingest_dump",
    selection=INGESTION_ASSETS,
    partitions_def=code_dumps,
    description="Read one code dump and apply the basic filters.",
)

CURATION_ASSETS = AssetSelection.assets("curated_snippets", "curation_report", "curation_signatures")

curation_job = define_asset_job(
    name="recurate",
    selection=CURATION_ASSETS,
    description="Re-curate the selection across every ingested dump (incremental).",
)

TRAINING_ASSETS = AssetSelection.assets("grpo_training", "training_metrics")

EVALUATION_ASSETS = AssetSelection.assets(
    "evaluation_items", "evaluation_item_report", "evaluation", "evaluation_predictions"
)

training_data_job = define_asset_job(
    name="build_training_data",
    selection=(CURATION_ASSETS | CURATION_ASSETS.downstream()) - TRAINING_ASSETS - EVALUATION_ASSETS,
    op_retry_policy=TRANSIENT_FAILURE_RETRY,
    description="Curate, augment, execute and build the verl dataset from the ingested dumps.",
)

TRAINING_RUN_TAG = "codeboost/training"

train_policy_job = define_asset_job(
    name="train_policy",
    selection=TRAINING_ASSETS,
    tags={TRAINING_RUN_TAG: "grpo"},
    op_retry_policy=TRANSIENT_FAILURE_RETRY,
    description="GRPO on the current verl dataset (TRL here, or verl on a Ray cluster).",
)

evaluation_job = define_asset_job(
    name="evaluate_policy",
    selection=EVALUATION_ASSETS,
    op_retry_policy=TRANSIENT_FAILURE_RETRY,
    description="Base vs. trained policy on CRUXEval-style items from HumanEval and on held-out tasks.",
)

PIPELINE_JOB_NAMES = (ingest_dump_job.name, training_data_job.name, train_policy_job.name, evaluation_job.name)
