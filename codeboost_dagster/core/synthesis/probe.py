"""One candidate call, run in the sandbox under a line tracer: what it printed, which lines of
the program it executed, and whether it failed at the call boundary.

The probe program is the function's slice with a harness that builds the arguments, calls the
function under `sys.settrace` (lines of the program's own file only), and prints one report
line after a marker. The boundary rule: a candidate is *rejected at the call boundary* when
building its arguments fails, or the call raises a `TypeError` or `AttributeError` that Python
itself raised (the innermost frame of the program in the traceback is not a `raise` statement):
the arguments did not bind, or a value lacked the type the code applies to it. An exception the
function raises deliberately (`raise TypeError(...)`) or any other exception is the function's
own behaviour and counts as an `error` outcome. The report is only used to choose candidates;
what a chosen case does is established again by the execution stage and its certificate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from codeboost_dagster.core.call_arguments import argument_modules
from codeboost_dagster.core.sandbox.program import MAIN_GUARD, Program
from codeboost_dagster.core.sandbox.result import ExecutionResult
from codeboost_dagster.core.synthesis.candidates import Candidate

REPORT_MARKER = "\x1ecodeboost-probe\x1e"

_HARNESS = """
{guard}
    import json as __json, sys as __sys, traceback as __traceback
{imports}    __lines = set()
    def __tracer(frame, event, arg):
        if frame.f_code.co_filename != __file__:
            return None
        if event == "line":
            __lines.add(frame.f_lineno)
        return __tracer
    __report = {{"outcome": "ok", "boundary": False}}
    try:
        __args, __kwargs = ({args}), {{{kwargs}}}
    except BaseException as __error:
        __report = {{"outcome": "error", "boundary": True}}
    else:
        __sys.settrace(__tracer)
        try:
            __result = {func}(*__args, **__kwargs)
        except BaseException as __error:
            __sys.settrace(None)
            __frames = [f for f in __traceback.extract_tb(__error.__traceback__) if f.filename == __file__]
            __deliberate = bool(__frames) and (__frames[-1].line or "").lstrip().startswith("raise")
            __report = {{
                "outcome": "error",
                "boundary": isinstance(__error, (TypeError, AttributeError)) and not __deliberate,
                "result": f"{{type(__error).__name__}}: {{__error}}"[:2000],
            }}
        else:
            __sys.settrace(None)
            __report["result"] = str(__result)
    __report["lines"] = sorted(__lines)
    print("\\n" + {marker!r} + __json.dumps(__report))
"""


@dataclass(frozen=True)
class ProbeReport:
    """What one candidate did: `usable` unless it failed at the boundary, stopped at a limit, or
    printed something that is not a fact about its arguments (an address) or too long to predict."""

    candidate: Candidate
    outcome: str  # "ok", "error", or the sandbox status when no report came back
    rejected_at_boundary: bool
    output_digest: str
    lines: frozenset[int]
    discard_reason: str | None

    @property
    def usable(self) -> bool:
        return self.discard_reason is None


def probe_program(code: str, func_name: str, candidate: Candidate, wall_time_s: float) -> Program:
    """The sandbox program that tries `candidate` on the function defined in `code`."""
    modules = argument_modules([*candidate.args, *(value for _, value in candidate.kwargs)])
    args = "".join(f"{arg}, " for arg in candidate.args)
    kwargs = ", ".join(f"{name!r}: {value}" for name, value in candidate.kwargs)
    harness = _HARNESS.format(
        guard=MAIN_GUARD,
        imports="".join(f"    import {module}\n" for module in modules),
        args=args,
        kwargs=kwargs,
        func=func_name,
        marker=REPORT_MARKER,
    )
    body = code if code.endswith("\n") else code + "\n"
    return Program(body + harness, wall_time_s=wall_time_s)


def read_report(candidate: Candidate, result: ExecutionResult, max_output_chars: int) -> ProbeReport:
    """The probe's report from its run, or a discarded one when the run gave none."""
    printed, marker, report_text = result.stdout.rpartition(REPORT_MARKER)
    if result.status not in ("ok", "error") or not marker:
        return ProbeReport(candidate, result.status, False, "", frozenset(), f"probe_{result.status}")
    try:
        report = json.loads(report_text)
    except json.JSONDecodeError:
        return ProbeReport(candidate, "error", False, "", frozenset(), "probe_unreadable")
    shown = printed.removesuffix("\n") + "\n" + str(report.get("result", ""))
    reason = None
    if report.get("boundary"):
        reason = "rejected_at_call_boundary"
    elif " at 0x" in shown:
        reason = "output_shows_an_address"
    elif len(shown) > max_output_chars:
        reason = "output_too_long"
    return ProbeReport(
        candidate=candidate,
        outcome=str(report.get("outcome", "error")),
        rejected_at_boundary=bool(report.get("boundary")),
        output_digest=hashlib.sha256(shown.encode("utf-8", "surrogatepass")).hexdigest()[:16],
        lines=frozenset(int(line) for line in report.get("lines", [])),
        discard_reason=reason,
    )


def chosen_reports(reports: list[ProbeReport], cases: int) -> list[ProbeReport]:
    """Up to `cases` usable reports that each differ from those already chosen in output or in the
    lines executed; runs that end `ok` first, then in candidate order (so sources in order)."""
    ordered = sorted((r for r in reports if r.usable), key=lambda r: r.outcome != "ok")
    chosen: list[ProbeReport] = []
    outputs: set[str] = set()
    coverages: set[frozenset[int]] = set()
    for report in ordered:
        if len(chosen) == cases:
            break
        if report.output_digest in outputs and report.lines in coverages:
            continue
        chosen.append(report)
        outputs.add(report.output_digest)
        coverages.add(report.lines)
    return chosen
