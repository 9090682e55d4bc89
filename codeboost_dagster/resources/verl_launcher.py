"""Submitting verl GRPO to a Ray cluster as a job under Dagster Pipes (dagster-ray's PipesRayJobClient).

Before submission the launch checks (`verl.launch_checks`) compare the settings and the cluster
shape with the model, the train split and the GPU lock; a run that would stop on the cluster is
refused here. The job's log streams into the Dagster run, its step metrics (verl's and the reward
tally's) come back as Pipes messages, and a cancelled Dagster run stops the Ray job (the
client's `forward_termination`).
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from importlib import metadata

import pandas as pd
from dagster import AssetExecutionContext

from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.training.trl_training import TrainingRun
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.verl.config import reward_tally_name, verl_command, verl_overrides
from codeboost_dagster.verl.job import REWARD_PARTS_PREFIX
from codeboost_dagster.verl.launch_checks import launch_findings, refuse_unfit

VERL_METRIC_NAMES = {
    "step": "step",
    "critic/score/mean": "reward_mean",
    "actor/kl_loss": "kl",
    "actor/pg_loss": "loss",
    "response_length/mean": "completion_tokens",
    "timing_s/step": "step_seconds",
    **{
        f"{REWARD_PARTS_PREFIX}{name}": name
        for name in ("reward_std", "frac_reward_zero_std", "format_rate", "stdout_ok", "infra_error_rate")
    },
}
"""verl's step keys and the reward tally's, as `training_metrics` names them."""


def verl_job_entrypoint(
    verl_python: str, overrides: list[str], dry_run: bool, tally: str, driver_ray: str | None = None
) -> str:
    """The shell command the Ray job runs: our wrapper around verl's trainer, in verl's interpreter."""
    flags = ["--dry-run"] if dry_run else []
    flags += ["--tally", tally, *(["--driver-ray", driver_ray] if driver_ray else [])]
    return shlex.join([verl_python, "-m", "codeboost_dagster.verl.job", *flags, *overrides])


def verl_metrics(messages: list[dict]) -> pd.DataFrame:
    """Per-step metrics from the job's step messages, in our metric names. The step total is
    verl's `critic/score/mean`; a step line without it (step 0: the validation before training)
    takes the tally's mean."""
    steps = pd.DataFrame([message for message in messages if message.get("kind") == "step"])
    metrics = steps.reindex(columns=list(VERL_METRIC_NAMES)).rename(columns=VERL_METRIC_NAMES)
    tallied = f"{REWARD_PARTS_PREFIX}reward_mean"
    if tallied in steps:
        metrics["reward_mean"] = metrics["reward_mean"].fillna(steps[tallied])
    return metrics


def run_verl_job(
    context: AssetExecutionContext,
    trainer: GRPOTrainer,
    settings: CodeBoostSettings,
    model: str,
    splits: pd.DataFrame,
    checkpoint_dir: str,
) -> TrainingRun:
    """Check the launch, submit verl (or its dry run) as a Ray job and wait; returns what it reported.
    Raises `LaunchRefused` before submitting when a launch check fails."""
    from dagster_ray import PipesRayJobClient

    cluster = trainer.cluster(f"run-{context.run_id[:8]}")
    findings = launch_findings(settings.grpo, cluster, model, int(splits.loc["train", "rows"]))
    for finding in findings:
        context.log.info(f"launch check {finding.name}: {'ok' if finding.ok else 'FAILS'} ({finding.detail})")
    refuse_unfit(findings)
    overrides = verl_overrides(
        settings,
        cluster,
        model,
        [str(splits.loc["train", "path"])],
        [str(splits.loc["val", "path"])],
        checkpoint_dir,
    )
    entrypoint = verl_job_entrypoint(
        trainer.verl_python, overrides, trainer.dry_run, reward_tally_name(cluster), metadata.version("ray")
    )
    context.log.info(f"submitting to Ray at {trainer.ray_address}: {entrypoint}")
    client = PipesRayJobClient(address=trainer.ray_address, poll_interval=1.0)
    started = time.perf_counter()
    invocation = client.run(context=context, submit_job_params={"entrypoint": entrypoint})
    seconds = time.perf_counter() - started
    messages = [message for message in invocation.get_custom_messages() if isinstance(message, dict)]
    preflight = next((message for message in messages if message.get("kind") == "preflight"), None)
    finished = next((message for message in messages if message.get("kind") == "finished"), None)
    if trainer.dry_run and preflight is None:
        raise RuntimeError("the verl dry run finished without reporting its preflight")
    if not trainer.dry_run and (finished is None or finished["returncode"] != 0):
        raise RuntimeError(f"verl training failed: {finished}")
    job_id = invocation.metadata.get("Ray Job ID")
    config = {
        "command": verl_command(overrides),
        "ray_address": trainer.ray_address,
        "ray_job_id": job_id.value if job_id is not None else None,
        "launch_checks": [dataclasses.asdict(finding) for finding in findings],
        "preflight": preflight,
    }
    train_rows = int(preflight["train_rows"]) if preflight else int(splits.loc["train", "rows"])
    return TrainingRun(checkpoint_dir, verl_metrics(messages), config, seconds, train_rows)
