"""Training tasks as verl's RLHF dataset: one chat prompt per row, the reward's ground truth beside it.

verl's `RLHFDataset` reads `data_source`, `prompt` (chat messages), `ability`, `reward_model`
({style, ground_truth}) and `extra_info`; the reward manager hands `data_source`, the ground truth
and `extra_info` to `codeboost_dagster.verl.reward.compute_score`. `extra_info.reference_answer` (the
masked line of a backward task) is for inspection and preflight checks; the reward never reads it,
it re-runs the program instead. Prompts over the token budget are
dropped here, counted exactly as verl counts them (the policy's chat template with the generation
prompt), never truncated: a truncated prompt loses its answer instructions (METHOD.md section 5).
So are tasks whose reference answer (the perfect completion, `prompts.reference_completion`) is
longer than the response budget in the policy's tokens: no rollout could earn their reward.
`extra_info.answer_tokens` keeps that length, so a trainer with a smaller budget can select on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from codeboost_dagster.core.frames import records
from codeboost_dagster.core.schemas import VERL_DROPS, VERL_ROWS
from codeboost_dagster.core.tasks.prompts import reference_completion

DATA_SOURCE_PREFIX = "codeboost"
ABILITY = "code"
REWARD_STYLE = "rule"
TRAINING_SPLITS = ("train", "val")
OVER_BUDGET = "prompt_over_token_budget"
ANSWER_OVER_BUDGET = "answer_over_token_budget"


@dataclass(frozen=True)
class VerlDataset:
    """Rows per training split, the tasks dropped for length, and the test tasks held out for evaluation."""

    splits: dict[str, pd.DataFrame]
    dropped: pd.DataFrame
    held_out: int
    prompt_tokens: pd.Series

    @property
    def version(self) -> str:
        """Content hash of every split: equal datasets get equal versions, so trainings can cite it."""
        digest = hashlib.sha256()
        for split in TRAINING_SPLITS:
            digest.update(json.dumps(records(self.splits[split]), sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]


def data_source(task_type: str) -> str:
    """verl groups validation metrics by data source: one per task type."""
    return f"{DATA_SOURCE_PREFIX}_{task_type}"


def chat_messages(prompt: str) -> list[dict[str, str]]:
    """The prompt as the single user turn verl's chat template expects."""
    return [{"role": "user", "content": prompt}]


def prompt_token_counts(prompts: Sequence[str], tokenizer: Any) -> list[int]:
    """Tokens the policy sees for each prompt: chat template plus generation prompt, as verl filters."""
    if not prompts:
        return []
    texts = [
        tokenizer.apply_chat_template(chat_messages(prompt), add_generation_prompt=True, tokenize=False)
        for prompt in prompts
    ]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def answer_token_counts(tasks: pd.DataFrame, tokenizer: Any) -> list[int]:
    """Tokens of each task's reference completion (what a perfect policy writes)."""
    if tasks.empty:
        return []
    texts = [
        reference_completion(json.loads(truth), line)
        for truth, line in zip(tasks["ground_truth"], tasks["masked_line"])
    ]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def _row(task: dict, index: int, tokens: int, answer_tokens: int) -> dict:
    return {
        "data_source": data_source(task["task_type"]),
        "prompt": chat_messages(task["prompt"]),
        "ability": ABILITY,
        "reward_model": {"style": REWARD_STYLE, "ground_truth": task["ground_truth"]},
        "extra_info": {
            "index": index,
            "split": task["split"],
            "task_id": task["task_id"],
            "task_type": task["task_type"],
            "snippet_id": task["snippet_id"],
            "program_id": task["program_id"],
            "error_type": task["error_type"],
            "prompt_tokens": tokens,
            "answer_tokens": answer_tokens,
            "reference_answer": task["masked_line"],
        },
    }


def build_verl_dataset(
    tasks: pd.DataFrame, tokenizer: Any, max_prompt_tokens: int, max_answer_tokens: int
) -> VerlDataset:
    """verl rows for the train and val tasks that fit both budgets; the rest are dropped with a reason."""
    counts = pd.Series(prompt_token_counts(tasks["prompt"].tolist(), tokenizer), index=tasks.index, dtype="int64")
    answers = answer_token_counts(tasks, tokenizer)
    rows: dict[str, list[dict]] = {split: [] for split in TRAINING_SPLITS}
    dropped: list[dict] = []
    held_out = 0
    for task, tokens, answer_tokens in zip(records(tasks), counts.tolist(), answers):
        reason = (
            OVER_BUDGET
            if tokens > max_prompt_tokens
            else (ANSWER_OVER_BUDGET if answer_tokens > max_answer_tokens else None)
        )
        if task["split"] not in rows:
            held_out += 1
        elif reason is not None:
            dropped.append(
                {
                    "task_id": task["task_id"],
                    "split": task["split"],
                    "task_type": task["task_type"],
                    "reason": reason,
                    "prompt_tokens": tokens,
                    "answer_tokens": answer_tokens,
                }
            )
        else:
            split_rows = rows[task["split"]]
            split_rows.append(_row(task, len(split_rows), tokens, answer_tokens))
    return VerlDataset(
        splits={split: pd.DataFrame(split_rows, columns=VERL_ROWS.names) for split, split_rows in rows.items()},
        dropped=pd.DataFrame(dropped, columns=VERL_DROPS.names),
        held_out=held_out,
        prompt_tokens=counts,
    )


def write_verl_split(rows: pd.DataFrame, handle: IO[bytes]) -> None:
    """Write one split as Parquet with verl's nested column types (list of messages, structs)."""
    pq.write_table(pa.Table.from_pandas(rows, schema=VERL_ROWS, preserve_index=False), handle)
