"""Evaluation assets in process: items built from HumanEval in the sandbox, then base vs. trained
(a tiny random model trained for one step) on the same items and held-out tasks."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd

from codeboost_dagster.core.evaluation.heuristics import APPLIES_TO, PREFIX
from codeboost_dagster.definitions import defs
from codeboost_dagster.resources.settings import SettingsResource
from tests.helpers import make_resources

EVALUATION_ASSETS = [
    "grpo_training",
    "training_metrics",
    "evaluation_items",
    "evaluation_item_report",
    "evaluation",
    "evaluation_predictions",
]


def test_base_and_trained_policy_are_scored_on_the_same_items(pipeline, tiny_model, model_cache, tmp_path):
    storage, _, _ = pipeline
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(
        json.dumps(
            {
                "model": {"policy": tiny_model},
                "local_training": {"max_steps": 1, "max_completion_length": 8},
                "evaluation": {"items_per_kind": 2, "heldout_tasks": 3, "max_new_tokens": 12},
            }
        )
    )
    resources = {
        **make_resources(storage, storage, model_cache),
        "settings": SettingsResource(settings_file=str(settings_file)),
    }
    result = dg.materialize(list(defs.assets), selection=EVALUATION_ASSETS, resources=resources)
    assert result.success
    items = pd.read_parquet(storage / "evaluation_items.parquet")
    assert len(items) > 2000 and items["item_id"].is_unique
    report = pd.read_parquet(storage / "evaluation_item_report.parquet")
    assert set(items["problem_id"]) | set(report["problem_id"]) == {f"HumanEval/{number}" for number in range(164)}
    checks = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert checks["evaluation_item_conservation"]
    everything = pd.read_parquet(storage / "evaluation_predictions.parquet")
    heuristic = everything["model"].str.startswith(PREFIX)
    predictions = everything[~heuristic]
    assert len(predictions) == 2 * (2 + 2 + 3)
    assert set(predictions["model"]) == {"base", "trained"}
    asked = predictions[predictions["model"] == "base"]["benchmark"].value_counts()
    for name, benchmarks in APPLIES_TO.items():  # each answer that reads nothing, on every prompt it answers
        rows = everything[everything["model"] == PREFIX + name]
        assert len(rows) == asked.reindex(list(benchmarks)).fillna(0).sum() and set(rows["benchmark"]) <= set(
            benchmarks
        )
    assert everything["score_parts"].map(json.loads).map(bool).all()
    assert (
        everything.loc[everything["benchmark"].str.startswith("codeboost") & everything["format"].gt(0), "prediction"]
        .notna()
        .all()
    )
    assert predictions.groupby("model")["item_id"].apply(tuple).nunique() == 1
    assert predictions["prompt"].str.len().gt(0).all() and predictions["answer"].notna().all()
    assert predictions["answer"].str.startswith("```answer_").all()  # answers opened, as in local training
    assert predictions.loc[~predictions["correct"], "reason"].notna().all()
    tasks = pd.read_parquet(storage / "training_tasks.parquet").set_index("task_id")
    heldout = predictions.loc[
        predictions["benchmark"].str.startswith("codeboost") & (predictions["model"] == "base"), "item_id"
    ]
    assert tasks.loc[heldout, "snippet_id"].is_unique
    summary = pd.read_parquet(storage / "evaluation.parquet")
    assert set(summary["benchmark"]) <= {"cruxeval_output", "cruxeval_input", "codeboost_forward", "codeboost_backward"}
    assert {"cruxeval_output", "cruxeval_input"} <= set(summary["benchmark"])
    assert summary[~summary["model"].str.startswith(PREFIX)].groupby("model")["items"].sum().tolist() == [7, 7]
    metadata = next(
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "evaluation"
    )
    assert "data:image/png;base64" in metadata["comparison"].value
    assert "difference_low" in metadata["intervals"].value
    assert "best_heuristic" in metadata["margins_over_heuristics"].value
    heldout_benchmarks = set(predictions.loc[predictions["benchmark"].str.startswith("codeboost"), "benchmark"])
    assert {f"{benchmark}_pass_at_1_margin" for benchmark in heldout_benchmarks} <= set(metadata)
    assert metadata["contaminated_problems"].value >= 0
    assert metadata["dataset_version"].value == pd.read_parquet(storage / "verl_dataset.parquet")["version"].iloc[0]
