"""End to end through the command line, headless, with a temp DAGSTER_HOME (as a user would run it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus

from codeboost_dagster.defs.ingestion import code_dumps
from tests.helpers import child_pids, process_running

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _env(dumps_root: Path, storage: Path, model_cache: Path | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "CODEBOOST_DUMPS_DIR": str(dumps_root),
        "CODEBOOST_STORAGE": str(storage),
        "CODEBOOST_MODEL_CACHE": str(model_cache or storage / "models"),
    }


def test_dagster_cli_materializes_the_sample_partition(dumps_root, tmp_path):
    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(code_dumps.name, ["sample.jsonl"])
    command = [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-m",
        "codeboost_dagster.definitions",
        "--select",
        "raw_snippets,filtered_snippets,filter_report,synthesized_snippets,synthesis_report",
        "--partition",
        "sample.jsonl",
    ]
    completed = subprocess.run(
        command, env=_env(dumps_root, tmp_path / "storage"), capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    kept = pd.read_parquet(tmp_path / "storage/filtered_snippets/sample.jsonl.parquet")
    assert len(kept) >= 200


def test_codeboost_run_records_the_run_in_the_instance(dumps_root, model_cache, tiny_model, tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps({"model": {"policy": tiny_model}, "local_training": {"max_steps": 1, "max_completion_length": 8}})
    )
    completed = subprocess.run(
        [str(BIN / "codeboost"), "run", "--dump", "sample.jsonl"],
        env={**_env(dumps_root, tmp_path / "storage", model_cache), "CODEBOOST_SETTINGS_FILE": str(settings)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "filtered_snippets:" in completed.stdout
    assert "verl_dataset:" in completed.stdout
    assert (tmp_path / "storage/verl_dataset.parquet").is_file()
    assert "training_metrics: 1 rows" in completed.stdout
    assert "build_training_data: done in" in completed.stdout and "checks: " in completed.stdout
    assert " - DEBUG - " not in completed.stdout + completed.stderr  # the full logs are in the instance
    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs and all(run.status == DagsterRunStatus.SUCCESS for run in runs)
        assert instance.has_dynamic_partition(code_dumps.name, "sample.jsonl")


def test_codeboost_run_refuses_unsafe_dump_names(tmp_path):
    completed = subprocess.run(
        [str(BIN / "codeboost"), "run", "--dump", "../etc"],
        env=_env(tmp_path, tmp_path / "storage"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "unsafe dump partition key" in completed.stderr


def test_the_summary_reads_drop_reasons_back_from_a_counts_table():
    from codeboost_dagster.metadata import counts_of, counts_table

    assert counts_of(counts_table({"too_short": 2, "syntax_error": 5}, "reason")) == {"syntax_error": 5, "too_short": 2}
    assert counts_of(counts_table({}, "reason")) == {} and counts_of(None) == {}


def _trace(identifier: str, storage: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "codeboost"), "trace", identifier, "--storage", str(storage)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_codeboost_trace_follows_a_task_back_to_its_dump_line(pipeline):
    storage, _, _ = pipeline
    tasks = pd.read_parquet(storage / "training_tasks.parquet")
    variants = pd.read_parquet(storage / "augmented_variants.parquet")
    mutated = tasks[tasks["variant_id"].isin(variants.loc[variants["variant_index"] > 0, "variant_id"])]
    task = (mutated if len(mutated) else tasks).iloc[0]
    completed = _trace(task["task_id"], storage)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    hops = [line.split(" ", 1)[0] for line in lines if not line.startswith(" ")]
    assert hops == ["task", "program", "variant", "canonical", "snippet", "kept"]
    assert task["task_id"] in lines[0] and task["program_id"] in lines[1] and task["variant_id"] in lines[2]
    if len(mutated):
        assert any(line.strip().startswith("@@") for line in lines)  # the mutation's diff
    assert f"snippet {task['snippet_id']}: dump sample.jsonl" in completed.stdout and ", line " in completed.stdout


def test_codeboost_trace_names_the_survivor_a_removed_snippet_lost_to(pipeline):
    storage, _, _ = pipeline
    removed = pd.read_parquet(storage / "curation_report.parquet")
    if removed.empty:
        pytest.skip("the sample's curation removed nothing")
    row = removed.iloc[0]
    completed = _trace(row["snippet_id"], storage)
    assert completed.returncode == 0, completed.stderr
    survivor = row["nearest_survivor_id"] or row["representative_id"]
    assert f"removed by curation ({row['reason']}): lost to {survivor}" in completed.stdout


def test_codeboost_trace_refuses_an_unknown_id(pipeline):
    storage, _, _ = pipeline
    completed = _trace("no-such-id", storage)
    assert completed.returncode == 1 and "is no task, program, variant or snippet id" in completed.stderr


def test_gpu_smoke_runs_the_assets_up_to_training_on_its_own_ray_head(dumps_root, model_cache, verl_python, tmp_path):
    """`make gpu-smoke`'s command, in dry-run mode (no GPU here): its own Ray head, the data jobs,
    then grpo_training submitting verl's preflight with the smoke settings; no Ray left after."""
    completed = subprocess.run(
        [str(BIN / "codeboost"), "gpu-smoke", "--dry-run", "--verl-python", verl_python],
        env=_env(dumps_root, tmp_path / "storage", model_cache),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    assert "train_policy: done in" in completed.stdout
    assert "evaluate_policy" not in completed.stdout  # --until train_policy
    with DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(AssetKey("grpo_training"))
    metadata = event.asset_materialization.metadata
    command = metadata["trainer_config"].value["command"]
    assert metadata["dry_run"].value is True and metadata["backend"].value == "verl"
    for override in (
        "trainer.n_gpus_per_node=1",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "data.train_batch_size=16",
        "trainer.total_training_steps=5",
        f"ray_kwargs.ray_init.runtime_env.py_executable='{verl_python}'",
    ):
        assert override in command
    preflight = metadata["trainer_config"].value["preflight"]
    assert all(finding["ok"] for finding in preflight["findings"]), preflight["findings"]
    temp_dir = next(line for line in completed.stdout.splitlines() if "Ray head for the smoke run" in line)
    temp_dir = temp_dir.rsplit("(logs in ", 1)[1].rstrip(")")
    left = subprocess.run(["pgrep", "-f", temp_dir], capture_output=True, text=True).stdout.split()
    assert not left, f"Ray processes of the smoke run still alive: {left}"


def test_a_killed_gpu_smoke_leaves_no_process_behind(dumps_root, model_cache, verl_python, tmp_path):
    smoke = subprocess.Popen(
        [str(BIN / "codeboost"), "gpu-smoke", "--dry-run", "--verl-python", verl_python],
        env=_env(dumps_root, tmp_path / "storage", model_cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = smoke.stdout.readline()
    assert "Ray head for the smoke run" in line, line
    temp_dir = line.rsplit("(logs in ", 1)[1].strip().rstrip(")")
    deadline = time.monotonic() + 60
    while len(children := child_pids(smoke.pid)) < 2 and time.monotonic() < deadline:  # ray start, codeboost run
        time.sleep(0.2)
    ray_processes = {
        int(pid) for pid in subprocess.run(["pgrep", "-f", temp_dir], capture_output=True, text=True).stdout.split()
    }
    assert len(children) == 2 and ray_processes
    smoke.send_signal(signal.SIGKILL)
    smoke.wait()
    # The run child gets SIGTERM, which Dagster defers until the running step ends (the task stage
    # takes tens of seconds on a loaded machine); the Ray head stops at once.
    deadline = time.monotonic() + 90
    while (left := [pid for pid in children | ray_processes if process_running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"still alive after kill -9 of gpu-smoke: {[_command_line(pid) for pid in left]}"


def _command_line(pid: int) -> str:
    """A process's pid and command line, for a failure message."""
    try:
        return f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return f"{pid}: gone"
