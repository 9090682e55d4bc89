"""Reward throughput for one GRPO step's worth of rollouts: batch-parallel vs. one by one.

    python benchmarks/bench_reward.py [--prompts 512] [--group 5] [--out FILE]

Tasks come from the bundled sample through the real pipeline core (read, filter, augment, run,
build tasks). Each of `prompts` tasks (a quarter backward, as METHOD.md) gets `group` completions:
for forward tasks the recorded output, a wrong output, or a missing block; for backward tasks the
original line, a wrong line, or a missing block. A backward answer is re-run for the visible run
and, when that is reproduced, once per hidden probe. Three ways score the same completions:
- batch: `compute_score_batch` (backward answers re-run together on every sandbox slot);
- concurrent: `compute_score` per completion from a thread pool, the way verl 0.9.1's naive
  reward loop calls it (`run_in_executor` on the default executor);
- sequential, warm sandbox: `compute_score` one completion at a time;
- sequential, fresh interpreter: backward re-runs as `python3 main.py` in a fresh temp dir, one at a
  time (the public release's way), forward scoring identical.
Results (with the machine and date) go to benchmarks/results/reward.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from codeboost_dagster.core.augmentation import augment_snippets
from codeboost_dagster.core.filtering import filter_snippets, raw_snippets_frame
from codeboost_dagster.core.readers import read_dump
from codeboost_dagster.core.sample_dump import write_sample_dump
from codeboost_dagster.core.sandbox import ExecutionResult, Program, open_sandbox
from codeboost_dagster.core.sandbox.local import default_interpreter
from codeboost_dagster.core.settings import CodeBoostSettings, RewardSettings, SandboxLimits
from codeboost_dagster.core.tasks import build_tasks
from codeboost_dagster.core.tasks.backward import score_answers
from codeboost_dagster.core.tasks.prompts import STDERR_TAG, STDOUT_TAG
from codeboost_dagster.core.variant_runs import execute_runs, plan_runs
from codeboost_dagster.verl import reward

RESULTS = Path(__file__).parent / "results" / "reward.md"
TARGET = ">= 1.8x the one-by-one fresh-interpreter way on 2 cores"


def sample_variants(settings: CodeBoostSettings) -> pd.DataFrame:
    """Augmented variants of the bundled sample, made by the pipeline's own core functions."""
    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "sample.jsonl"
        write_sample_dump(dump)
        raw = raw_snippets_frame(read_dump(dump, "sample.jsonl", settings.ingestion))
    kept = filter_snippets(raw, settings.filtering).kept
    return augment_snippets(kept, settings.augmentation).variants


def sample_tasks(settings: CodeBoostSettings) -> pd.DataFrame:
    """Certified training tasks of the bundled sample, built by the pipeline's own core functions."""
    variants = sample_variants(settings)
    with open_sandbox("forkserver", settings.sandbox) as sandbox:
        records = execute_runs(plan_runs(variants), sandbox, "forkserver")
        return build_tasks(
            records, settings.tasks, settings.sandbox, lambda batch, _: sandbox.run_many(batch), settings.reward
        ).tasks


def _block(tag: str, text: str) -> str:
    return f"```{tag}\n{text}```"


def completion(task: dict, kind: str, rng: random.Random) -> str:
    """A model-like completion: the right answer, a wrong one, or one with the block missing."""
    truth = json.loads(task["ground_truth"])
    if task["task_type"] == "forward":
        stdout = truth["stdout"] if kind == "right" else truth["stdout"] + "0\n"
        blocks = [_block(STDOUT_TAG, stdout)] + ([] if kind == "missing" else [_block(STDERR_TAG, truth["stderr"])])
        return "Let me trace the program.\n" + "\n".join(blocks)
    if kind == "missing":
        return "I cannot tell which line is missing."
    line = task["masked_line"] if kind == "right" else rng.choice(truth["masked_code"].split("\n"))
    return f"The missing line is:\n{_block('answer_' + truth['mask_token'], line + chr(10))}"


def rollouts(tasks: pd.DataFrame, prompts: int, group: int, seed: int = 0) -> pd.DataFrame:
    """`prompts` tasks, a quarter backward, each with `group` completions (60% right, 30% wrong, 10% missing)."""
    rng = random.Random(seed)
    backward = tasks[tasks["task_type"] == "backward"]
    forward = tasks[tasks["task_type"] == "forward"]
    n_backward = prompts // 4
    chosen = pd.concat(
        [
            backward.sample(n_backward, replace=True, random_state=seed),
            forward.sample(prompts - n_backward, replace=True, random_state=seed),
        ]
    )
    rows = []
    for task in chosen.to_dict("records"):
        for _ in range(group):
            kind = rng.choices(["right", "wrong", "missing"], weights=[6, 3, 1])[0]
            rows.append(
                {
                    "task_id": task["task_id"],
                    "prompt": task["prompt"],
                    "task_type": task["task_type"],
                    "ground_truth": task["ground_truth"],
                    "solution": completion(task, kind, rng),
                }
            )
    return pd.DataFrame(rows)


def fresh_interpreter_run(program: Program, limits: SandboxLimits) -> ExecutionResult:
    """One program as `python3 main.py` in a fresh temp dir with a timeout (the release's way)."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "main.py").write_text(program.code)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [default_interpreter(), "main.py"],
                cwd=folder,
                input=program.stdin,
                capture_output=True,
                text=True,
                timeout=program.wall_time_s or limits.wall_time_s,
            )
            stdout, stderr, status, code_ = (
                done.stdout,
                done.stderr,
                "ok" if done.returncode == 0 else "error",
                done.returncode,
            )
        except subprocess.TimeoutExpired:
            stdout, stderr, status, code_ = "", "", "timeout", None
        wall = (time.perf_counter() - started) * 1000
        return ExecutionResult(stdout, stderr, code_, status, None, wall, 0.0, "subprocess", "", "", "", "", None)


def score_fresh(frame: pd.DataFrame) -> list[dict]:
    """Score one completion at a time; backward answers re-run in a fresh interpreter each."""
    scores = []
    for row in frame.to_dict("records"):
        truth = json.loads(row["ground_truth"])
        weights = RewardSettings()
        if truth["task_type"] == "forward":
            scores.append(reward.score_forward(row["solution"], truth, weights).to_dict())
            continue
        answer = reward.backward_answer(row["solution"], truth)
        fresh = score_answers(
            [(truth, answer)], lambda batch: [fresh_interpreter_run(p, SandboxLimits()) for p in batch], weights
        )
        scores.append(fresh[0].to_dict())
    return scores


def score_concurrent(frame: pd.DataFrame) -> list[dict]:
    """`compute_score` per completion from asyncio's default executor size, as verl's reward loop does."""
    workers = min(32, (os.cpu_count() or 1) + 4)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(
                lambda pair: reward.compute_score("codeboost", *pair), zip(frame["solution"], frame["ground_truth"])
            )
        )


def write_results(path: Path, lines: list[str]) -> None:
    """Write a benchmark's Markdown section to `path` and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def timed(function: Callable[[], list[dict]]) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    scores = function()
    return time.perf_counter() - started, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=512)
    parser.add_argument("--group", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    load_start = os.getloadavg()
    tasks = sample_tasks(settings)
    frame = rollouts(tasks, args.prompts, args.group)
    sources = ["codeboost"] * len(frame)
    reward.compute_score(
        "codeboost", frame["solution"].iloc[0], frame["ground_truth"].iloc[0]
    )  # warm the shared sandbox
    batch_s, batch = timed(
        lambda: reward.compute_score_batch(sources, frame["solution"].tolist(), frame["ground_truth"].tolist())
    )
    concurrent_s, concurrent = timed(lambda: score_concurrent(frame))
    warm_s, warm = timed(
        lambda: [
            reward.compute_score(s, sol, gt) for s, sol, gt in zip(sources, frame["solution"], frame["ground_truth"])
        ]
    )
    fresh_s, fresh = timed(lambda: score_fresh(frame))
    agree_concurrent = sum(a["score"] == b["score"] for a, b in zip(batch, concurrent)) / len(frame)
    agree_warm = sum(a["score"] == b["score"] for a, b in zip(batch, warm)) / len(frame)
    agree_fresh = sum(abs(a["score"] - b["score"]) < 1e-9 for a, b in zip(batch, fresh)) / len(frame)
    n = len(frame)
    n_backward = int((frame["task_type"] == "backward").sum())
    mean_reward = sum(score["score"] for score in batch) / n
    lines = [
        "## Reward throughput (one GRPO step of rollouts)",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {platform.system()} {platform.release()}, nproc {os.cpu_count()}",
        f"- python: {platform.python_version()}; sandbox: forkserver, one slot per core",
        f"- load average at start / end (1 min): {load_start[0]:.2f} / {os.getloadavg()[0]:.2f}",
        f"- rollouts: {n} ({args.prompts} prompts x {args.group}); backward {n_backward} "
        f"({n_backward / n:.0%}); tasks from the sample: {len(tasks)}; mean reward {mean_reward:.3f}",
        "",
        "| way | seconds | rewards/s | agreement with batch |",
        "|---|---:|---:|---:|",
        f"| batch (`compute_score_batch`) | {batch_s:.2f} | {n / batch_s:,.0f} | - |",
        f"| concurrent `compute_score` (verl's naive reward loop) | {concurrent_s:.2f} | {n / concurrent_s:,.0f} "
        f"| {agree_concurrent:.1%} |",
        f"| one by one, warm sandbox (`compute_score`) | {warm_s:.2f} | {n / warm_s:,.0f} | {agree_warm:.1%} |",
        f"| one by one, fresh interpreter (release) | {fresh_s:.2f} | {n / fresh_s:,.0f} | {agree_fresh:.1%} |",
        "",
        f"Batch vs. fresh interpreter: {fresh_s / batch_s:.1f}x; batch vs. one by one on the warm sandbox: "
        f"{warm_s / batch_s:.1f}x; concurrent vs. fresh interpreter: {fresh_s / concurrent_s:.1f}x. Target {TARGET}.",
        "",
    ]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
