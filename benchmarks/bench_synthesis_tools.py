"""Call-input synthesis against CrossHair (`crosshair cover`) on the same functions, both in the sandbox.

The functions are the uncalled ones of the standard-library tree of bench_call_synthesis.py that
the static check does not skip. For each, the arm's call inputs are probed the same way
(core.synthesis.probe: line tracer, boundary rule, discards) and up to K are chosen the same way:

- ours: the synthesis stage (candidates by source plus the per-parameter kind search);
- crosshair: `crosshair cover <slice>.<function> --example_output_format=eval_expression` (CLI
  defaults otherwise), run inside the sandbox on a runtime built from benchmarks/crosshair.lock
  (the sandbox runtime plus CrossHair and z3: it executes the code it analyses), with the wall
  limit `--crosshair-wall`; each emitted call whose arguments are literals or value constructors
  becomes a candidate.

Reported per arm: functions with >= 1 usable case (yield), distinct executed-line sets among the
chosen cases (paths), and sandbox seconds per function (ours: every probe; CrossHair: its run plus
the probes of what it emitted). Both arms run on the CrossHair runtime (a superset of ours).

    .venv/bin/python benchmarks/bench_synthesis_tools.py
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "build" / "crosshair-runtime"
LOCK = Path(__file__).parent / "crosshair.lock"
DEFAULT_OUT = Path(__file__).parent / "results" / "synthesis_tools.md"
sys.path.insert(0, str(Path(__file__).parent))
from bench_call_synthesis import MODULES, STDLIB  # noqa: E402

CROSSHAIR_PROGRAM = """
import sys
with open("/tmp/target_module.py", "w") as handle:
    handle.write({source!r})
sys.path.insert(0, "/tmp")
from crosshair.main import main
try:
    main(["cover", "target_module.{name}", "--example_output_format=eval_expression"])
except SystemExit:
    pass
"""


def _runtime() -> None:
    """Build the CrossHair runtime once (kept under build/), and point the local backends at it."""
    from codeboost_dagster.core.sandbox.runtime import MARKER, lock_digest
    from codeboost_dagster.core.sandbox.runtime_build import build_runtime

    markers = list(RUNTIME.glob(f"lib/python*/site-packages/{MARKER}"))
    if not markers or json.loads(markers[0].read_text())["lock_digest"] != lock_digest(LOCK):
        build_runtime(RUNTIME, LOCK)
    os.environ["CODEBOOST_SANDBOX_RUNTIME"] = str(RUNTIME)


def _crosshair_candidates(stdout: str, name: str):
    """The emitted calls as candidates, and how many could not be written as literals."""
    from codeboost_dagster.core.call_arguments import InvalidArgument, qualified_argument
    from codeboost_dagster.core.synthesis.candidates import Candidate

    found, inexpressible = [], 0
    for line in stdout.splitlines():
        try:
            call = ast.parse(line.strip(), mode="eval").body
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == name):
                continue
            args = tuple(qualified_argument(ast.unparse(arg)) for arg in call.args)
            kwargs = tuple((kw.arg, qualified_argument(ast.unparse(kw.value))) for kw in call.keywords)
        except (SyntaxError, InvalidArgument):
            inexpressible += 1
            continue
        found.append(Candidate(args, kwargs, "crosshair"))
    return found, inexpressible


def _measure(sandbox, function, found, settings) -> tuple[int, int, float]:
    """(usable cases chosen, distinct line sets among them, probe seconds) for candidates of a function."""
    from codeboost_dagster.core.synthesis.probe import chosen_reports, probe_program, read_report

    programs = [probe_program(function.slice_code, function.name, c, settings.probe_wall_time_s) for c in found]
    results = sandbox.run_many(programs)
    reports = [read_report(c, r, settings.max_output_chars) for c, r in zip(found, results, strict=True)]
    chosen = chosen_reports(reports, settings.cases_per_function)
    return len(chosen), len({report.lines for report in chosen}), sum(r.wall_ms for r in results) / 1000


def run(functions_limit: int | None, crosshair_wall: float) -> dict:
    _runtime()
    import pandas as pd

    from codeboost_dagster.core.filtering import raw_snippets_frame
    from codeboost_dagster.core.readers.records import snippet_from_source
    from codeboost_dagster.core.sandbox import Program, open_sandbox
    from codeboost_dagster.core.settings import FilterSettings, SandboxLimits, SynthesisSettings
    from codeboost_dagster.core.synthesis import synthesize_calls
    from codeboost_dagster.core.synthesis.candidates import Candidate
    from codeboost_dagster.core.synthesis.functions import uncalled_functions
    from codeboost_dagster.core.test_cases import normalize_test_cases

    settings = SynthesisSettings()
    unfiltered = FilterSettings(min_lines=1, min_chars=1)
    rows = []
    limits = SandboxLimits(wall_time_s=crosshair_wall, cpu_time_s=crosshair_wall, warm_modules=())
    with open_sandbox("forkserver", limits, concurrency=2) as sandbox:
        for module in MODULES:
            source = (STDLIB / f"{module}.py").read_text(encoding="utf-8")
            functions = [f for f in uncalled_functions(source) if f.skip_reason is None]
            if functions_limit is not None:
                functions = functions[: max(0, functions_limit - len(rows))]
            if not functions:
                continue
            raw = raw_snippets_frame([snippet_from_source("tree", f"{module}.py", source)])
            ours = synthesize_calls(raw, pd.DataFrame(columns=raw.columns), sandbox, settings, unfiltered)
            cases = dict(zip(ours.snippets["origin"], ours.snippets["test_cases"], strict=True))
            seconds = dict(zip(ours.report["function"], ours.report["probe_seconds"], strict=True))
            for function in functions:
                chosen = [
                    Candidate(tuple(c.get("python_args", [])), tuple(c.get("python_kwargs", {}).items()), "ours")
                    for c in normalize_test_cases(cases.get(f"{module}.py::{function.name}", "[]"))
                ]
                our_cases, our_paths, _ = _measure(sandbox, function, chosen, settings)
                started = time.monotonic()
                program = Program(CROSSHAIR_PROGRAM.format(source=function.slice_code, name=function.name))
                result = sandbox.run(program)
                crosshair_s = time.monotonic() - started
                found, inexpressible = _crosshair_candidates(result.stdout, function.name)
                ch_cases, ch_paths, ch_probe_s = _measure(sandbox, function, found, settings)
                rows.append(
                    {
                        "function": f"{module}.{function.name}",
                        "annotated": any(p.annotation for p in function.parameters),
                        "ours_cases": our_cases,
                        "ours_paths": our_paths,
                        "ours_s": float(seconds.get(function.name, 0.0)),
                        "crosshair_status": result.status,
                        "crosshair_emitted": len(found) + inexpressible,
                        "crosshair_inexpressible": inexpressible,
                        "crosshair_cases": ch_cases,
                        "crosshair_paths": ch_paths,
                        "crosshair_s": crosshair_s + ch_probe_s,
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            if functions_limit is not None and len(rows) >= functions_limit:
                break
    return {"rows": rows}


def report(rows: list[dict], out: Path, elapsed: float, crosshair_wall: float) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    lines = [
        "# Call-input synthesis against CrossHair, same functions, both in the sandbox",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load average after: {os.getloadavg()[0]:.2f}; {elapsed:.0f} s in all",
        "- command: `.venv/bin/python benchmarks/bench_synthesis_tools.py " + " ".join(sys.argv[1:]) + "`",
        f"- functions: {len(frame)} uncalled, not statically skipped ({int(frame['annotated'].sum())} with "
        f"annotations); CrossHair 0.0.112 with CLI defaults, wall limit {crosshair_wall:g} s per function",
        "",
        "| arm | functions with >= 1 case | share | distinct line sets (sum) | sandbox s per function, median | mean |",
        "|---|---|---|---|---|---|",
    ]
    for arm, label in (("ours", "ours"), ("crosshair", "crosshair cover")):
        got = int((frame[f"{arm}_cases"] > 0).sum())
        lines.append(
            f"| {label} | {got} | {got / len(frame):.1%} | {int(frame[f'{arm}_paths'].sum())} | "
            f"{frame[f'{arm}_s'].median():.2f} | {frame[f'{arm}_s'].mean():.2f} |"
        )
    both = frame[(frame["ours_cases"] > 0) & (frame["crosshair_cases"] > 0)]
    only_ch = frame[(frame["ours_cases"] == 0) & (frame["crosshair_cases"] > 0)]
    lines += [
        "",
        f"- both: {len(both)}; only CrossHair: {len(only_ch)} ({', '.join(only_ch['function'][:12])}); "
        f"only ours: {int(((frame['ours_cases'] > 0) & (frame['crosshair_cases'] == 0)).sum())}",
        f"- CrossHair runs by status: `{json.dumps(frame['crosshair_status'].value_counts().to_dict())}`; calls "
        f"emitted {int(frame['crosshair_emitted'].sum())}, not writable as literals "
        f"{int(frame['crosshair_inexpressible'].sum())}",
        f"- annotated functions only: ours {int((frame[frame['annotated']]['ours_cases'] > 0).sum())}, CrossHair "
        f"{int((frame[frame['annotated']]['crosshair_cases'] > 0).sum())} of {int(frame['annotated'].sum())}",
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, help="stop after this many functions")
    parser.add_argument("--crosshair-wall", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args()
    started = time.monotonic()
    result = run(options.functions, options.crosshair_wall)
    report(result["rows"], options.out, time.monotonic() - started, options.crosshair_wall)


if __name__ == "__main__":
    main()
