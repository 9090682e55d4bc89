"""`grpo_training` with the verl backend against a real local Ray head (started here, loopback, own
temp dir): the job goes out through dagster-ray's PipesRayJobClient, runs verl's preflight in
verl's environment, starts verl's task-runner actor and reward loop there, reports back through
Pipes; a run that would not fit is refused before submission; a cancelled run stops the Ray job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from codeboost_dagster.definitions import defs
from codeboost_dagster.resources.settings import SettingsResource
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.resources.verl_launcher import verl_job_entrypoint
from tests.helpers import make_resources

BIN = Path(sys.executable).parent
MAX_SCORE = 0.775


@pytest.fixture(scope="module")
def small_batches(tmp_path_factory) -> Path:
    """Settings whose rollout batch fits the sample's train split (the paper's 512 does not)."""
    path = tmp_path_factory.mktemp("settings") / "settings.toml"
    path.write_text("[grpo]\nrollout_batch_prompts = 8\nupdate_batch_prompts = 4\n")
    return path


def _trainer(ray_head: str, verl_python: str) -> GRPOTrainer:
    return GRPOTrainer(backend="verl", ray_address=ray_head, verl_python=verl_python, dry_run=True)


def test_the_job_entrypoint_quotes_every_override():
    entrypoint = verl_job_entrypoint(
        "/opt/verl env/python", ["data.train_files=['/a b/train.parquet']"], True, "tally-1", "2.60.0"
    )
    assert entrypoint.startswith(
        "'/opt/verl env/python' -m codeboost_dagster.verl.job --dry-run --tally tally-1 --driver-ray 2.60.0 "
    )
    assert "'data.train_files=['\"'\"'/a b/train.parquet'\"'\"']'" in entrypoint


def test_dry_run_goes_through_a_ray_job_and_reports_verls_preflight(
    pipeline, ray_head, verl_python, model_cache, small_batches
):
    from ray.job_submission import JobStatus, JobSubmissionClient

    storage, _, _ = pipeline
    resources = {
        **make_resources(storage, storage, model_cache),
        "trainer": _trainer(ray_head, verl_python),
        "settings": SettingsResource(settings_file=str(small_batches)),
    }
    result = dg.materialize(list(defs.assets), selection=["grpo_training", "training_metrics"], resources=resources)
    assert result.success
    metadata = next(
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "grpo_training"
    )
    config = metadata["trainer_config"].value
    assert metadata["dry_run"].value is True and metadata["backend"].value == "verl"
    assert config["command"][:3] == ["python3", "-m", "verl.trainer.main_ppo"]
    assert "algorithm.adv_estimator='grpo'" in config["command"]
    preflight = config["preflight"]
    manifest = pd.read_parquet(storage / "verl_dataset.parquet").set_index("split")
    assert preflight["config_valid"] and preflight["train_rows"] == manifest.loc["train", "rows"]
    reference = [score["score"] for score in preflight["scores"] if score["completion"] == "reference"]
    assert reference and all(score == MAX_SCORE for score in reference)
    assert {finding["name"] for finding in config["launch_checks"]} >= {"rollout_tensor_parallel", "attention_kernel"}
    findings = {finding["name"]: finding for finding in preflight["findings"]}
    assert all(finding["ok"] for finding in findings.values()), findings
    # verl's actors ran in verl's interpreter (not the Ray head's, which has no verl) and scored
    # the same completions through the reward-loop workers as the manager did in the job.
    assert Path(preflight["actor"]["python"]).resolve() == Path(verl_python).resolve()
    assert {"actors_run_verl", "reward_loop_agrees", "ray_versions_equal"} <= set(findings)
    assert "verl_findings" in metadata
    job = JobSubmissionClient(ray_head).get_job_info(config["ray_job_id"])
    assert job.status == JobStatus.SUCCEEDED


def test_a_train_split_smaller_than_one_batch_is_refused_before_submission(
    pipeline, ray_head, verl_python, model_cache
):
    from ray.job_submission import JobSubmissionClient

    storage, _, _ = pipeline
    jobs_before = len(JobSubmissionClient(ray_head).list_jobs())
    resources = {**make_resources(storage, storage, model_cache), "trainer": _trainer(ray_head, verl_python)}
    result = dg.materialize(
        list(defs.assets), selection=["grpo_training", "training_metrics"], resources=resources, raise_on_error=False
    )
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    cause = failure.step_failure_data.error.cause
    assert cause.cls_name == "LaunchRefused"
    assert "train_rows_fill_a_batch" in cause.message and "512 prompts per rollout batch" in cause.message
    assert len(JobSubmissionClient(ray_head).list_jobs()) == jobs_before  # nothing was submitted


def test_a_cancelled_run_stops_the_ray_job(pipeline, ray_head, verl_python, model_cache, small_batches, tmp_path):
    from ray.job_submission import JobStatus, JobSubmissionClient

    storage, _, _ = pipeline
    client = JobSubmissionClient(ray_head)
    before = {job.submission_id for job in client.list_jobs()}
    env = {
        **os.environ,
        "CODEBOOST_STORAGE": str(storage),
        "CODEBOOST_MODEL_CACHE": str(model_cache),
        "CODEBOOST_TRAINER": "verl",
        "CODEBOOST_RAY_ADDRESS": ray_head,
        "CODEBOOST_VERL_PYTHON": verl_python,
        "CODEBOOST_TRAINER_DRY_RUN": "1",
        "CODEBOOST_SETTINGS_FILE": str(small_batches),
    }
    run = subprocess.Popen(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "codeboost_dagster.definitions",
            "--select",
            "grpo_training,training_metrics",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    job = None
    while job is None and time.monotonic() < deadline and run.poll() is None:
        running = [
            job for job in client.list_jobs() if job.submission_id not in before and job.status == JobStatus.RUNNING
        ]
        job = running[0] if running else None
        time.sleep(0.5)
    assert job is not None, run.communicate(timeout=60)[0][-3000:]
    run.send_signal(signal.SIGINT)
    output = run.communicate(timeout=120)[0]
    deadline = time.monotonic() + 60
    while client.get_job_status(job.submission_id) not in (JobStatus.STOPPED, JobStatus.FAILED, JobStatus.SUCCEEDED):
        assert time.monotonic() < deadline, output[-3000:]
        time.sleep(0.5)
    assert client.get_job_status(job.submission_id) == JobStatus.STOPPED, output[-3000:]
    assert "terminat" in output.lower(), output[-3000:]
