"""End to end through the command line, headless, with a temp DAGSTER_HOME (as a user would run it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from codeboost_dagster.partitions import code_dumps

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
        "raw_snippets,filtered_snippets,filter_report",
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
    from codeboost_dagster.assets.metadata import counts_of, counts_table

    assert counts_of(counts_table({"too_short": 2, "syntax_error": 5}, "reason")) == {"syntax_error": 5, "too_short": 2}
    assert counts_of(counts_table({}, "reason")) == {} and counts_of(None) == {}
