"""Yield of real code: doctest dumps of library packages, raw programs -> certified tasks.

Each dump runs `codeboost run --until build_training_data` (ingest, curation, augmentation,
execution, tasks, verl dataset; in-process, local defaults) in its own process with a fresh
Dagster instance and storage. Reported per dump: raw programs read, how many were refused and
why, and the share of raw programs with at least one certified task (target: at least 30% for a
dump of runtime packages), with the task builder's drop reasons. The baseline is the same
pipeline before the runtime (bare interpreter, every module importing its own package refused),
measured on the seven-package dump in issue 28: 237 programs read, 6 kept (2.5%).

    .venv/bin/python benchmarks/bench_doctest_yield.py --dump examples/real.doctests \
        --dump benchmarks/dumps/seven_packages.doctests
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).parent / "results" / "doctest_yield.md"


def run_dump(dump: Path, work: Path) -> dict:
    """One dump in this process (call in a fresh process: the code location reads its paths when imported)."""
    for name in ("home", "storage", "dumps"):
        (work / name).mkdir(parents=True)
    shutil.copy(dump, work / "dumps" / dump.name)
    os.environ.update(
        DAGSTER_HOME=str(work / "home"),
        CODEBOOST_STORAGE=str(work / "storage"),
        CODEBOOST_DUMPS_DIR=str(work / "dumps"),
        CODEBOOST_MODEL_CACHE=str(REPO / "data" / "models"),
    )
    import pandas as pd
    from dagster import DagsterInstance

    from codeboost_dagster.cli import run_pipeline

    with DagsterInstance.get() as instance:
        completed = run_pipeline(dump.name, instance, "build_training_data")
    storage = work / "storage"
    raw = pd.concat(pd.read_parquet(path) for path in sorted((storage / "raw_snippets").rglob("*.parquet")))
    read = raw[raw["read_error"].isna()]
    tasks = pd.read_parquet(storage / "training_tasks.parquet") if completed else pd.DataFrame(columns=["snippet_id"])
    dropped = pd.read_parquet(storage / "task_report.parquet") if completed else pd.DataFrame(columns=["reason"])
    yielding = read[read["snippet_id"].isin(set(tasks["snippet_id"]))]
    return {
        "dump": dump.name,
        "completed": completed,
        "entries": len(raw),
        "refused": dict(Counter(raw["read_error"].dropna())),
        "programs": len(read),
        "programs_with_a_task": len(yielding),
        "by_package": {  # a .doctests row's origin is package/path/of/module.py
            package: [int((read["origin"].str.split("/").str[0] == package).sum()), int(count)]
            for package, count in Counter(yielding["origin"].str.split("/").str[0]).most_common()
        }
        if dump.suffix == ".doctests"
        else {},
        "tasks": len(tasks),
        "task_drops": dict(Counter(dropped["reason"]).most_common(12)),
    }


def report(results: list[dict], out: Path, elapsed: float) -> None:
    lines = [
        "# Doctest yield: raw programs -> certified tasks",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load average after: {os.getloadavg()[0]:.2f}; {elapsed:.0f} s in all",
        "- command: `.venv/bin/python benchmarks/bench_doctest_yield.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "| dump | entries | refused by the reader | programs | with >= 1 task | share | tasks |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        share = r["programs_with_a_task"] / r["programs"] if r["programs"] else 0.0
        refused = ", ".join(f"{k} {v}" for k, v in r["refused"].items()) or "none"
        lines.append(
            f"| {r['dump']} | {r['entries']} | {refused} | {r['programs']} | {r['programs_with_a_task']} | "
            f"{share:.1%} | {r['tasks']} |"
        )
    for r in results:
        lines += ["", f"## {r['dump']}", ""]
        if r["by_package"]:
            lines += [f"Per package (programs, with a task): `{json.dumps(r['by_package'])}`", ""]
        lines += [f"Task builder drops (most common): `{json.dumps(r['task_drops'])}`"]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", type=Path, action="append", help="a .doctests file (repeatable)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: run one dump, print JSON
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        print(json.dumps(run_dump(options.one, options.work)))
        return
    started = datetime.datetime.now()
    results = []
    for dump in options.dump or [REPO / "examples" / "real.doctests"]:
        with tempfile.TemporaryDirectory(prefix="codeboost-yield-") as work:
            command = [sys.executable, __file__, "--one", str(dump.resolve()), "--work", work]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    report(results, options.out, (datetime.datetime.now() - started).total_seconds())


if __name__ == "__main__":
    main()
