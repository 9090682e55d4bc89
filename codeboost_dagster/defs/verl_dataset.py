"""The verl dataset: train/val Parquet files in the schema verl's RLHFDataset reads."""

import pandas as pd
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    AutomationCondition,
    DataVersion,
    MetadataValue,
    Output,
    multi_asset,
)

from codeboost_dagster.core.schemas import VERL_DATASET
from codeboost_dagster.core.training.verl_dataset import TRAINING_SPLITS, build_verl_dataset, write_verl_split
from codeboost_dagster.defs.tasks import TASKS_GROUP
from codeboost_dagster.metadata import check_result, counts_table, frame_table, histogram_plot
from codeboost_dagster.resources.committed_files import publish
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.settings import SettingsResource, reads_settings
from codeboost_dagster.resources.training_files import TrainingFiles

VERL_CONSERVATION = AssetCheckSpec(
    "verl_conservation",
    asset="verl_dataset",
    blocking=True,
    description="every task is a train/val row, dropped with a reason, or held out as test",
)


@multi_asset(
    group_name=TASKS_GROUP,
    outs={
        "verl_dataset": AssetOut(
            metadata=reads_settings("grpo", "model"),
            kinds={"pandas", "parquet"},
            automation_condition=AutomationCondition.eager(),
            description="Manifest of the train/val Parquet files verl trains on: paths, counts, version, tokenizer.",
        ),
        "verl_dataset_report": AssetOut(
            metadata=reads_settings("grpo", "model"),
            kinds={"pandas", "parquet"},
            automation_condition=AutomationCondition.eager(),
            description="Tasks dropped because their prompt or reference answer is over its token budget.",
        ),
    },
    check_specs=[VERL_CONSERVATION],
)
def verl_dataset(
    context: AssetExecutionContext,
    settings: SettingsResource,
    models: ModelCache,
    training_files: TrainingFiles,
    training_tasks: pd.DataFrame,
):
    """Chat-format rows with the reward's ground truth; over-budget prompts dropped, test split held out."""
    config = settings.for_stage(context)
    budget, answer_budget = config.grpo.max_prompt_length, config.grpo.max_response_length
    context.log.info(f"counting prompt and answer tokens of {len(training_tasks)} tasks with {config.model.policy}")
    dataset = build_verl_dataset(training_tasks, models.tokenizer(config.model.policy), budget, answer_budget)
    version = dataset.version
    manifest = []
    for split in TRAINING_SPLITS:
        rows = dataset.splits[split]
        path = training_files.path("verl_dataset", version, f"{split}.parquet")
        publish(path, lambda handle, rows=rows: write_verl_split(rows, handle))
        task_types = rows["extra_info"].map(lambda info: info["task_type"]).value_counts()
        manifest.append(
            {
                "split": split,
                "path": str(path),
                "rows": len(rows),
                "forward": int(task_types.get("forward", 0)),
                "backward": int(task_types.get("backward", 0)),
                "version": version,
                "tokenizer": config.model.policy,
                "max_prompt_tokens": budget,
                "max_answer_tokens": answer_budget,
            }
        )
        context.log.info(f"wrote {len(rows)} {split} rows to {path}")
    manifest_frame = pd.DataFrame(manifest, columns=VERL_DATASET.names)
    paths = {f"{row['split']}_path": MetadataValue.path(row["path"]) for row in manifest}
    yield Output(
        manifest_frame,
        output_name="verl_dataset",
        data_version=DataVersion(version),
        metadata={
            **paths,
            "splits": frame_table(manifest_frame[["split", "rows", "forward", "backward"]]),
            "train_rows": manifest[0]["rows"],
            "val_rows": manifest[1]["rows"],
            "held_out_test_tasks": dataset.held_out,
            "dropped_over_budget": len(dataset.dropped),
            "dropped_by_reason": counts_table(dataset.dropped["reason"].value_counts().to_dict(), "reason"),
            "max_answer_tokens": answer_budget,
            "version": version,
            "tokenizer": config.model.policy,
            "max_prompt_tokens": budget,
            "prompt_tokens": histogram_plot(dataset.prompt_tokens, "prompt length (chat template)", "tokens"),
            "prompt_tokens_max": int(dataset.prompt_tokens.max()) if len(dataset.prompt_tokens) else 0,
        },
    )
    yield Output(
        dataset.dropped,
        output_name="verl_dataset_report",
        metadata={
            "dropped": len(dataset.dropped),
            "dropped_by_type": counts_table(dataset.dropped["task_type"].value_counts().to_dict(), "task type"),
        },
    )
    accounted = sum(row["rows"] for row in manifest) + len(dataset.dropped) + dataset.held_out
    yield check_result(
        VERL_CONSERVATION,
        accounted == len(training_tasks),
        metadata={"tasks": len(training_tasks), "accounted": accounted},
    )
