"""Yield of raw functions: a tree of library modules nobody calls -> functions with a task in the
verl dataset, with call-input synthesis and without it (the baseline), side by side.

The tree is a set of pure-Python standard-library modules of the sandbox's own interpreter
(Debian's python3.11, the one every program runs on), copied into a folder dump; `--tree` takes
any folder of `.py` files instead. Each arm runs `codeboost run --until build_training_data` in a
fresh process with a fresh Dagster instance and storage (local defaults; the baseline adds
`[synthesis] enabled = false`). Reported: top-level functions with parameters in the tree, how many
have >= 1 task in the verl dataset (after the prompt-length budget), by input source, how many
through a visible run that ends `ok`, tasks whose visible call failed at the call boundary (a
TypeError or AttributeError Python raised, not a `raise` of the program, in a program whose code
is the function's own: the original or an input-level variant; target 0) and, beside them, the
same errors in code a logical or digit mutation changed (the mutation's doing, not the call's), synthesis
outcomes per function, and the stages' wall times (synthesis beside execution).

    .venv/bin/python benchmarks/bench_call_synthesis.py
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).parent / "results" / "call_synthesis.md"
STDLIB = Path("/usr/lib/python3.11")
# fmt: off
MODULES = (
    "textwrap", "colorsys", "heapq", "fractions", "statistics", "difflib", "calendar", "shlex", "ipaddress",
    "bisect", "string", "operator", "copy", "fnmatch", "graphlib", "base64", "quopri", "datetime", "numbers",
    "reprlib", "pprint", "functools", "getopt", "keyword", "stringprep", "hmac", "posixpath", "ntpath",
    "tokenize", "gettext", "locale", "mimetypes", "cmd", "_pydecimal", "_strptime", "plistlib", "sre_parse",
    "nturl2path", "uu",
)
# fmt: on
BOUNDARY = ("TypeError", "AttributeError")


def build_tree(target: Path, source: Path | None) -> None:
    """The dump folder: `source`'s .py files, or the standard-library modules above."""
    target.mkdir(parents=True)
    files = sorted(source.glob("*.py")) if source else [STDLIB / f"{name}.py" for name in MODULES]
    for path in files:
        shutil.copy(path, target / path.name)


def functions_with_parameters(tree: Path) -> dict[str, str]:
    """`file::function` -> file for every top-level function with at least one parameter."""
    found = {}
    for path in sorted(tree.glob("*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        for node in module.body:
            arguments = getattr(node, "args", None)
            if isinstance(node, ast.FunctionDef) and arguments is not None:
                count = len(arguments.posonlyargs + arguments.args + arguments.kwonlyargs)
                if count or arguments.vararg or arguments.kwarg:
                    found[f"{path.name}::{node.name}"] = path.name
    return found


def _boundary_failure(stderr: str) -> bool:
    """A TypeError/AttributeError whose innermost program frame is not a `raise` statement."""
    frames = re.findall(r'File "/sandbox/main.py", line \d+, in .*\n(.*)\n', stderr or "")
    return not (frames and frames[-1].strip().startswith("raise"))


def run_arm(tree: Path, work: Path, synthesis: bool) -> dict:
    """One arm in this process (call in a fresh process: the code location reads its paths when imported)."""
    for name in ("home", "storage", "dumps"):
        (work / name).mkdir(parents=True)
    shutil.copytree(tree, work / "dumps" / "tree")
    settings = work / "settings.toml"
    settings.write_text("" if synthesis else "[synthesis]\nenabled = false\n")
    os.environ.update(
        DAGSTER_HOME=str(work / "home"),
        CODEBOOST_STORAGE=str(work / "storage"),
        CODEBOOST_DUMPS_DIR=str(work / "dumps"),
        CODEBOOST_MODEL_CACHE=str(REPO / "data" / "models"),
        CODEBOOST_SETTINGS_FILE=str(settings),
    )
    import pandas as pd
    from dagster import DagsterInstance

    from codeboost_dagster.cli import run_pipeline

    with DagsterInstance.get() as instance:
        completed = run_pipeline("tree", instance, "build_training_data")
        seconds = Counter()
        for run in instance.get_runs():
            for step in instance.get_run_step_stats(run.run_id):
                if step.end_time and step.start_time:
                    seconds[step.step_key] += step.end_time - step.start_time
    storage = work / "storage"
    report_files = sorted((storage / "synthesis_report").glob("*.parquet"))
    report = pd.concat(map(pd.read_parquet, report_files)) if report_files else pd.DataFrame()
    reached: dict[str, dict] = {}
    boundary = {"unmutated code": 0, "mutated code": 0}
    if completed:
        tasks = pd.read_parquet(storage / "training_tasks.parquet")
        verl = pd.read_parquet(storage / "verl_dataset.parquet")
        shipped = set()
        for path in verl["path"]:
            shipped |= {info["task_id"] for info in pd.read_parquet(path)["extra_info"]}
        tasks = tasks[tasks["task_id"].isin(shipped)]
        records = pd.read_parquet(storage / "execution_records.parquet").set_index("program_id")
        variants = pd.read_parquet(storage / "augmented_variants.parquet").set_index("variant_id")
        programs = pd.concat(map(pd.read_parquet, sorted((storage / "synthesized_snippets").glob("*.parquet"))))
        origin_of = dict(zip(programs["snippet_id"], programs["origin"], strict=True))
        for task in tasks.itertuples():
            record = records.loc[task.program_id]
            if record["error_type"] in BOUNDARY and _boundary_failure(record["stderr"]):
                unmutated = variants.loc[record["variant_id"], "kind"] in ("original", "input")
                boundary["unmutated code" if unmutated else "mutated code"] += 1
            origin = origin_of.get(task.snippet_id)
            if origin is None:
                continue
            case = json.loads(variants.loc[record["variant_id"], "test_cases"])[int(record["case_index"])]
            entry = reached.setdefault(origin.split("/")[-1], {"sources": set(), "ok": False, "tasks": 0})
            entry["sources"].add(case.get("source", "given"))
            entry["ok"] |= task.status == "ok"
            entry["tasks"] += 1
    return {
        "arm": "synthesis" if synthesis else "baseline",
        "completed": completed,
        "reached": {name: {**entry, "sources": sorted(entry["sources"])} for name, entry in reached.items()},
        "boundary_failures": boundary,
        "outcomes": dict(Counter(report["outcome"])) if len(report) else {},
        "probe_seconds": float(report["probe_seconds"].sum()) if len(report) else 0.0,
        "seconds": {key: round(value, 1) for key, value in seconds.items()},
    }


def report(results: list[dict], functions: dict[str, str], out: Path, elapsed: float, tree_name: str) -> None:
    files = len(set(functions.values()))
    lines = [
        "# Call-input synthesis: raw functions -> functions with a task in the verl dataset",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load average after: {os.getloadavg()[0]:.2f}; {elapsed:.0f} s in all",
        "- command: `.venv/bin/python benchmarks/bench_call_synthesis.py " + " ".join(sys.argv[1:]) + "`",
        f"- tree: {tree_name}, {files} files, {len(functions)} top-level functions with parameters",
        "",
        "| arm | functions in the verl dataset | share | through an `ok` run | by input source | "
        "boundary failures shipped (mutated code beside) | synthesis s | execution s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        reached = {name: entry for name, entry in r["reached"].items() if name in functions}
        ok = sum(entry["ok"] for entry in reached.values())
        sources = Counter(source for entry in reached.values() for source in entry["sources"])
        seconds, boundary = r["seconds"], r["boundary_failures"]
        lines.append(
            f"| {r['arm']} | {len(reached)} | {len(reached) / len(functions):.1%} | {ok} | "
            f"{json.dumps(dict(sources.most_common()))} | {boundary['unmutated code']} ({boundary['mutated code']}) | "
            f"{seconds.get('synthesized_snippets', 0.0)} | {seconds.get('execution_records', 0.0)} |"
        )
    for r in results:
        lines += ["", f"## {r['arm']}", "", f"- synthesis outcomes per function: `{json.dumps(r['outcomes'])}`"]
        lines += [
            f"- sandbox seconds of probes: {r['probe_seconds']:.1f}",
            f"- step seconds: `{json.dumps(r['seconds'])}`",
        ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, help="a folder of .py files (default: standard-library modules)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: run one arm, print JSON
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        print(json.dumps(run_arm(options.one, options.work, synthesis=not options.baseline)))
        return
    started = datetime.datetime.now()
    with tempfile.TemporaryDirectory(prefix="codeboost-synthesis-") as scratch:
        tree = Path(scratch) / "tree"
        build_tree(tree, options.tree)
        functions = functions_with_parameters(tree)
        results = []
        for baseline in (True, False):
            work = Path(scratch) / ("baseline" if baseline else "synthesis")
            command = [sys.executable, __file__, "--one", str(tree), "--work", str(work)]
            done = subprocess.run(
                command + (["--baseline"] if baseline else []), check=True, capture_output=True, text=True
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    name = str(options.tree) if options.tree else f"{len(MODULES)} standard-library modules of {STDLIB}"
    report(results, functions, options.out, (datetime.datetime.now() - started).total_seconds(), name)


if __name__ == "__main__":
    main()
