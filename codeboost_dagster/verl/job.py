"""The Ray job that `grpo_training` submits: verl GRPO, reporting back to Dagster through Pipes.

    python -m codeboost_dagster.verl.job [--dry-run] [--rows N] OVERRIDE ...

Runs in verl's environment on the cluster (requirements/verl-worker.txt plus this package and
dagster-pipes, no Dagster). Training runs `python -m verl.trainer.main_ppo OVERRIDES`, echoes its
output to the job log, and reports every `step:N - key:value - ...` line verl's console logger
prints as a Pipes message, so the Dagster run shows the curve while it trains. `--dry-run`
instead runs verl's preflight (config, dataset, reward) and reports its findings: the proof a
CPU machine can give.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

STEP_LINE = re.compile(r"^step:(\d+) - (.*)$")


def parse_step_line(line: str) -> dict[str, Any] | None:
    """`step:3 - critic/score/mean:0.41 - ...` as {"step": 3, "critic/score/mean": 0.41, ...}; None otherwise."""
    match = STEP_LINE.match(line.strip())
    if match is None:
        return None
    metrics: dict[str, Any] = {"step": int(match.group(1))}
    for part in match.group(2).split(" - "):
        key, _, value = part.rpartition(":")
        try:
            metrics[key] = float(value)
        except ValueError:
            continue
    return metrics


def run_training(overrides: Sequence[str], pipes: Any) -> int:
    """verl's trainer as a child process; its step lines become Pipes messages. SIGTERM (a stopped
    Ray job) is passed on to verl."""
    process = subprocess.Popen(
        [sys.executable, "-m", "verl.trainer.main_ppo", *overrides],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        step = parse_step_line(line)
        if step is not None:
            pipes.report_custom_message({"kind": "step", **step})
            pipes.log.info(f"verl step {step['step']}: score {step.get('critic/score/mean')}")
    return process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the Ray job."""
    from dagster_pipes import open_dagster_pipes

    parser = argparse.ArgumentParser(
        prog="codeboost_dagster.verl.job", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dry-run", action="store_true", help="run verl's preflight instead of training")
    parser.add_argument("--rows", type=int, default=4, help="rows per data source the preflight scores")
    parser.add_argument("overrides", nargs="*", help="hydra overrides for verl.trainer.main_ppo")
    args = parser.parse_args(argv)
    with open_dagster_pipes() as pipes:
        if args.dry_run:
            from codeboost_dagster.verl.preflight import preflight

            pipes.log.info("verl preflight: config, RLHFDataset, reward loader")
            pipes.report_custom_message({"kind": "preflight", **preflight(args.overrides, args.rows)})
            return 0
        code = run_training(args.overrides, pipes)
        pipes.report_custom_message({"kind": "finished", "returncode": code})
        return code


if __name__ == "__main__":
    sys.exit(main())
