"""The Ray job that `grpo_training` submits: verl GRPO, reporting back to Dagster through Pipes.

    python -m codeboost_dagster.verl.job [--dry-run] [--rows N] [--tally NAME] [--driver-ray V] OVERRIDE ...

Runs in verl's environment on the cluster (requirements/gpu.txt plus this package and
dagster-pipes, no Dagster). Training opens the run's reward tally (`reward_tally`), runs
`python -m verl.trainer.main_ppo OVERRIDES`, echoes its output to the job log, and reports every
step line verl's console logger prints as a Pipes message, with the reward parts the tally
collected since the previous step, so the Dagster run shows the curve while it trains. verl prints
inside its `TaskRunnerV1` actor, so the lines arrive as Ray forwards them: `(TaskRunnerV1 pid=N)
step:3 - key:value - ...`, often in ANSI colours, values as `repr` shows them (`np.float64(0.41)`).
`--dry-run` instead runs verl's preflight (config, dataset, reward, actors) and reports its
findings: the proof a CPU machine can give.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RAY_PREFIX = re.compile(r"^\((?P<actor>[^()]*?) pid=\d+(?:, ip=[^)]*)?\)\s*")
RAY_REPEATED = re.compile(r"\s*\[repeated \d+x across cluster\]\s*$")
REWARD_PARTS_PREFIX = "codeboost/"
"""Step-message keys of the reward tally's figures, beside verl's own keys."""
STEP_LINE = re.compile(r"^step:(\d+) - (.*)$")
NUMBER = re.compile(r"^(?:np\.\w+\((?P<wrapped>[^()]*)\)|(?P<plain>.*))$")


def _number(text: str) -> float | None:
    """`0.41`, `np.float64(0.41)`, `nan` as floats; None for anything else."""
    match = NUMBER.match(text.strip())
    try:
        return float(match.group("wrapped") or match.group("plain"))  # type: ignore[union-attr]
    except ValueError:
        return None


def parse_step_line(line: str) -> dict[str, Any] | None:
    """A console step line as {"step": 3, "critic/score/mean": 0.41, ...}, bare or as Ray forwards
    it from an actor (prefix, colours, dedup suffix); None for any other line."""
    text = RAY_REPEATED.sub("", RAY_PREFIX.sub("", ANSI_ESCAPE.sub("", line).strip()))
    match = STEP_LINE.match(text)
    if match is None:
        return None
    metrics: dict[str, Any] = {"step": int(match.group(1))}
    for part in match.group(2).split(" - "):
        key, _, value = part.rpartition(":")
        number = _number(value)
        if key and number is not None:
            metrics[key] = number
    return metrics


def run_training(overrides: Sequence[str], tally_name: str, pipes: Any) -> int:
    """verl's trainer as a child process; its step lines, with the reward parts tallied since the
    previous one, become Pipes messages. SIGTERM (a stopped Ray job) is passed on to verl."""
    import ray

    from codeboost_dagster.verl.reward_tally import NAMESPACE, open_tally

    ray.init(namespace=NAMESPACE, log_to_driver=False)
    try:
        tally = open_tally(tally_name)
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
                tallied = ray.get(tally.drain.remote())
                parts = {f"{REWARD_PARTS_PREFIX}{key}": value for key, value in tallied.items()}
                pipes.report_custom_message({"kind": "step", **step, **parts})
                pipes.log.info(f"verl step {step['step']}: score {step.get('critic/score/mean')}")
        return process.wait()
    finally:
        ray.shutdown()  # the tally goes with this driver


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the Ray job."""
    from dagster_pipes import open_dagster_pipes

    parser = argparse.ArgumentParser(
        prog="codeboost_dagster.verl.job", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dry-run", action="store_true", help="run verl's preflight instead of training")
    parser.add_argument("--rows", type=int, default=4, help="rows per data source the preflight scores")
    parser.add_argument("--tally", default="codeboost-reward-tally", help="name of the run's reward tally actor")
    parser.add_argument("--driver-ray", help="the submitting driver's Ray version (the dry run compares it)")
    parser.add_argument("overrides", nargs="*", help="hydra overrides for verl.trainer.main_ppo")
    args = parser.parse_args(argv)
    with open_dagster_pipes() as pipes:
        if args.dry_run:
            from codeboost_dagster.verl.preflight import preflight

            pipes.log.info("verl preflight: config, RLHFDataset, reward loader, task-runner actor")
            report = preflight(args.overrides, args.rows, actors=True, driver_ray=args.driver_ray)
            pipes.report_custom_message({"kind": "preflight", **report})
            return 0
        code = run_training(args.overrides, args.tally, pipes)
        pipes.report_custom_message({"kind": "finished", "returncode": code})
        return code


if __name__ == "__main__":
    sys.exit(main())
