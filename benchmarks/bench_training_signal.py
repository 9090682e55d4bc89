"""Does GRPO get a signal? Sampled groups of the embedded policy, with and without opened answers.

    python benchmarks/bench_training_signal.py [--prompts 8] [--group 4] [--out FILE]

On the bundled sample's shortest train prompts of each task type (`--prompts` of each), samples
`--group` completions per prompt as training does (T and top_p from the settings, the local
completion budget) twice: from the plain prompt, and with the answer's opening line written ahead
of the model's turn (`LocalTrainingSettings.open_answers`). Reports the format score, stdout
exact answers and how many groups have unequal rewards (GRPO's advantage is 0 in a group whose
rewards are all equal). This is the measurement behind `open_answers`. Results go to
benchmarks/results/training_signal.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from bench_reward import sample_tasks, write_results

from codeboost_dagster.core.generation import policy_input
from codeboost_dagster.core.models import load_tokenizer, model_location
from codeboost_dagster.core.prompts import answer_opening
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.verl_dataset import prompt_token_counts
from codeboost_dagster.verl.reward import compute_score_batch

RESULTS = Path(__file__).parent / "results" / "training_signal.md"


def sampled_groups(
    model, tokenizer, tasks: pd.DataFrame, group: int, opened: bool, settings: CodeBoostSettings
) -> dict[str, float]:
    """Sample `group` completions per task; the format score, right answers and unequal groups."""
    import torch

    openings = [
        answer_opening(json.loads(truth)) if opened else "" for truth in tasks["ground_truth"] for _ in range(group)
    ]
    prompts = [prompt for prompt in tasks["prompt"] for _ in range(group)]
    texts = [policy_input(tokenizer, prompt, opening) for prompt, opening in zip(prompts, openings)]
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
    truths = [truth for truth in tasks["ground_truth"] for _ in range(group)]
    scores = compute_score_batch(["codeboost"] * len(completions), completions, truths, None, **vars(settings.reward))
    rewards = [score["score"] for score in scores]
    groups = [rewards[start : start + group] for start in range(0, len(rewards), group)]
    return {
        "completions": len(scores),
        "format_score": sum(score["format"] for score in scores),
        "stdout_exact": sum(score["stdout_ok"] for score in scores),
        "unequal_groups": sum(len(set(rewards)) > 1 for rewards in groups),
        "groups": len(groups),
        "mean_reward": sum(rewards) / len(rewards),
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=8, help="shortest train prompts per task type")
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--models", type=Path, default=Path(".tmp/models"), help="cache of converted models")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    load_start = os.getloadavg()
    torch.manual_seed(settings.local_training.seed)
    tasks = sample_tasks(settings)
    tokenizer = load_tokenizer(settings.model.policy, args.models)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(
        model_location(settings.model.policy, args.models), dtype=torch.float32
    ).eval()
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
        f"- command: `python benchmarks/bench_training_signal.py --prompts {args.prompts} --group {args.group}`",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, {platform.system()} "
        f"{platform.release()}, nproc {os.cpu_count()}; load average at start / end (1 min): "
        f"{load_start[0]:.2f} / {os.getloadavg()[0]:.2f}",
        f"- policy `{settings.model.policy}`, T = {settings.grpo.temperature}, top_p = {settings.grpo.top_p}, "
        f"{settings.local_training.max_completion_length} new tokens; the {args.prompts} shortest train prompts "
        f"of each task type, {args.group} completions each (format score: 1 per answer with every block, "
        "0.5 with the stdout block only)",
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
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
