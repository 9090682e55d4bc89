"""The embedded TRL trainer: 2 real GRPO steps of a tiny random model on the sample's train file,
on CPU, through the core function and through the `grpo_training` asset."""

from __future__ import annotations

import json
from dataclasses import replace

import dagster as dg
import pandas as pd
import pytest

from codeboost_dagster.core.settings import CodeBoostSettings, LocalTrainingSettings
from codeboost_dagster.core.training.trl_training import CodeBoostReward, train_with_trl, trl_config
from codeboost_dagster.definitions import defs
from codeboost_dagster.resources.settings import SettingsResource
from codeboost_dagster.resources.trainer import GRPOTrainer
from tests.helpers import make_resources

LOCAL = LocalTrainingSettings(
    max_steps=2, prompts_per_step=2, max_completion_length=16, max_prompt_tokens=512, curriculum="shortest_first"
)
FORWARD_TRUTH = json.dumps({"task_type": "forward", "stdout": "3\n", "stderr": ""})


@pytest.fixture(scope="module")
def train_file(pipeline) -> str:
    storage, _, _ = pipeline
    manifest = pd.read_parquet(storage / "verl_dataset.parquet").set_index("split")
    return manifest.loc["train", "path"]


def test_the_method_hyper_parameters_reach_trls_config():
    settings = CodeBoostSettings()
    config = trl_config(settings.grpo, settings.local_training, "/out", on_gpu=False)
    assert (config["num_generations"], config["temperature"], config["top_p"]) == (5, 1.0, 0.99)
    assert (config["learning_rate"], config["weight_decay"], config["max_grad_norm"]) == (1e-5, 0.01, 1.0)
    assert (config["beta"], config["epsilon"], config["epsilon_high"], config["delta"]) == (0.01, 0.2, 0.3, 3.0)
    assert config["loss_type"] == "dapo" and config["lr_scheduler_type"] == "constant" and config["use_cpu"]
    assert config["per_device_train_batch_size"] % config["num_generations"] == 0


def test_the_reward_function_scores_trl_conversational_completions():
    truth = FORWARD_TRUTH
    logged = {}
    reward = CodeBoostReward(CodeBoostSettings().reward)
    completions = [
        [{"role": "assistant", "content": "```answer_stdout\n3\n```\n```answer_stderr\n```"}],
        [{"role": "assistant", "content": "no idea"}],
    ]
    scores = reward([], completions, ["codeboost_forward"] * 2, [truth] * 2, log_metric=logged.__setitem__)
    assert scores == [pytest.approx(0.775), 0.0]
    assert logged == {"format_rate": 0.5, "stdout_ok": 0.5, "empty_answer": 0.0, "infra_error": 0.0}
    empty = [[{"role": "assistant", "content": "```answer_stdout\n```\n```answer_stderr\n\n```"}]]
    reward([], completions + empty, ["codeboost_forward"] * 3, [truth] * 3, log_metric=logged.__setitem__)
    assert logged["empty_answer"] == pytest.approx(1 / 3)


def test_an_opened_answer_is_scored_from_its_opening_on():
    reward = CodeBoostReward(CodeBoostSettings().reward)
    opening = "```answer_stdout\n"
    scores = reward(
        [],
        ["3\n```\n```answer_stderr\n```", "4\n```"],
        ["codeboost_forward"] * 2,
        [FORWARD_TRUTH] * 2,
        opening=[opening] * 2,
    )
    assert scores == [pytest.approx(0.775), pytest.approx(0.05)]
    assert reward([], ["", " "], ["codeboost_forward"] * 2, [FORWARD_TRUTH] * 2, opening=[opening] * 2) == [0.0, 0.0]


def test_training_rows_fit_the_budgets_and_their_openings_show_no_answer(train_file, model_cache):
    from codeboost_dagster.core.models import load_tokenizer
    from codeboost_dagster.core.training.trl_training import trl_dataset_rows

    tokenizer = load_tokenizer(CodeBoostSettings().model.policy, model_cache)
    verl_rows = pd.read_parquet(train_file)
    local = LocalTrainingSettings(max_answer_tokens=30)  # the default curriculum: shortest first
    rows = trl_dataset_rows(verl_rows, local, tokenizer)
    fitting = [
        row
        for row in verl_rows.to_dict("records")
        if row["extra_info"]["prompt_tokens"] <= local.max_prompt_tokens and row["extra_info"]["answer_tokens"] <= 30
    ]
    assert 0 < len(rows) == len(fitting) < len(verl_rows)
    for row in rows:
        truth = json.loads(row["ground_truth"])
        tag = "answer_stdout" if truth["task_type"] == "forward" else f"answer_{truth['mask_token']}"
        assert row["opening"] == f"```{tag}\n"  # the format only: the same for every task of a kind
        assert row["prompt"].endswith("<|im_start|>assistant\n" + row["opening"])
    in_file_order = trl_dataset_rows(verl_rows, replace(local, curriculum="shuffled"), tokenizer)
    assert [row["ground_truth"] for row in in_file_order] == [row["reward_model"]["ground_truth"] for row in fitting]
    shortest_first = sorted(
        fitting, key=lambda row: (row["extra_info"]["answer_tokens"], row["extra_info"]["prompt_tokens"])
    )
    assert [row["ground_truth"] for row in rows] == [row["reward_model"]["ground_truth"] for row in shortest_first]
    assert not trl_config(CodeBoostSettings().grpo, replace(local, curriculum="shortest_first"), "/o", False)[
        "shuffle_dataset"
    ]
    with pytest.raises(ValueError, match="curriculum"):
        LocalTrainingSettings(curriculum="longest_first")
    closed = trl_dataset_rows(verl_rows, LocalTrainingSettings(max_answer_tokens=30, open_answers=False), tokenizer)
    assert [row["prompt"][-1]["role"] for row in closed] == ["user"] * len(rows)
    assert {row["opening"] for row in closed} == {""}


def test_two_grpo_steps_on_cpu_log_the_reward_and_save_a_checkpoint_that_reloads(tiny_model, train_file, tmp_path):
    from transformers import AutoModelForCausalLM

    settings = CodeBoostSettings()
    steps = []
    run = train_with_trl(tiny_model, train_file, settings.grpo, LOCAL, settings.reward, tmp_path, on_step=steps.append)
    assert run.metrics["step"].tolist() == [1, 2] and [step["step"] for step in steps] == [1, 2]
    assert run.metrics["reward_mean"].notna().all() and run.metrics["format_rate"].notna().all()
    assert run.metrics["frac_reward_zero_std"].between(0, 1).all()
    assert run.metrics["step_seconds"].gt(0).all()
    assert run.metrics["empty_answer"].dropna().between(0, 1).all()
    assert 0 < run.train_rows < len(pd.read_parquet(train_file))
    reloaded = AutoModelForCausalLM.from_pretrained(run.checkpoint)
    assert reloaded.config.num_hidden_layers == 2


def test_grpo_training_asset_records_the_curve_and_the_dataset_version(pipeline, tiny_model, model_cache, tmp_path):
    storage, _, _ = pipeline
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(
        json.dumps(
            {
                "model": {"policy": tiny_model},
                "local_training": {"max_steps": 2, "prompts_per_step": 2, "max_completion_length": 16},
            }
        )
    )
    resources = {
        **make_resources(storage, storage, model_cache),
        "settings": SettingsResource(settings_file=str(settings_file)),
        "trainer": GRPOTrainer(backend="trl"),
    }
    result = dg.materialize(list(defs.assets), selection=["grpo_training", "training_metrics"], resources=resources)
    assert result.success
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    manifest = pd.read_parquet(storage / "verl_dataset.parquet")
    assert metadata["grpo_training"]["dataset_version"].value == manifest["version"].iloc[0]
    assert metadata["grpo_training"]["steps"].value == 2
    assert "data:image/png;base64" in metadata["grpo_training"]["training_curve"].value
    assert metadata["grpo_training"]["trainer_config"].value["num_generations"] == 5
    summary = pd.read_parquet(storage / "grpo_training.parquet")
    assert summary["backend"].tolist() == ["trl"] and not summary["dry_run"].iloc[0]
    assert len(pd.read_parquet(storage / "training_metrics.parquet")) == 2
