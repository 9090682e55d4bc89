"""Ingestion assets materialized in process with a test instance, as dagster-io's projects test."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest
from upath import UPath

from codeboost_dagster.core.partition_keys import UnsafePartitionKey
from codeboost_dagster.core.schemas import FILTERED_SNIPPETS
from codeboost_dagster.definitions import defs
from codeboost_dagster.defs import ingestion
from codeboost_dagster.defs.ingestion import code_dumps
from codeboost_dagster.resources.parquet_io import ParquetIOManager
from tests.helpers import make_resources

ASSETS = [ingestion.raw_snippets, ingestion.filtered_snippets]


def _materialize(dumps_root, storage, key: str) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, [key])
        return dg.materialize(
            ASSETS,
            partition_key=key,
            instance=instance,
            resources=make_resources(dumps_root, storage),
            raise_on_error=False,
        )


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == asset:
            return event.materialization.metadata
    raise KeyError(asset)


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    error = result.get_step_failure_events()[0].step_failure_data.error
    return error.to_string()


def test_definitions_load():
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} >= {
        "raw_snippets",
        "filtered_snippets",
        "filter_report",
    }
    assert defs.resolve_job_def("ingest_dump").partitions_def == code_dumps


def test_sample_dump_ingests_with_no_unexplained_loss(dumps_root, tmp_path):
    result = _materialize(dumps_root, tmp_path / "storage", "sample.jsonl")
    assert result.success
    raw = pd.read_parquet(tmp_path / "storage/raw_snippets/sample.jsonl.parquet")
    kept = pd.read_parquet(tmp_path / "storage/filtered_snippets/sample.jsonl.parquet")
    dropped = pd.read_parquet(tmp_path / "storage/filter_report/sample.jsonl.parquet")
    assert len(raw) >= 200 and len(raw) == len(kept) + len(dropped)
    assert all(evaluation.passed for evaluation in result.get_asset_check_evaluations())
    assert _metadata(result, "filtered_snippets")["kept"].value == len(kept)
    assert "data:image/png;base64" in _metadata(result, "filtered_snippets")["lines_distribution"].value
    columns = _metadata(result, "filtered_snippets")["dagster/column_schema"].value.columns
    assert [column.name for column in columns] == FILTERED_SNIPPETS.names  # the UI's Columns tab
    assert {column.name: column.type for column in columns}["lines"] == "int32"


def test_messy_dump_records_every_reason(messy_dump, tmp_path):
    root, expected = messy_dump
    result = _materialize(root, tmp_path / "storage", "messy")
    assert result.success
    report = pd.read_parquet(tmp_path / "storage/filter_report/messy.parquet")
    assert dict(zip(report["origin"], report["reason"])) == {o: r for o, r in expected.items() if r != "kept"}
    reasons_table = _metadata(result, "filter_report")["dropped_by_reason"].value
    assert "| binary_file | 1 |" in reasons_table
    checks = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert checks == {"filter_conservation": True, "unique_snippet_ids": True, "filter_schema": True}


def test_missing_dump_fails_with_a_clear_error(tmp_path):
    (tmp_path / "dumps").mkdir()
    result = _materialize(tmp_path / "dumps", tmp_path / "storage", "gone.jsonl")
    assert not result.success
    assert "gone.jsonl" in _failure_text(result) and "does not exist" in _failure_text(result)


@pytest.mark.parametrize("key", ["../escape", "has space"])
def test_unsafe_partition_keys_are_refused(tmp_path, key):
    (tmp_path / "dumps").mkdir()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, [key])
        result = dg.materialize(
            ASSETS,
            partition_key=key,
            instance=instance,
            resources=make_resources(tmp_path / "dumps", tmp_path / "storage"),
            raise_on_error=False,
        )
    assert not result.success
    assert "unsafe dump partition key" in _failure_text(result)
    assert not (tmp_path / "escape.parquet").exists()


def test_io_manager_refuses_unsafe_partition_paths(tmp_path):
    manager = ParquetIOManager(base_path=UPath(tmp_path))
    assert manager.make_safe_partition_path(UPath(tmp_path), "ok.jsonl") == UPath(tmp_path) / "ok.jsonl"
    with pytest.raises(UnsafePartitionKey):
        manager.make_safe_partition_path(UPath(tmp_path), "../../etc/passwd")
