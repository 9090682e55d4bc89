"""Our reward inside verl's own machinery on a real local Ray head: verl's `run_ppo` starts the task
runner with verl's runtime env, the trainer's `RewardLoopManager` starts its reward-loop workers,
and every rollout goes to a worker the agent loop's way (`codeboost_dagster.verl.reward_loop`).
Also: verl's step lines as Ray forwards them from its task-runner actor reach our parser."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from codeboost_dagster.core.models import model_location
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.tasks.prompts import fenced_block, reference_completion
from codeboost_dagster.ray_head import QUIET_RAY
from codeboost_dagster.verl.config import VerlCluster, verl_overrides
from codeboost_dagster.verl.job import parse_step_line
from tests.helpers import run_in_verl

MAX_SCORE = 0.775
TASKS_PER_KIND = 6


def _attacks(truth: dict) -> dict[str, str]:
    """The cheapest completions: nothing, the prompt's example, a no-op line, an echo of the truth
    written from the answer line (backward) that never reaches the hidden probes."""
    if truth["task_type"] == "forward":
        return {"empty": "", "example": fenced_block("answer_stdout", "3\n") + fenced_block("answer_stderr", "")}
    token = truth["mask_token"]
    echo = f"import sys; sys.stdout.write({truth['stdout']!r}); sys.stderr.write({truth['stderr']!r}); sys.exit(0)"
    return {"empty": "", "noop": fenced_block(f"answer_{token}", "pass"), "echo": fenced_block(f"answer_{token}", echo)}


def _rollouts(train_path: str) -> list[dict]:
    rows = pq.read_table(train_path).to_pandas()
    chosen = pd.concat(
        [rows[rows["data_source"] == source].head(TASKS_PER_KIND) for source in sorted(set(rows["data_source"]))]
    )
    rollouts = []
    for row in chosen.to_dict("records"):
        truth = json.loads(row["reward_model"]["ground_truth"])
        completions = {"reference": reference_completion(truth, row["extra_info"].get("reference_answer"))}
        completions.update(_attacks(truth))
        for kind, completion in completions.items():
            rollouts.append(
                {
                    "kind": kind,
                    "data_source": row["data_source"],
                    "raw_prompt": [dict(message) for message in row["prompt"]],
                    "completion": completion,
                    "ground_truth": row["reward_model"]["ground_truth"],
                    "extra_info": {key: value for key, value in row["extra_info"].items() if key == "task_id"},
                }
            )
    return rollouts


def test_references_earn_full_reward_and_attacks_none_through_verls_reward_loop(
    pipeline, ray_cluster, verl_python, model_cache, tmp_path
):
    storage, _, _ = pipeline
    manifest = pd.read_parquet(storage / "verl_dataset.parquet").set_index("split")
    rollouts = _rollouts(manifest.loc["train", "path"])
    (tmp_path / "rollouts.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rollouts))
    settings = CodeBoostSettings()
    overrides = verl_overrides(
        settings,
        VerlCluster(n_gpus_per_node=1, worker_python=verl_python, experiment_name="reward-loop-test"),
        model_location(settings.model.policy, model_cache, weights=False),
        [manifest.loc["train", "path"]],
        [manifest.loc["val", "path"]],
        str(tmp_path / "checkpoints"),
    )
    report = run_in_verl(
        verl_python,
        "codeboost_dagster.verl.reward_loop",
        ["--rollouts", str(tmp_path / "rollouts.jsonl"), *overrides],
        tmp_path,
        {**QUIET_RAY, "RAY_ADDRESS": ray_cluster.address},
    )
    runner = report["task_runner"]
    assert Path(runner["python"]).resolve() == Path(verl_python).resolve()  # not the Ray head's interpreter
    assert runner["reward"] == "codeboost_dagster.verl.reward" and runner["reward_workers"] == 1
    scores = pd.DataFrame({"kind": [row["kind"] for row in rollouts], "loop": report["loop"]["scores"]})
    assert report["loop"]["scores"] == report["batch"]["scores"]  # verl's loop scores as our batch API does
    assert (scores.loc[scores["kind"] == "reference", "loop"] == MAX_SCORE).all(), scores
    assert (scores.loc[scores["kind"] != "reference", "loop"] < MAX_SCORE).all(), scores
    assert all(
        set(parts) >= {"score", "format", "stdout_ok", "stderr_iou", "infra_error"} for parts in report["loop"]["parts"]
    )
    tally = runner["tally"]  # what the job would attach to the step: every rollout, per group
    assert tally["rollouts"] == len(rollouts)
    assert tally["stdout_ok"] == pytest.approx(
        sum(part["stdout_ok"] for part in report["loop"]["parts"]) / len(rollouts)
    )
    assert tally["frac_reward_zero_std"] == 0.0  # every group holds a full-reward reference and a failed attack


STEP_SCRIPT = """
import sys, time
import numpy as np, ray
from verl.utils.logger.aggregate_logger import LocalLogger

ray.init(runtime_env={"py_executable": sys.executable})

@ray.remote(num_cpus=0)
class TaskRunnerV1:
    def run(self):
        metrics = {"critic/score/mean": np.float64(0.41), "actor/kl_loss": np.float32(0.5), "timing_s/step": 12.5}
        LocalLogger(print_to_console=True).log(metrics, step=3)

ray.get(TaskRunnerV1.remote().run.remote())
time.sleep(3)  # the log monitor forwards the actor's line to this driver
"""


def test_verls_step_lines_as_ray_forwards_them_from_the_task_runner(ray_head, verl_python):
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(ray_head)
    job = client.submit_job(entrypoint=shlex.join([verl_python, "-c", STEP_SCRIPT]))
    deadline = time.monotonic() + 180
    while client.get_job_status(job) not in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    logs = client.get_job_logs(job)
    assert client.get_job_status(job) == JobStatus.SUCCEEDED, logs[-3000:]
    line = next(line for line in logs.splitlines() if "step:3" in line)
    assert line.lstrip("\x1b[0123456789;m").startswith("(TaskRunnerV1 pid="), line  # not a bare `step:` line
    assert parse_step_line(line) == {"step": 3, "critic/score/mean": 0.41, "actor/kl_loss": 0.5, "timing_s/step": 12.5}
