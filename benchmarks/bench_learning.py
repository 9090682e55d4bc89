"""Learning effect on CPU: GRPO with the local trainer, then base vs trained on held-out tasks.

    python benchmarks/bench_learning.py [--steps 40] [--heldout 200] [--items-per-kind 50]
        [--policy MODEL] [--curriculum shuffled|shortest_first] [--out FILE]

Data: the bundled sample's certified tasks, made by the pipeline's own core functions. The sample
has about 300 snippets and the default test split holds 5% of them, so this benchmark draws the
splits with fractions (train, val, test) = (0.28, 0.02, 0.70) (per snippet, as always: no variant
of a test snippet is trained on) to hold out >= 200 snippets; training sees the rest.
Training: `train_with_trl` with the default settings but `max_steps` (the embedded policy,
SmolLM2-135M-Instruct, on CPU), and `--policy` / `--curriculum` when given (a GPU user runs the
same command with a larger model). Evaluation, greedy, the same items for both models: held-out test
tasks (at most one per snippet, stratified by task type x error type: `select_heldout`) and
CRUXEval-style items from HumanEval; format rate, stdout exact rate (pass@1 on the items), mean
reward, each with a paired 95% bootstrap interval of trained - base. Results (curve, table,
command, machine, date, load) go to benchmarks/results/learning.md, whatever the outcome.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from bench_reward import sample_tasks, write_results

from codeboost_dagster.core.evaluation.heldout import select_heldout
from codeboost_dagster.core.evaluation.heuristics import is_heuristic
from codeboost_dagster.core.evaluation.intervals import heuristic_margins, interval_table
from codeboost_dagster.core.evaluation.items import build_items, humaneval_problems, select_items
from codeboost_dagster.core.evaluation.scoring import (
    answer_and_score,
    evaluation_prompts,
    right_by_output_kind,
    summarize,
)
from codeboost_dagster.core.models import load_tokenizer, model_location
from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.settings import CURRICULA, CodeBoostSettings
from codeboost_dagster.core.training.trl_training import train_with_trl
from codeboost_dagster.core.training.verl_dataset import build_verl_dataset, write_verl_split

RESULTS = Path(__file__).parent / "results" / "learning.md"
PREDICTIONS = Path(__file__).parent / "results" / "learning_predictions.parquet"
SPLIT_FRACTIONS = (0.28, 0.02, 0.70)
HELDOUT = "codeboost_heldout"
"""Both held-out task kinds pooled, beside their own rows."""
CURVE = [
    "step",
    "reward_mean",
    "reward_std",
    "frac_reward_zero_std",
    "format_rate",
    "stdout_ok",
    "empty_answer",
    "kl",
    "completion_tokens",
    "step_seconds",
]
GOAL_METRICS = ("format_rate", "mean_reward")


def bench_settings(steps: int, policy: str | None, curriculum: str | None) -> CodeBoostSettings:
    """The defaults, with the benchmark's splits and step count, and the policy and curriculum when given."""
    settings = CodeBoostSettings()
    local = settings.local_training
    return dataclasses.replace(
        settings,
        tasks=dataclasses.replace(settings.tasks, split_fractions=SPLIT_FRACTIONS),
        local_training=dataclasses.replace(local, max_steps=steps, curriculum=curriculum or local.curriculum),
        model=dataclasses.replace(settings.model, policy=policy or settings.model.policy),
    )


def markdown(frame: pd.DataFrame) -> list[str]:
    """A frame as Markdown table lines (floats to 3 places)."""
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        lines.append(
            "| " + " | ".join(f"{value:.3f}" if isinstance(value, float) else str(value) for value in row) + " |"
        )
    return lines


def evaluate(
    locations: dict[str, str],
    items: pd.DataFrame,
    heldout: pd.DataFrame,
    train_tasks: pd.DataFrame,
    settings: CodeBoostSettings,
) -> pd.DataFrame:
    """Every model's and heuristic's scored answers on the same prompts (EVALUATION_PREDICTIONS rows),
    plus the models' rows pooled over both task types (heuristics answer one type each)."""
    prompts = evaluation_prompts(items, heldout)

    def progress(name: str):
        return lambda done, total: print(f"{name}: {done}/{total}", flush=True)

    with open_sandbox("forkserver", settings.sandbox) as sandbox:
        predictions = answer_and_score(
            locations, prompts, items, heldout, sandbox, settings, progress, train_tasks=train_tasks
        )
    models = ~predictions["model"].map(is_heuristic)
    pooled = predictions[predictions["benchmark"].str.startswith("codeboost_") & models].assign(benchmark=HELDOUT)
    return pd.concat([predictions, pooled], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--heldout", type=int, default=200)
    parser.add_argument("--items-per-kind", type=int, default=50)
    parser.add_argument(
        "--policy", help="the policy model (default: the settings' embedded one; a GPU user's larger one)"
    )
    parser.add_argument("--curriculum", choices=CURRICULA, help="default: the settings'")
    parser.add_argument("--models", type=Path, default=Path(".tmp/models"), help="cache of converted models")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--predictions", type=Path, default=PREDICTIONS, help="where every evaluated completion is saved (Parquet)"
    )
    args = parser.parse_args()
    settings = bench_settings(args.steps, args.policy, args.curriculum)
    load_start, started = os.getloadavg(), time.perf_counter()

    tasks = sample_tasks(settings)
    tokenizer = load_tokenizer(settings.model.policy, args.models)
    base = model_location(settings.model.policy, args.models)
    dataset = build_verl_dataset(tasks, tokenizer, settings.grpo.max_prompt_length, settings.grpo.max_response_length)
    heldout = select_heldout(tasks[tasks["split"] == "test"], args.heldout, settings.evaluation.seed)
    with open_sandbox("forkserver", settings.sandbox) as sandbox:
        items = select_items(build_items(humaneval_problems(), sandbox).items, args.items_per_kind)
    print(
        f"{len(tasks)} tasks, {len(dataset.splits['train'])} train rows, {len(heldout)} held-out tasks, "
        f"{len(items)} items",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as scratch:
        train_file = Path(scratch) / "train.parquet"
        with train_file.open("wb") as handle:
            write_verl_split(dataset.splits["train"], handle)
        training_started = time.perf_counter()
        run = train_with_trl(
            base,
            train_file,
            settings.grpo,
            settings.local_training,
            settings.reward,
            Path(scratch) / "grpo",
            on_step=lambda entry: print(
                {key: round(value, 4) if isinstance(value, float) else value for key, value in entry.items()},
                flush=True,
            ),
        )
        training_seconds = time.perf_counter() - training_started
        predictions = evaluate(
            {"base": base, "trained": run.checkpoint}, items, heldout, tasks[tasks["split"] == "train"], settings
        )
    args.predictions.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_parquet(args.predictions, index=False)

    evaluation = settings.evaluation
    intervals = interval_table(predictions, evaluation.bootstrap_resamples, evaluation.confidence, evaluation.seed)
    margins = heuristic_margins(predictions, evaluation.bootstrap_resamples, evaluation.confidence, evaluation.seed)
    summary = summarize(predictions)
    goal = intervals[(intervals["benchmark"] == HELDOUT) & intervals["metric"].isin(GOAL_METRICS)]
    reached = bool((goal["difference_low"] > 0).all())
    strata = (heldout["task_type"] + "/" + heldout["error_type"].fillna("none")).value_counts()
    local = settings.local_training
    lines = [
        "## Learning effect (CPU, embedded policy)",
        "",
        f"- command: `python benchmarks/bench_learning.py --steps {args.steps} --heldout {args.heldout} "
        f"--items-per-kind {args.items_per_kind}"
        + "".join(
            f" --{name} {value}" for name, value in (("policy", args.policy), ("curriculum", args.curriculum)) if value
        )
        + "`",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, {platform.system()} "
        f"{platform.release()}, nproc {os.cpu_count()}, Python {sys.version.split()[0]}",
        f"- load average at start / end (1 min): {load_start[0]:.2f} / {os.getloadavg()[0]:.2f}",
        f"- policy: `{settings.model.policy}`; {args.steps} GRPO steps of {local.prompts_per_step} prompts x "
        f"{settings.grpo.group_size} completions ({local.max_completion_length} tokens, answers opened: "
        f"{local.open_answers}), curriculum {local.curriculum}, lr {local.learning_rate:g}, "
        f"KL {settings.grpo.kl_coef}; training "
        f"{training_seconds / 60:.1f} min, {run.train_rows} train rows within the budgets; total "
        f"{(time.perf_counter() - started) / 60:.1f} min",
        f"- evaluation: greedy, {evaluation.max_new_tokens} new tokens, answers opened: {evaluation.open_answers}; "
        f"{len(heldout)} held-out test tasks ({heldout['snippet_id'].nunique()} snippets; strata "
        + ", ".join(f"{name} {count}" for name, count in strata.items())
        + f"), {len(items)} CRUXEval-style items; splits {SPLIT_FRACTIONS} per snippet",
        f"- goal (held-out format rate and mean reward rise, {evaluation.confidence:.0%} interval of the "
        f"difference above 0): **{'reached' if reached else 'not reached'}**",
        "",
        "Base vs trained, paired bootstrap of trained - base:",
        "",
        *markdown(
            intervals[
                [
                    "benchmark",
                    "metric",
                    "items",
                    "base",
                    "trained",
                    "difference",
                    "difference_low",
                    "difference_high",
                    "excludes_zero",
                ]
            ]
        ),
        "",
        "Each model against the best answer that reads nothing (heuristics: the empty answer, the best "
        "constant of the train split, the last call's literal argument; for backward tasks the prompt's example "
        f"line and a no-op), paired margin model - heuristic; every completion is in "
        f"`{os.path.relpath(args.predictions)}`:",
        "",
        *markdown(margins),
        "",
        "What each model and heuristic gets right on the held-out forward tasks, by the kind of true stdout:",
        "",
        *markdown(right_by_output_kind(predictions, heldout)),
        "",
        "Training curve (per step):",
        "",
        *markdown(run.metrics.reindex(columns=CURVE)),
        "",
        "Summary:",
        "",
        *markdown(summary),
        "",
    ]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
