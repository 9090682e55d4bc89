"""Does GRPO get a signal? Sampled groups of the policy, as training samples them.

    python benchmarks/bench_training_signal.py [--measure reading|opening] [--prompts 8] [--group 4]
        [--policy MODEL] [--out FILE]

`--measure reading` (issue 30): the first `--prompts` forward rows the local trainer draws under
each curriculum (`LocalTrainingSettings.curriculum`), `--group` completions each; counts right
stdouts where the true stdout is not empty (what reading earns and the empty answer cannot), right
empty ones, empty answers, and the groups with at least one right printed stdout (GRPO can only
learn to read from those). Results go to benchmarks/results/reading_signal.md.

`--measure opening`: the shortest train prompts of each task type, sampled from the plain prompt
and with the answer's opening line written ahead of the model's turn
(`LocalTrainingSettings.open_answers`); the format score, stdout exact answers and groups with
unequal rewards (GRPO's advantage is 0 in a group whose rewards are all equal). This is the
measurement behind `open_answers`. Results go to benchmarks/results/training_signal.md.

T, top_p and the completion budget are the settings'; `--policy` takes any model the settings'
`model.policy` takes (a GPU user's larger one).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from bench_reward import sample_tasks, write_results

from codeboost_dagster.core.models import load_tokenizer, model_location
from codeboost_dagster.core.settings import CURRICULA, CodeBoostSettings
from codeboost_dagster.core.tasks.prompts import answer_opening
from codeboost_dagster.core.training.generation import policy_input
from codeboost_dagster.core.training.trl_training import is_empty_forward_answer, trl_dataset_rows
from codeboost_dagster.core.training.verl_dataset import build_verl_dataset, prompt_token_counts
from codeboost_dagster.verl.reward import compute_score_batch

RESULTS = Path(__file__).parent / "results" / "training_signal.md"
READING_RESULTS = Path(__file__).parent / "results" / "reading_signal.md"


def sample_scored(model, tokenizer, texts: list[str], openings: list[str], truths: list[str], settings):
    """Sample one completion per policy input as training does (T, top_p, the local completion
    budget); the completions (each from its opening on), their reward dicts and the seconds taken."""
    import torch

    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(
            **batch,
            do_sample=True,
            temperature=settings.grpo.temperature,
            top_p=settings.grpo.top_p,
            max_new_tokens=settings.local_training.max_completion_length,
            pad_token_id=tokenizer.pad_token_id,
        )
    decoded = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    completions = [opening + text for opening, text in zip(openings, decoded)]
    scores = compute_score_batch(["codeboost"] * len(completions), completions, truths, None, **vars(settings.reward))
    return completions, scores, time.perf_counter() - started


def sampled_groups(
    model, tokenizer, tasks: pd.DataFrame, group: int, opened: bool, settings: CodeBoostSettings
) -> dict[str, float]:
    """Sample `group` completions per task; the format score, right answers and unequal groups."""
    openings = [
        answer_opening(json.loads(truth)) if opened else "" for truth in tasks["ground_truth"] for _ in range(group)
    ]
    prompts = [prompt for prompt in tasks["prompt"] for _ in range(group)]
    texts = [policy_input(tokenizer, prompt, opening) for prompt, opening in zip(prompts, openings)]
    truths = [truth for truth in tasks["ground_truth"] for _ in range(group)]
    _, scores, seconds = sample_scored(model, tokenizer, texts, openings, truths, settings)
    rewards = [score["score"] for score in scores]
    groups = [rewards[start : start + group] for start in range(0, len(rewards), group)]
    return {
        "completions": len(scores),
        "format_score": sum(score["format"] for score in scores),
        "stdout_exact": sum(score["stdout_ok"] for score in scores),
        "unequal_groups": sum(len(set(rewards)) > 1 for rewards in groups),
        "groups": len(groups),
        "mean_reward": sum(rewards) / len(rewards),
        "seconds": seconds,
    }


def reading_signal(model, tokenizer, rows: list[dict], group: int, settings: CodeBoostSettings) -> dict[str, float]:
    """Sample `group` completions for each forward training row (the trainer's own rows: policy input
    with the opened answer) and count what reading would earn: right stdouts where the true stdout
    is not empty, right ones where it is (the empty answer gets those), and empty answers."""
    truths = [row["ground_truth"] for row in rows for _ in range(group)]
    completions, scores, seconds = sample_scored(
        model,
        tokenizer,
        [row["prompt"] for row in rows for _ in range(group)],
        [row["opening"] for row in rows for _ in range(group)],
        truths,
        settings,
    )
    printed = [bool(json.loads(truth)["stdout"]) for truth in truths]
    read = [bool(score["stdout_ok"]) and shown for score, shown in zip(scores, printed)]
    return {
        "prompts": len(rows),
        "completions": len(scores),
        "median_answer_chars": float(
            pd.Series([len(json.loads(row["ground_truth"])["stdout"]) for row in rows]).median()
        ),
        "right_printed_stdout": sum(read),
        "right_empty_stdout": sum(bool(score["stdout_ok"]) and not shown for score, shown in zip(scores, printed)),
        "groups_with_a_right_printed_stdout": sum(
            any(read[start : start + group]) for start in range(0, len(read), group)
        ),
        "empty_answers": sum(map(is_empty_forward_answer, completions)),
        "mean_reward": sum(score["score"] for score in scores) / len(scores),
        "seconds": seconds,
    }


def curriculum_rows(
    tasks: pd.DataFrame, tokenizer, settings: CodeBoostSettings, curriculum: str, count: int
) -> list[dict]:
    """The first `count` forward rows the local trainer draws under `curriculum` (for "shuffled", a
    seeded random draw of its rows)."""
    train = tasks[(tasks["split"] == "train") & (tasks["task_type"] == "forward")]
    verl = build_verl_dataset(train, tokenizer, settings.grpo.max_prompt_length, settings.grpo.max_response_length)
    local = dataclasses.replace(settings.local_training, curriculum=curriculum)
    rows = trl_dataset_rows(verl.splits["train"], local, tokenizer)
    if curriculum == "shuffled":
        rows = random.Random(local.seed).sample(rows, min(count, len(rows)))
    return rows[:count]


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", choices=("reading", "opening"), default="reading")
    parser.add_argument("--prompts", type=int, default=8, help="train prompts per task type or curriculum")
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--policy", help="the policy model (default: the settings' embedded one)")
    parser.add_argument("--models", type=Path, default=Path(".tmp/models"), help="cache of converted models")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    policy = args.policy or settings.model.policy
    load_start = os.getloadavg()
    torch.manual_seed(settings.local_training.seed)
    tasks = sample_tasks(settings)
    tokenizer = load_tokenizer(policy, args.models)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_location(policy, args.models), dtype=torch.float32).eval()
    context = [
        f"- command: `python benchmarks/bench_training_signal.py --measure {args.measure} --prompts {args.prompts} "
        f"--group {args.group}" + (f" --policy {args.policy}`" if args.policy else "`"),
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, {platform.system()} "
        f"{platform.release()}, nproc {os.cpu_count()}; load average at start (1 min): {load_start[0]:.2f}",
        f"- policy `{policy}`, T = {settings.grpo.temperature}, top_p = {settings.grpo.top_p}, "
        f"{settings.local_training.max_completion_length} new tokens",
    ]
    if args.measure == "reading":
        table = pd.DataFrame(
            [
                {"curriculum": curriculum, **reading_signal(model, tokenizer, rows, args.group, settings)}
                for curriculum in CURRICULA
                for rows in [curriculum_rows(tasks, tokenizer, settings, curriculum, args.prompts)]
            ]
        )
        lines = [
            "## Does reading pay? Right stdouts among sampled groups, by curriculum",
            "",
            *context,
            f"- the first {args.prompts} forward rows the local trainer draws under each curriculum (its own rows, "
            f"answers opened), {args.group} completions each; a right *printed* stdout is one whose true stdout "
            "is not empty (the empty answer cannot earn it); load average at end "
            f"{os.getloadavg()[0]:.2f}",
            "",
            "| curriculum | prompts | completions | median true stdout (chars) | right printed stdout | right empty "
            "stdout | groups with a right printed stdout | empty answers | mean reward | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *[
                f"| {row.curriculum} | {row.prompts} | {row.completions} | {row.median_answer_chars:g} | "
                f"{row.right_printed_stdout} | {row.right_empty_stdout} | "
                f"{row.groups_with_a_right_printed_stdout} / {row.prompts} | {row.empty_answers} | "
                f"{row.mean_reward:.3f} | {row.seconds:.0f} |"
                for row in table.itertuples()
            ],
            "",
        ]
        write_results(args.out or READING_RESULTS, lines)
        return
    train = tasks[tasks["split"] == "train"].assign(
        tokens=lambda frame: prompt_token_counts(frame["prompt"].tolist(), tokenizer)
    )
    rows = []
    for task_type, group in train.groupby("task_type", sort=True):
        shortest = group.nsmallest(args.prompts, "tokens")
        for opened in (False, True):
            rows.append(
                {
                    "task_type": task_type,
                    "answers_opened": opened,
                    **sampled_groups(model, tokenizer, shortest, args.group, opened, settings),
                }
            )
    table = pd.DataFrame(rows)
    lines = [
        "## Training signal of the embedded policy",
        "",
        *context,
        f"- the {args.prompts} shortest train prompts of each task type, {args.group} completions each (format "
        "score: 1 per answer with every block, 0.5 with the stdout block only)",
        "",
        "| task type | answers opened | completions | format score | stdout exact | groups with unequal rewards "
        "| mean reward | seconds |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {row.task_type} | {row.answers_opened} | {row.completions} | {row.format_score:g} | "
            f"{row.stdout_exact:g} | {row.unequal_groups} / {row.groups} | {row.mean_reward:.3f} | {row.seconds:.0f} |"
            for row in table.itertuples()
        ],
        "",
    ]
    write_results(args.out or RESULTS, lines)


if __name__ == "__main__":
    main()
