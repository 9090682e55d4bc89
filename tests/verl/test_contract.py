"""Our dataset, config overrides and reward, checked by verl itself (its hydra config and
`validate_config`, `RLHFDataset`, and reward loading with the naive reward manager), on CPU.

verl cannot be imported next to Dagster (see verl/requirements/common.txt), so the checks run in
verl's own environment through `codeboost_dagster.verl.preflight`, as the Ray job would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from codeboost_dagster.core.models import model_location
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.verl.config import VerlCluster, verl_overrides
from tests.helpers import run_in_verl

# Non-default weights, so the scores show that the run's reward settings reach verl's reward:
# a perfect answer earns 0.8 * (1 + 0.5) / 2 + 0.2 = 0.8 (0.775 with the defaults).
SETTINGS = CodeBoostSettings().with_overrides({"reward": {"accuracy_weight": 0.8, "format_weight": 0.2}})
MAX_SCORE = 0.8


@pytest.fixture(scope="module")
def manifest(pipeline) -> pd.DataFrame:
    storage, _, _ = pipeline
    return pd.read_parquet(storage / "verl_dataset.parquet").set_index("split")


def _preflight(verl_python: str, overrides: list[str], rows: int, tmp_path: Path) -> dict:
    return run_in_verl(verl_python, "codeboost_dagster.verl.preflight", ["--rows", str(rows), *overrides], tmp_path)


def _overrides(manifest: pd.DataFrame, model_cache: Path, tmp_path: Path, **data: object) -> list[str]:
    settings = SETTINGS
    overrides = verl_overrides(
        settings,
        VerlCluster(),
        model_location(settings.model.policy, model_cache, weights=False),
        [manifest.loc["train", "path"]],
        [manifest.loc["val", "path"]],
        str(tmp_path / "checkpoints"),
    )
    return overrides + [f"data.{key}={value}" for key, value in data.items()]


def test_verl_accepts_the_config_the_dataset_and_the_reward(verl_python, manifest, model_cache, tmp_path):
    report = _preflight(verl_python, _overrides(manifest, model_cache, tmp_path), rows=6, tmp_path=tmp_path)
    assert report["config_valid"] and report["adv_estimator"] == "grpo" and report["rollout_n"] == 5
    assert report["train_rows"] == manifest.loc["train", "rows"]
    assert report["val_rows"] == manifest.loc["val", "rows"]
    assert report["reward_manager"] == "NaiveRewardManager"
    assert report["reward_function"] == "pkg://codeboost_dagster.verl.reward:compute_score"
    assert report["reward_kwargs"]["format_weight"] == 0.2
    assert report["reward_kwargs"]["workers_per_node"] == 1
    scores = pd.DataFrame(report["scores"])
    assert set(scores["data_source"]) == {"codeboost_forward", "codeboost_backward"}
    reference = scores[scores["completion"] == "reference"]
    assert (reference["score"] == MAX_SCORE).all(), reference[["task_id", "data_source", "score"]]
    assert (scores.loc[scores["completion"] == "empty", "score"] == 0.0).all()
    assert all(set(parts) == {"score", "format", "stdout_ok", "stderr_iou", "infra_error"} for parts in scores["parts"])


def test_verl_counts_prompt_tokens_exactly_as_the_dataset_budget_does(verl_python, manifest, model_cache, tmp_path):
    train_tokens = (
        pq.read_table(manifest.loc["train", "path"]).to_pandas()["extra_info"].map(lambda info: info["prompt_tokens"])
    )
    longest = int(train_tokens.max())
    overrides = _overrides(manifest, model_cache, tmp_path, max_prompt_length=longest - 1)
    report = _preflight(verl_python, overrides, rows=0, tmp_path=tmp_path)
    assert report["train_rows"] == int((train_tokens <= longest - 1).sum()) < manifest.loc["train", "rows"]
