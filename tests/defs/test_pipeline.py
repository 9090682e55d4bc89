"""The whole data pipeline on the sample dump, in process with a test instance (the session's
`pipeline` fixture): ingest -> curate -> augment -> execute -> tasks -> verl dataset, every stage
accounting for every row."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq

from codeboost_dagster.core.schemas import VERL_ROWS
from codeboost_dagster.resources.settings import SettingsResource
from tests.helpers import DUMP


def _table(storage, name: str) -> pd.DataFrame:
    return pd.read_parquet(storage / f"{name}.parquet")


def test_every_stage_succeeds_and_every_check_passes(pipeline):
    _, ingest, downstream = pipeline
    assert ingest.success and downstream.success
    evaluations = downstream.get_asset_check_evaluations()
    assert {evaluation.check_name for evaluation in evaluations} == {
        "clique_property",
        "curation_conservation",
        "curation_determinism",
        "augmentation_accounting",
        "execution_conservation",
        "task_conservation",
        "split_by_snippet",
        "exploit_audit",
        "verl_conservation",
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


def test_the_selection_signatures_and_components_are_stored(pipeline):
    storage, _, _ = pipeline
    curated, removed = _table(storage, "curated_snippets"), _table(storage, "curation_report")
    signatures = _table(storage, "curation_signatures")
    assert signatures["snippet_id"].tolist() == curated["snippet_id"].tolist()
    assert signatures["lsh_fingerprint"].nunique() == 1 and signatures["band_keys"].map(len).eq(47).all()
    near = removed[removed["reason"] == "near_duplicate"]
    assert (near["component"] >= 0).all() and near["nearest_survivor_id"].isin(curated["snippet_id"]).all()


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
    originals = variants[variants["variant_index"] == 0].merge(
        curated[["snippet_id", "expected_stdout"]], on="snippet_id"
    )
    joined = originals.merge(records[["variant_id", "stdout", "status"]], on="variant_id").dropna(
        subset=["expected_stdout"]
    )
    agreement = (joined["stdout"] == joined["expected_stdout"]).mean()
    assert agreement > 0.8


def test_metadata_for_the_ui(pipeline):
    _, _, downstream = pipeline
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in downstream.get_asset_materialization_events()
    }
    curation = metadata["curated_snippets"]
    assert "data:image/png;base64" in curation["distance_distribution"].value
    assert "data:image/png;base64" in curation["component_size_distribution"].value
    assert curation["lsh_candidate_pairs"].value >= curation["verified_near_duplicate_pairs"].value
    assert curation["lsh_recall_estimate"].value == 1.0 and curation["fallback_components"].value == 0
    assert metadata["curation_signatures"]["snippets"].value == curation["selected"].value
    assert "| ok |" in metadata["execution_records"]["by_status"].value
    assert "```diff" in metadata["augmented_variants"]["example_diff"].value
    tasks = metadata["training_tasks"]
    assert 0.5 < tasks["load_bearing_share"].value <= 1.0
    assert "| print_and_exit " in tasks["exploit_audit"].value
    assert "data:image/png;base64" in tasks["probes_per_task_plot"].value
    assert tasks["nondeterministic_dropped"].value == 0
    for stage, kinds in (("execution_records", {"execution"}), ("training_tasks", {"determinism", "probes"})):
        slot_time = [record.data for record in metadata[stage]["slot_time"].records]
        assert kinds <= {row["kind"] for row in slot_time}
        assert abs(sum(row["share"] for row in slot_time) - 1) < 0.01
        assert "data:image/png;base64" in metadata[stage]["slot_time_plot"].value
        assert 0 <= metadata[stage]["slot_share_stopped"].value < 1


def test_programs_are_canonical_and_trace_back_to_their_lines(pipeline):
    storage, _, _ = pipeline
    curated = _table(storage, "curated_snippets").set_index("snippet_id")
    variants = _table(storage, "augmented_variants")
    tasks = _table(storage, "training_tasks")
    assert not variants["code"].str.contains(">>>").any()
    assert not tasks["prompt"].str.contains(">>>").any()
    for row in variants.head(50).itertuples():
        original = curated.loc[row.snippet_id, "code"].split("\n")
        for line, source in zip(row.code.split("\n"), json.loads(row.source_lines)):
            if source is not None and row.variant_index == 0:
                assert original[source - 1].startswith(line.rstrip()) or line.strip() == ""


def test_training_tasks_are_error_aware_and_split_by_snippet(pipeline):
    storage, _, _ = pipeline
    records, tasks = _table(storage, "execution_records"), _table(storage, "training_tasks")
    report = _table(storage, "task_report")
    assert len(tasks) + len(report) == len(records)
    assert set(tasks["task_type"]) == {"forward", "backward"}
    assert set(report["reason"]) <= {
        "status_timeout",
        "status_memory",
        "status_output_limit",
        "status_sandbox_error",
        "error_type_not_allowed",
        "duplicate_outputs",
        "nondeterministic",
        "empty_output",
        "no_probe",
        "probe_not_reproduced",
        "exploitable",
    }
    assert set(tasks["error_type"].dropna()) <= set(SettingsResource().get().tasks.allowed_error_types)
    assert tasks.groupby("snippet_id")["split"].nunique().max() == 1


def test_verl_dataset_files_hold_every_train_and_val_task_within_the_budget(pipeline):
    storage, _, downstream = pipeline
    tasks, manifest = _table(storage, "training_tasks"), _table(storage, "verl_dataset")
    dropped = _table(storage, "verl_dataset_report")
    assert manifest["split"].tolist() == ["train", "val"]
    assert manifest["version"].nunique() == 1
    budget = int(manifest["max_prompt_tokens"].iloc[0])
    written = {}
    for entry in manifest.to_dict("records"):
        table = pq.read_table(entry["path"])
        assert table.schema.equals(VERL_ROWS)
        rows = table.to_pandas()
        assert len(rows) == entry["rows"] == entry["forward"] + entry["backward"]
        assert (rows["extra_info"].map(lambda info: info["split"]) == entry["split"]).all()
        assert rows["extra_info"].map(lambda info: info["prompt_tokens"]).max() <= budget
        written[entry["split"]] = rows
    task_ids = {info["task_id"] for rows in written.values() for info in rows["extra_info"]}
    training = tasks[tasks["split"].isin(["train", "val"])]
    assert task_ids | set(dropped["task_id"]) == set(training["task_id"])
    materialization = next(
        event.materialization
        for event in downstream.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "verl_dataset"
    )
    assert materialization.metadata["held_out_test_tasks"].value == int((tasks["split"] == "test").sum())
    assert "data:image/png;base64" in materialization.metadata["prompt_tokens"].value
    assert materialization.tags["dagster/data_version"] == manifest["version"].iloc[0]
