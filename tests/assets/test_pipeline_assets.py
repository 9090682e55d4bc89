"""The whole data pipeline on the sample dump, in process with a test instance:
ingest -> curate -> augment -> execute, every stage accounting for every row."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from codeboost_dagster.definitions import defs
from codeboost_dagster.partitions import code_dumps
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource
from tests.conftest import make_resources

DUMP = "sample.jsonl"


@pytest.fixture(scope="module")
def pipeline(dumps_root, tmp_path_factory):
    """Materialize every stage once for the module; yields (storage folder, run results)."""
    storage = tmp_path_factory.mktemp("storage")
    settings_file = storage / "settings.toml"
    settings_file.write_text("[augmentation]\nvariants_per_snippet = 1\n[sandbox]\nwall_time_s = 2.0\ncpu_time_s = 2.0\n")
    resources = {
        **make_resources(dumps_root, storage),
        "settings": SettingsResource(settings_file=str(settings_file)),
        "sandbox": SandboxResource(backend="forkserver"),
    }
    assets = list(defs.assets)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, [DUMP])
        ingest = dg.materialize(assets, selection=["raw_snippets", "filtered_snippets", "filter_report"], partition_key=DUMP,
                                instance=instance, resources=resources)
        downstream = dg.materialize(
            assets,
            selection=["curated_snippets", "curation_report", "augmented_variants", "augmentation_report",
                       "execution_records", "training_tasks", "task_report"],
            instance=instance,
            resources=resources,
        )
    yield storage, ingest, downstream


def _table(storage, name: str) -> pd.DataFrame:
    return pd.read_parquet(storage / f"{name}.parquet")


def test_every_stage_succeeds_and_every_check_passes(pipeline):
    _, ingest, downstream = pipeline
    assert ingest.success and downstream.success
    evaluations = downstream.get_asset_check_evaluations()
    assert {evaluation.check_name for evaluation in evaluations} == {
        "clique_property", "curation_conservation", "curation_determinism", "augmentation_accounting",
        "execution_conservation", "task_conservation", "split_by_snippet",
    }
    assert all(evaluation.passed for evaluation in evaluations)


def test_rows_are_conserved_and_traceable_stage_by_stage(pipeline):
    storage, _, _ = pipeline
    filtered = pd.read_parquet(storage / "filtered_snippets" / f"{DUMP}.parquet")
    curated, removed = _table(storage, "curated_snippets"), _table(storage, "curation_report")
    assert len(curated) + len(removed) == len(filtered)
    variants, dropped = _table(storage, "augmented_variants"), _table(storage, "augmentation_report")
    assert len(variants) + len(dropped) == 2 * len(curated)
    records = _table(storage, "execution_records")
    expected_runs = sum(max(1, len(json.loads(cases))) for cases in variants["test_cases"])
    assert len(records) == expected_runs
    assert set(records["variant_id"]) == set(variants["variant_id"])
    traced = records.merge(variants[["variant_id", "snippet_id"]], on="variant_id", suffixes=("", "_v"))
    traced = traced.merge(curated[["snippet_id", "dump", "origin"]], on="snippet_id")
    assert len(traced) == len(records) and (traced["snippet_id"] == traced["snippet_id_v"]).all()
    assert traced["origin"].str.contains(r"^sample.jsonl:row=\d+:origin=algorithms/.+\.py$").all()


def test_execution_records_hold_real_outcomes(pipeline):
    storage, _, _ = pipeline
    records = _table(storage, "execution_records")
    assert set(records["status"]) <= {"ok", "error", "timeout", "memory", "output_limit", "sandbox_error"}
    assert (records["status"] == "ok").mean() > 0.5
    assert (records["command"] == "python3 /sandbox/main.py").all()
    errors = records[records["status"] == "error"]
    assert errors["stderr"].str.contains('File "/sandbox/main.py"').all()


def test_doctest_programs_print_what_their_docs_promise(pipeline):
    storage, _, _ = pipeline
    curated = _table(storage, "curated_snippets")
    variants = _table(storage, "augmented_variants")
    records = _table(storage, "execution_records")
    originals = variants[variants["variant_index"] == 0].merge(curated[["snippet_id", "expected_stdout"]], on="snippet_id")
    joined = originals.merge(records[["variant_id", "stdout", "status"]], on="variant_id").dropna(subset=["expected_stdout"])
    agreement = (joined["stdout"] == joined["expected_stdout"]).mean()
    assert agreement > 0.8


def test_metadata_for_the_ui(pipeline):
    _, _, downstream = pipeline
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in downstream.get_asset_materialization_events()
    }
    assert "data:image/png;base64" in metadata["curated_snippets"]["distance_distribution"].value
    assert "| ok |" in metadata["execution_records"]["by_status"].value
    assert "```diff" in metadata["augmented_variants"]["example_diff"].value


def test_training_tasks_are_error_aware_and_split_by_snippet(pipeline):
    storage, _, _ = pipeline
    records, tasks = _table(storage, "execution_records"), _table(storage, "training_tasks")
    report = _table(storage, "task_report")
    assert len(tasks) + len(report) == len(records)
    assert set(tasks["task_type"]) == {"forward", "backward"}
    assert set(report["reason"]) <= {"status_timeout", "status_memory", "status_output_limit", "status_sandbox_error",
                                     "error_type_not_allowed"}
    assert set(tasks["error_type"].dropna()) <= set(SettingsResource().get().tasks.allowed_error_types)
    assert tasks.groupby("snippet_id")["split"].nunique().max() == 1
