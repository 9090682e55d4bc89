"""Evaluation assets in process: items built from HumanEval in the sandbox, then base vs. trained
(a tiny random model trained for one step) on the same items and held-out tasks."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd

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
    predictions = pd.read_parquet(storage / "evaluation_predictions.parquet")
    assert len(predictions) == 2 * (2 + 2 + 3)
    assert set(predictions["model"]) == {"base", "trained"}
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
    assert summary.groupby("model")["items"].sum().tolist() == [7, 7]
    metadata = next(
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "evaluation"
    )
    assert "data:image/png;base64" in metadata["comparison"].value
    assert "difference_low" in metadata["intervals"].value
    assert metadata["contaminated_problems"].value >= 0
    assert metadata["dataset_version"].value == pd.read_parquet(storage / "verl_dataset.parquet")["version"].iloc[0]
