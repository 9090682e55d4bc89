"""The pipeline's throughput, ingest -> tasks, before vs after derived wall limits, side by side.

Each side runs `codeboost run --until build_training_data` on the bundled sample (jobs
ingest_dump and build_training_data, in-process, with the local defaults) in its own process,
with a fresh Dagster instance and storage. The sides differ in one setting:

- before: every variant runs under the sandbox's full 5 s limit (`[sandbox] variant_wall_min_s =
  5.0`, what the execution stage did before derived limits) and the checks' floor is the old 0.5 s
  (`[tasks] check_wall_min_s = 0.5`);
- after: the defaults (a mutated variant's limit derives from its original's run; both floors
  0.1 s, which stop only programs that use the CPU).

Reported per side (the median of `--repeats` runs, sides interleaved): each stage's wall time,
sandbox-slot seconds by kind of run (execution, determinism, load-bearing lines, probes, exploit
audit) and by how runs ended (finished, stopped at a derived limit, at the full limit), snippets
and tasks per core-second (wall time x cores), and the load average. Then the check that derived
limits lose nothing: every program the after side stopped at a derived limit, in execution or in
the task checks, is re-run at the full limit; the target is that none finishes.

    .venv/bin/python benchmarks/bench_pipeline.py --repeats 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).parent / "results" / "pipeline.md"
DUMP = "sample.jsonl"
SIDES = {
    "before": "[sandbox]\nvariant_wall_min_s = 5.0\n[tasks]\ncheck_wall_min_s = 0.5\n",
    "after": "",
}
STAGES = (
    "raw_snippets",
    "curated_snippets",
    "augmented_variants",
    "execution_records",
    "training_tasks",
    "verl_dataset",
)
TRAINING_DATA_STAGES = STAGES[1:]  # the job build_training_data: curation to the verl dataset


def run_side(side: str, work: Path, rerun: bool) -> dict:
    """One side in this process: the jobs, then what the instance recorded (call in a fresh process:
    the code location reads its paths and settings file when imported)."""
    for name in ("home", "storage", "dumps"):
        (work / name).mkdir(parents=True)
    shutil.copy(REPO / "data" / "dumps" / DUMP, work / "dumps" / DUMP)
    (work / "settings.toml").write_text(SIDES[side])
    os.environ.update(
        DAGSTER_HOME=str(work / "home"),
        CODEBOOST_STORAGE=str(work / "storage"),
        CODEBOOST_DUMPS_DIR=str(work / "dumps"),
        CODEBOOST_MODEL_CACHE=str(REPO / "data" / "models"),
        CODEBOOST_SETTINGS_FILE=str(work / "settings.toml"),
    )
    import pandas as pd
    from dagster import AssetKey, DagsterInstance

    from codeboost_dagster.cli import run_pipeline

    load_before = os.getloadavg()[0]
    with DagsterInstance.get() as instance:
        if not run_pipeline(DUMP, instance, "build_training_data"):
            raise SystemExit(f"{side}: the pipeline failed")
        stages: dict[str, float] = {}
        for run in instance.get_runs():
            for step in instance.get_run_step_stats(run.run_id):
                if step.start_time and step.end_time:
                    stages[step.step_key] = step.end_time - step.start_time
        slot_rows = []
        for asset in ("execution_records", "training_tasks"):
            metadata = instance.get_latest_materialization_event(AssetKey(asset)).asset_materialization.metadata
            slot_rows += [{"stage": asset, **record.data} for record in metadata["slot_time"].records]
    tasks = pd.read_parquet(work / "storage" / "training_tasks.parquet")
    counts = {
        "snippets": len(pd.read_parquet(work / "storage" / "curated_snippets.parquet")),
        "tasks": len(tasks),
        "task_ids": sorted(tasks["task_id"]),
    }
    result = {
        "side": side,
        "stages": stages,
        "slot_time": slot_rows,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        **counts,
    }
    if rerun:
        result["rerun"] = rerun_stopped(work)
    return result


def rerun_stopped(work: Path) -> dict:
    """Every program stopped at a derived limit, re-run at the full limit: the execution stage's
    from its records; the task checks' by building the tasks again with a runner that keeps them."""
    import pandas as pd

    from codeboost_dagster.core.sandbox import FINISHED_STATUSES, Program, open_sandbox
    from codeboost_dagster.core.settings import CodeBoostSettings
    from codeboost_dagster.core.slot_time import DERIVED_TIMEOUT, run_end
    from codeboost_dagster.core.tasks import build_tasks

    settings = CodeBoostSettings()
    full = settings.sandbox.wall_time_s
    records = pd.read_parquet(work / "storage" / "execution_records.parquet")
    stopped_execution = [
        Program(row.code, stdin=row.stdin)
        for row in records.itertuples()
        if run_end(row.status, row.wall_limit_s, full) == DERIVED_TIMEOUT
    ]
    stopped_checks: list[Program] = []
    with open_sandbox("forkserver", settings.sandbox) as sandbox:

        def keeping(programs, phase):
            results = sandbox.run_many(programs)
            for program, result in zip(programs, results, strict=True):
                if run_end(result.status, result.wall_limit_s, full) == DERIVED_TIMEOUT:
                    stopped_checks.append(Program(program.code, stdin=program.stdin))
            return results

        build_tasks(records, settings.tasks, settings.sandbox, keeping, settings.reward)
        report = {}
        for name, programs in (("execution", stopped_execution), ("checks", stopped_checks)):
            results = sandbox.run_many(programs)
            finished = [result for result in results if result.status in FINISHED_STATUSES]
            report[name] = {
                "stopped": len(programs),
                "finished_at_full_limit": len(finished),
                "slowest_finished_ms": max((result.wall_ms for result in finished), default=None),
            }
    return report


def slot_split(rows: list[dict]) -> dict[tuple[str, str, str], float]:
    """Slot seconds per (stage, kind, end)."""
    return {(row["stage"], row["kind"], row["end"]): row["slot_s"] for row in rows}


def median_of(results: list[dict], pick) -> float:
    return statistics.median(pick(result) for result in results)


def stage_seconds(result: dict, stage: str) -> float:
    return result["stages"].get(stage, 0.0)


def slot_seconds(result: dict, key: tuple[str, str, str]) -> float:
    return slot_split(result["slot_time"]).get(key, 0.0)


def report(by_side: dict[str, list[dict]], cores: int, repeats: int) -> str:
    """The Markdown results: per-stage wall time and slot split, side by side, with ratios."""
    before, after = by_side["before"], by_side["after"]
    lines = [
        "# Pipeline throughput: ingest -> tasks on the sample, before vs after derived wall limits",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{cores} cores, Python {platform.python_version()}; load average (1 min) before the sides: "
        + ", ".join(f"{result['side']} {result['load_before']:.2f}" for result in before + after),
        f"- `benchmarks/bench_pipeline.py --repeats {repeats}`: median of {repeats} run(s) per side, sides "
        "interleaved, each a fresh process, instance and storage; the forkserver sandbox, local defaults",
        "",
        "## Wall time per stage (s)",
        "",
        "| stage | before | after | after / before |",
        "|---|---:|---:|---:|",
    ]
    for stage in STAGES:
        old, new = (statistics.median(stage_seconds(result, stage) for result in side) for side in (before, after))
        lines.append(f"| {stage} | {old:.1f} | {new:.1f} | {new / old if old else float('nan'):.2f} |")
    for label, stages in (("build_training_data's stages", TRAINING_DATA_STAGES), ("all stages", STAGES)):
        old, new = (
            statistics.median(sum(stage_seconds(r, stage) for stage in stages) for r in side)
            for side in (before, after)
        )
        lines.append(f"| {label} | {old:.1f} | {new:.1f} | {new / old:.2f} |")
    lines += ["", "## Sandbox-slot seconds by stage, kind of run and end", ""]
    lines += ["| stage | kind | end | before | after |", "|---|---|---|---:|---:|"]
    keys = sorted({key for result in before + after for key in slot_split(result["slot_time"])})
    for key in keys:
        old, new = (statistics.median(slot_seconds(result, key) for result in side) for side in (before, after))
        lines.append(f"| {' | '.join(key)} | {old:.2f} | {new:.2f} |")
    lines += ["", "| side | slot s, all | stopped at a limit | share stopped | snippets/core-s | tasks/core-s |"]
    lines += ["|---|---:|---:|---:|---:|---:|"]
    for side, results in by_side.items():
        total = median_of(results, lambda result: sum(slot_split(result["slot_time"]).values()))
        stopped = median_of(
            results,
            lambda result: sum(s for (_, _, end), s in slot_split(result["slot_time"]).items() if end != "finished"),
        )
        core_s = median_of(results, lambda result: sum(result["stages"].values())) * cores
        snippets = results[0].get("snippets", 0)
        tasks = results[0].get("tasks", 0)
        lines.append(
            f"| {side} | {total:.1f} | {stopped:.1f} | {stopped / total:.1%} | {snippets / core_s:.2f} | "
            f"{tasks / core_s:.2f} |"
        )
    same = before[0]["task_ids"] == after[0]["task_ids"]
    lines += [
        "",
        f"Tasks: {before[0]['tasks']} before, {after[0]['tasks']} after, from {before[0]['snippets']} curated "
        f"snippets; the same task ids: {'yes' if same else 'no'}.",
    ]
    reruns = [result["rerun"] for result in after if "rerun" in result]
    if reruns:
        lines += ["", "## Programs stopped at a derived limit, re-run at the full 5 s (after side)", ""]
        lines += ["| where | stopped | finished at 5 s | slowest of those (ms) |", "|---|---:|---:|---:|"]
        for name, figures in reruns[0].items():
            lines.append(
                f"| {name} | {figures['stopped']} | {figures['finished_at_full_limit']} | "
                f"{figures['slowest_finished_ms'] or '-'} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rerun", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(run_side(args.side, args.work, args.rerun)))
        return
    by_side: dict[str, list[dict]] = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        for repeat in range(args.repeats):
            for side in SIDES:
                work = Path(folder) / f"{side}-{repeat}"
                command = [sys.executable, __file__, "--side", side, "--work", str(work)]
                if side == "after" and repeat == 0:
                    command.append("--rerun")
                done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
                by_side[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(f"{side} #{repeat}: {sum(by_side[side][-1]['stages'].values()):.1f} s", flush=True)
    text = report(by_side, os.cpu_count() or 1, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
