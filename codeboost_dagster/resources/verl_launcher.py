"""Submitting verl GRPO to a Ray cluster as a job under Dagster Pipes (dagster-ray's PipesRayJobClient).

The job's log streams into the Dagster run, its step metrics come back as Pipes messages, and a
cancelled Dagster run stops the Ray job (the client's `forward_termination`).
"""

from __future__ import annotations

import shlex
import time

import pandas as pd
from dagster import AssetExecutionContext

from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.trl_training import TrainingRun
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.verl.config import verl_command, verl_overrides
from codeboost_dagster.verl.reward import ON_RAY_ENV

VERL_METRIC_NAMES = {
    "step": "step",
    "critic/score/mean": "reward_mean",
    "actor/kl_loss": "kl",
    "actor/pg_loss": "loss",
    "response_length/mean": "completion_tokens",
    "timing_s/step": "step_seconds",
}


def verl_job_entrypoint(verl_python: str, overrides: list[str], dry_run: bool) -> str:
    """The shell command the Ray job runs: our wrapper around verl's trainer, in verl's interpreter."""
    flags = ["--dry-run"] if dry_run else []
    return shlex.join([verl_python, "-m", "codeboost_dagster.verl.job", *flags, *overrides])


def verl_metrics(messages: list[dict]) -> pd.DataFrame:
    """Per-step metrics from the job's step messages, in our metric names."""
    steps = [message for message in messages if message.get("kind") == "step"]
    return pd.DataFrame(steps).reindex(columns=list(VERL_METRIC_NAMES)).rename(columns=VERL_METRIC_NAMES)


def run_verl_job(
    context: AssetExecutionContext,
    trainer: GRPOTrainer,
    settings: CodeBoostSettings,
    model: str,
    splits: pd.DataFrame,
    checkpoint_dir: str,
) -> TrainingRun:
    """Submit verl (or its dry run) as a Ray job and wait; returns what it reported."""
    from dagster_ray import PipesRayJobClient

    overrides = verl_overrides(
        settings,
        trainer.cluster(f"run-{context.run_id[:8]}"),
        model,
        [str(splits.loc["train", "path"])],
        [str(splits.loc["val", "path"])],
        checkpoint_dir,
    )
    entrypoint = verl_job_entrypoint(trainer.verl_python, overrides, trainer.dry_run)
    context.log.info(f"submitting to Ray at {trainer.ray_address}: {entrypoint}")
    client = PipesRayJobClient(address=trainer.ray_address, poll_interval=1.0)
    started = time.perf_counter()
    # The reward's backward re-runs use the job's per-node sandbox pools (core.scale_out).
    job = {"entrypoint": entrypoint, "runtime_env": {"env_vars": {ON_RAY_ENV: "1"}}}
    invocation = client.run(context=context, submit_job_params=job)
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
        "preflight": preflight,
    }
    train_rows = int(preflight["train_rows"]) if preflight else int(splits.loc["train", "rows"])
    return TrainingRun(checkpoint_dir, verl_metrics(messages), config, seconds, train_rows)
