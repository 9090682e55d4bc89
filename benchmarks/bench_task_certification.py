"""The cost of certified tasks: execution plus task build, with the sandbox checks vs. without.

    python benchmarks/bench_task_certification.py [--out FILE]

Same data for both (the bundled sample's variants, executed once on the forkserver sandbox):
- without: today's execution, then tasks built with no sandbox run (every run a forward task, no
  determinism re-run) - the build as it was before the checks, pure Python;
- with: the same execution, then the default certified build (determinism re-run, load-bearing
  masks, hidden probes, exploit audit), each check under a wall limit derived from the ground
  truth's own run.
Reports seconds per phase, sandbox runs per check, and the ratio (execution + certified build) /
(execution + unchecked build). Target: <= 2.5x. Results go to benchmarks/results/task_certification.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench_reward import sample_variants, write_results

from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.tasks import build_tasks
from codeboost_dagster.core.variant_runs import execute_runs, plan_runs

RESULTS = Path(__file__).parent / "results" / "task_certification.md"
TARGET = "<= 2.5x today's execution + task build"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    unchecked = dataclasses.replace(settings.tasks, forward_fraction=1.0, determinism_runs=1)
    load_start = os.getloadavg()
    variants = sample_variants(settings)
    runs: Counter = Counter()
    seconds: Counter = Counter()
    with open_sandbox("forkserver", settings.sandbox) as sandbox:

        def run(batch, phase):
            started = time.perf_counter()
            results = sandbox.run_many(batch)
            runs[phase] += len(batch)
            seconds[phase] += time.perf_counter() - started
            return results

        started = time.perf_counter()
        records = execute_runs(plan_runs(variants), sandbox, "forkserver")
        execution_s = time.perf_counter() - started
        started = time.perf_counter()
        plain = build_tasks(records, unchecked, settings.sandbox, run, settings.reward)
        plain_s = time.perf_counter() - started
        started = time.perf_counter()
        certified = build_tasks(records, settings.tasks, settings.sandbox, run, settings.reward)
        certified_s = time.perf_counter() - started
    baseline, checked = execution_s + plain_s, execution_s + certified_s
    reasons = certified.dropped["reason"].value_counts().to_dict()
    lines = [
        "## Task certification cost (execution + task build, with vs. without the sandbox checks)",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {platform.system()} {platform.release()}, nproc {os.cpu_count()}",
        f"- load average at start / end (1 min): {load_start[0]:.2f} / {os.getloadavg()[0]:.2f}",
        f"- data: the bundled sample, {len(variants)} variants, {len(records)} execution records; "
        f"forkserver sandbox, one slot per core",
        "",
        "| phase | sandbox runs | seconds |",
        "|---|---:|---:|",
        f"| execution (once, as today) | {len(records)} | {execution_s:.2f} |",
        f"| task build without checks | 0 | {plain_s:.2f} |",
        *(f"| check: {phase} | {runs[phase]} | {seconds[phase]:.2f} |" for phase in runs),
        f"| task build with checks (all) | {sum(runs.values())} | {certified_s:.2f} |",
        "",
        f"Execution + build: {checked:.2f} s with the checks vs. {baseline:.2f} s without: "
        f"**{checked / baseline:.2f}x** "
        f"(target {TARGET}). Tasks: {len(certified.tasks)} certified "
        f"({int((certified.tasks['task_type'] == 'backward').sum())} backward) vs. {len(plain.tasks)} unchecked "
        f"forward-only; drops: {', '.join(f'{reason} {count}' for reason, count in sorted(reasons.items()))}.",
        "",
    ]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
