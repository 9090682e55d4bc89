"""GRPO training: a trained policy from `verl_dataset` (METHOD.md section 7), run by `train_policy`."""

import json

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetOut,
    AssetSelection,
    MetadataValue,
    Output,
    define_asset_job,
    multi_asset,
)

from codeboost_dagster.core.schemas import GRPO_RUNS, TRAINING_METRICS
from codeboost_dagster.core.training.trl_training import TrainingRun, train_with_trl
from codeboost_dagster.defs import TRANSIENT_FAILURE_RETRY
from codeboost_dagster.metadata import curve_plot, frame_table
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.settings import SettingsResource, reads_settings
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.resources.training_files import TrainingFiles
from codeboost_dagster.resources.verl_launcher import run_verl_job

TRAINING_GROUP = "training"
TRAINING_RUN_TAG = "codeboost/training"
"""Tag of training runs: the instance's concurrency limits read it (dagster_home/dagster.yaml)."""
CURVE_COLUMNS = ["reward_mean", "reward_std", "frac_reward_zero_std", "format_rate", "stdout_ok", "empty_answer", "kl"]


def _step_logger(context: AssetExecutionContext):
    def log(entry: dict) -> None:
        shown = ", ".join(f"{key}={value:.4g}" for key, value in entry.items() if isinstance(value, float))
        context.log.info(f"step {entry.get('step')}: {shown}")

    return log


@multi_asset(
    group_name=TRAINING_GROUP,
    pool="training",
    outs={
        "grpo_training": AssetOut(
            metadata=reads_settings("grpo", "local_training", "model", "reward"),
            kinds={"pandas", "parquet", "pytorch", "huggingface", "ray"},
            description="The trained policy: checkpoint location, trainer config and the dataset version it saw.",
        ),
        "training_metrics": AssetOut(
            metadata=reads_settings("grpo", "local_training", "model", "reward"),
            kinds={"pandas", "parquet", "pytorch", "huggingface", "ray"},
            description="Reward, format rate, KL and loss per training step.",
        ),
    },
)
def grpo_training(
    context: AssetExecutionContext,
    settings: SettingsResource,
    models: ModelCache,
    training_files: TrainingFiles,
    trainer: GRPOTrainer,
    verl_dataset: pd.DataFrame,
):
    """GRPO on the train split with the CodeBoost reward, by TRL here or verl on a Ray cluster."""
    config = settings.for_stage(context)
    splits = verl_dataset.set_index("split")
    version = str(splits.loc["train", "version"])
    backend = trainer.validated_backend()
    output_dir = training_files.path("grpo", backend, version, context.run_id[:8])
    model = models.location(config.model.policy)
    context.log.info(f"training {config.model.policy} with {backend} on dataset {version} into {output_dir}")
    if backend == "trl":
        run: TrainingRun = train_with_trl(
            model,
            splits.loc["train", "path"],
            config.grpo,
            config.local_training,
            config.reward,
            output_dir,
            on_step=_step_logger(context),
        )
        dry_run = False
    else:
        run, dry_run = run_verl_job(context, trainer, config, model, splits, str(output_dir)), trainer.dry_run
    metrics = run.metrics.reindex(columns=TRAINING_METRICS.names)
    summary = pd.DataFrame(
        [
            {
                "backend": backend,
                "model": config.model.policy,
                "dataset_version": version,
                "checkpoint": run.checkpoint,
                "steps": len(metrics),
                "seconds": run.seconds,
                "dry_run": dry_run,
                "trainer_config": json.dumps(run.config, default=str),
            }
        ],
        columns=GRPO_RUNS.names,
    )
    per_step = metrics["step_seconds"].mean() if len(metrics) else float("nan")
    # verl only: the launch checks run before submission, the preflight's in the dry run.
    findings = [*run.config.get("launch_checks", []), *(run.config.get("preflight") or {}).get("findings", [])]
    yield Output(
        summary,
        output_name="grpo_training",
        metadata={
            "backend": backend,
            "checkpoint": MetadataValue.path(run.checkpoint),
            "dataset_version": version,
            "model": config.model.policy,
            "steps": len(metrics),
            "seconds": round(run.seconds, 1),
            "seconds_per_step": round(float(per_step), 2) if pd.notna(per_step) else None,
            "dry_run": dry_run,
            "trainer_config": MetadataValue.json(run.config),
            "training_curve": curve_plot(metrics, "step", CURVE_COLUMNS, f"GRPO ({backend})"),
            **({"verl_findings": frame_table(pd.DataFrame(findings))} if findings else {}),
        },
    )
    yield Output(
        metrics,
        output_name="training_metrics",
        metadata={
            "steps": len(metrics),
            "per_step": frame_table(metrics.round(4)),
            "training_curve": curve_plot(metrics, "step", CURVE_COLUMNS, f"GRPO ({backend})"),
        },
    )


train_policy_job = define_asset_job(
    name="train_policy",
    selection=AssetSelection.groups(TRAINING_GROUP),
    tags={TRAINING_RUN_TAG: "grpo"},
    op_retry_policy=TRANSIENT_FAILURE_RETRY,
    description="GRPO on the current verl dataset (TRL here, or verl on a Ray cluster).",
)
