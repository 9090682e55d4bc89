"""Reward throughput through verl 0.9.1's own reward loop vs. our batch API, on the same rollouts.

    python benchmarks/bench_reward_loop.py [--prompts 512] [--group 5] [--workers 1 2 8] [--out FILE]

One GRPO step of rollouts (bench_reward's: tasks of the bundled sample, a quarter backward, 60%
right / 30% wrong / 10% missing answer blocks) is scored, in verl's environment
(`codeboost_dagster.verl.reward_loop`), two ways each time:
- batch: `compute_score_batch` in one process, one sandbox slot per core (the baseline);
- verl's loop: verl's `run_ppo` starts a local Ray and the task runner, the trainer's
  `RewardLoopManager` starts `reward.num_workers` reward-loop workers, and every rollout goes to a
  random worker as one `compute_score.remote` call, all in flight at once, as verl's agent loop
  sends them. Each worker's sandbox takes the node's cores divided among the node's workers.
Both are warm (sandboxes started) before timing. `--workers` lists the per-node worker counts to
compare; the first is the project's choice (`VerlCluster.reward_workers_per_node`).
Results (machine, date, load) go to benchmarks/results/reward_loop.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_reward's tasks and rollouts

from bench_reward import rollouts, sample_tasks, write_results

from codeboost_dagster.core.models import model_location
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.training.verl_dataset import chat_messages, data_source
from codeboost_dagster.verl.config import VerlCluster, verl_overrides

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "reward_loop.md"
TARGET = ">= 0.7x the batch API's rewards/s on a 2-core node"


def verl_rollouts(frame, path: Path) -> None:
    """The rollouts as reward_loop reads them: chat prompt, completion, ground truth, task id."""
    with path.open("w") as out:
        for row in frame.to_dict("records"):
            out.write(
                json.dumps(
                    {
                        "data_source": data_source(row["task_type"]),
                        "raw_prompt": chat_messages(row["prompt"]),
                        "completion": row["solution"],
                        "ground_truth": row["ground_truth"],
                        "extra_info": {"task_id": row["task_id"]},
                    }
                )
                + "\n"
            )


def run_loop(verl_python: str, rollouts_file: Path, model: str, workers: int, scratch: Path) -> dict:
    """One reward_loop run in verl's environment (its own local Ray, shut down at the end)."""
    cluster = VerlCluster(n_gpus_per_node=1, worker_python=verl_python, reward_workers_per_node=workers)
    overrides = verl_overrides(CodeBoostSettings(), cluster, model, ["unused"], ["unused"], str(scratch / "ckpt"))
    report = scratch / f"report-{workers}.json"
    env = {
        **os.environ,
        "RAY_TMPDIR": tempfile.mkdtemp(prefix="ray", dir="/tmp"),
        "RAY_USAGE_STATS_ENABLED": "0",
        "TOKENIZERS_PARALLELISM": "false",
    }
    env.pop("RAY_ADDRESS", None)
    command = [verl_python, "-m", "codeboost_dagster.verl.reward_loop", "--rollouts", str(rollouts_file)]
    subprocess.run([*command, "--report", str(report), *overrides], env=env, check=True, cwd=scratch)
    return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=512)
    parser.add_argument("--group", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[VerlCluster.reward_workers_per_node, 2, 8])
    parser.add_argument("--verl-python", default=str(REPO / ".venv-verl" / "bin" / "python"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    load_start = os.getloadavg()
    frame = rollouts(sample_tasks(settings), args.prompts, args.group)
    n, n_backward = len(frame), int((frame["task_type"] == "backward").sum())
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        model = model_location(settings.model.policy, scratch / "models", weights=False)
        verl_rollouts(frame, scratch / "rollouts.jsonl")
        for workers in args.workers:
            report = run_loop(args.verl_python, scratch / "rollouts.jsonl", model, workers, scratch)
            batch_s, loop_s = report["batch"]["seconds"], report["loop"]["seconds"]
            agree = sum(a == b for a, b in zip(report["batch"]["scores"], report["loop"]["scores"])) / n
            rows.append(
                f"| {workers} | {max(1, (os.cpu_count() or 1) // workers)} | {batch_s:.2f} | {n / batch_s:,.0f} "
                f"| {loop_s:.2f} | {n / loop_s:,.0f} | {batch_s / loop_s:.2f}x | {agree:.1%} |"
            )
        # verl's own cost per rollout: forward rollouts only, which our reward scores without a sandbox.
        forward = frame[frame["task_type"] == "forward"]
        verl_rollouts(forward, scratch / "forward.jsonl")
        floor = run_loop(args.verl_python, scratch / "forward.jsonl", model, args.workers[0], scratch)
        floor_lines = [
            f"verl's own cost: the {len(forward)} forward rollouts alone (no sandbox) take "
            f"{floor['batch']['seconds']:.2f} s in the batch API and {floor['loop']['seconds']:.2f} s through verl's "
            f"loop ({1000 * floor['loop']['seconds'] / len(forward):.1f} ms per rollout of Ray calls, DataProto "
            "transfer and decoding, with the default worker count), so "
            f"{n} rollouts cost verl's loop about {floor['loop']['seconds'] / len(forward) * n:.1f} s "
            "before any re-run.",
        ]
    lines = [
        "## Reward throughput through verl's reward loop (one GRPO step of rollouts)",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {platform.system()} {platform.release()}, nproc {os.cpu_count()}",
        f"- load average at start / end (1 min): {load_start[0]:.2f} / {os.getloadavg()[0]:.2f}",
        f"- rollouts: {n} ({args.prompts} prompts x {args.group}); backward {n_backward} ({n_backward / n:.0%})",
        "- verl 0.9.1 (`.venv-verl`), naive reward manager, a local Ray started by verl's `run_ppo`; "
        "sandbox forkserver",
        "",
        "| reward workers per node | sandbox slots per worker | batch s | batch rewards/s | verl loop s "
        "| verl loop rewards/s | loop / batch | same scores |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target: {TARGET}, with the first row's worker count (the default).",
        "",
        *floor_lines,
        "",
    ]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
