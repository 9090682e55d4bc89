"""Call-input synthesis over one dump's filtered snippets: every uncalled function becomes a
program of its own with up to K call cases, or a report row saying why it did not.

The input rows stay as they are (a module's own run may still yield tasks); the new programs sit
beside them. The functions come from every readable raw row without test cases or a documented
output (a doctest program, a release row with its expected stdout: such a row runs its functions
already), also from rows the size filter dropped (a whole module may be too long to show while a
function's slice is not). For each uncalled function (core.synthesis.functions) the candidates
(core.synthesis.candidates) run in the sandbox (core.synthesis.probe). Then a small search, in
waves: a function whose every candidate failed at the call boundary gets, one parameter at a time,
the candidate that ran furthest (most lines) with that parameter set to a value of each kind (a
string, a list, bytes, a dict, ...), and the furthest of those carries on to the next parameter; a
function with fewer distinct outputs than K gets other values of the kinds that worked. The chosen
ones become `call` cases with their arguments as Python source and their `source`, on a new row
whose code is the function's slice and whose origin is `<file>::<function>`. The slice row passes
the same basic filters as every row (core.filtering).
"""

from __future__ import annotations

import ast
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from codeboost_dagster.core.filtering import drop_reason, kept_row
from codeboost_dagster.core.frames import records, with_none
from codeboost_dagster.core.readers.records import snippet_from_source
from codeboost_dagster.core.sandbox.base import Sandbox
from codeboost_dagster.core.schemas import FILTERED_SNIPPETS, SYNTHESIS_REPORT
from codeboost_dagster.core.settings import FilterSettings, SynthesisSettings
from codeboost_dagster.core.synthesis.candidates import (
    SOURCES,
    Candidate,
    candidates,
    kind_sweep,
    same_kind_variations,
)
from codeboost_dagster.core.synthesis.functions import UncalledFunction, uncalled_functions
from codeboost_dagster.core.synthesis.probe import ProbeReport, chosen_reports, probe_program, read_report

SYNTHESIZED = "synthesized"


@dataclass(frozen=True)
class SynthesisOutcome:
    """One row per synthesized function program (FILTERED_SNIPPETS columns), and one report row
    per uncalled function considered (SYNTHESIS_REPORT columns)."""

    snippets: pd.DataFrame
    report: pd.DataFrame
    probes: int
    seconds: float


@dataclass
class _Function:
    """One function under synthesis: its first wave of candidates, then the report of every
    candidate tried, in order."""

    row: dict
    function: UncalledFunction
    first_wave: list[Candidate]
    reports: list[ProbeReport] = field(default_factory=list)
    runs_ms: float = 0.0
    swept: int = 0
    varied: bool = False

    def next_candidates(self, cases: int) -> list[Candidate]:
        """The search's next wave for this function (module docstring), none when it is done."""
        usable = [report for report in self.reports if report.usable]
        if usable:
            if self.varied or len({report.output_digest for report in usable}) >= cases:
                return []
            self.varied = True
            return self._untried(same_kind_variations(usable[0].candidate))
        stuck = [report for report in self.reports if report.rejected_at_boundary]
        if not stuck or self.swept >= stuck[0].candidate.arity:
            return []
        furthest = max(stuck, key=lambda report: len(report.lines))  # the first of the furthest
        self.swept += 1
        return self._untried(kind_sweep(furthest.candidate, self.swept - 1))

    def _untried(self, found: list[Candidate]) -> list[Candidate]:
        tried = {(report.candidate.args, report.candidate.kwargs) for report in self.reports}
        fresh = []
        for candidate in found:
            if (candidate.args, candidate.kwargs) not in tried:
                tried.add((candidate.args, candidate.kwargs))
                fresh.append(candidate)
        return fresh


def call_case(func_name: str, candidate: Candidate) -> dict:
    """The normal-form `call` case (core.test_cases) of a chosen candidate."""
    case = {"kind": "call", "func_name": func_name, "args": [], "kwargs": {}, "source": candidate.source}
    if candidate.args:
        case["python_args"] = list(candidate.args)
    if candidate.kwargs:
        case["python_kwargs"] = dict(candidate.kwargs)
    return case


def _report_row(row: dict, function: UncalledFunction, outcome: str, detail: str | None, **counts) -> dict:
    return {
        "snippet_id": counts.pop("snippet_id", None),
        "module_snippet_id": row["snippet_id"],
        "dump": row["dump"],
        "origin": f"{row['origin']}::{function.name}",
        "function": function.name,
        "line": function.line,
        "outcome": outcome,
        "detail": detail,
        "candidates": counts.get("candidates", 0),
        "rejected_at_boundary": counts.get("rejected", 0),
        "cases": counts.get("cases", 0),
        "cases_by_source": json.dumps(counts.get("by_source", {}), sort_keys=True),
        "probe_seconds": counts.get("seconds", 0.0),
    }


def _no_case_reason(reports: list[ProbeReport]) -> tuple[str, str]:
    reasons = Counter(report.discard_reason for report in reports)
    if reasons["rejected_at_call_boundary"] == len(reports):
        return "every_candidate_rejected", f"all {len(reports)} candidates failed at the call boundary"
    summary = ", ".join(f"{reason}: {count}" for reason, count in sorted(reasons.items()))
    return "no_usable_run", summary


def synthesize_calls(
    raw: pd.DataFrame,
    filtered: pd.DataFrame,
    sandbox: Sandbox,
    settings: SynthesisSettings,
    filters: FilterSettings,
    progress: Callable[[int, int], None] | None = None,
) -> SynthesisOutcome:
    """New rows for the uncalled functions of `raw` (module docstring), none a twin of a row of
    `filtered`, and the report."""
    started = time.monotonic()
    report: list[dict] = []
    pending: list[_Function] = []
    for row in records(raw) if settings.enabled else []:
        if row["read_error"] or row["test_cases"] != "[]" or row["expected_stdout"] is not None:
            continue  # a row with test cases or a documented output runs its functions already
        try:
            module = ast.parse(row["code"])
            functions = uncalled_functions(row["code"])
        except (SyntaxError, ValueError, RecursionError):
            continue
        for function in functions:
            if function.skip_reason is not None:
                report.append(_report_row(row, function, function.skip_reason, function.skip_detail))
                continue
            found = candidates(
                function, module, settings.candidates_per_function, settings.candidates_per_source, settings.seed
            )
            if not found:
                report.append(_report_row(row, function, "no_candidates", "no parameter could be given a value"))
                continue
            pending.append(_Function(row, function, found))
    probes = _probe(sandbox, [(item, item.first_wave) for item in pending], settings, progress)
    for _ in range(settings.search_rounds):
        waves = [(item, item.next_candidates(settings.cases_per_function)) for item in pending]
        waves = [(item, wave) for item, wave in waves if wave]
        if not waves:
            break
        probes += _probe(sandbox, waves, settings, progress)
    known = set(filtered["snippet_id"])
    new_rows: list[dict] = []
    for item in pending:
        reports = item.reports
        counts = {
            "candidates": len(reports),
            "rejected": sum(r.rejected_at_boundary for r in reports),
            "seconds": round(item.runs_ms / 1000, 3),
        }
        chosen = chosen_reports(reports, settings.cases_per_function)
        if not chosen:
            report.append(_report_row(item.row, item.function, *_no_case_reason(reports), **counts))
            continue
        cases = [call_case(item.function.name, r.candidate) for r in chosen]
        snippet = snippet_from_source(
            item.row["dump"], f"{item.row['origin']}::{item.function.name}", item.function.slice_code, cases
        ).__dict__
        counts["cases"] = len(cases)
        counts["by_source"] = dict(Counter(r.candidate.source for r in chosen))
        verdict = drop_reason(snippet, filters)
        if verdict is None and snippet["snippet_id"] in known:
            verdict = ("exact_duplicate", "same slice and cases as another row of the dump")
        if verdict is not None:
            report.append(_report_row(item.row, item.function, verdict[0], verdict[1], **counts))
            continue
        known.add(snippet["snippet_id"])
        new_rows.append(kept_row(snippet))
        report.append(
            _report_row(item.row, item.function, SYNTHESIZED, None, snippet_id=snippet["snippet_id"], **counts)
        )
    return SynthesisOutcome(
        snippets=pd.DataFrame(new_rows, columns=FILTERED_SNIPPETS.names),
        report=with_none(pd.DataFrame(report, columns=SYNTHESIS_REPORT.names)),
        probes=probes,
        seconds=time.monotonic() - started,
    )


def _probe(
    sandbox: Sandbox,
    waves: list[tuple[_Function, list[Candidate]]],
    settings: SynthesisSettings,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Run one wave of candidates in the sandbox and add their reports to their functions."""
    programs = [
        probe_program(item.function.slice_code, item.function.name, candidate, settings.probe_wall_time_s)
        for item, wave in waves
        for candidate in wave
    ]
    results = iter(sandbox.run_many(programs, progress))
    for item, wave in waves:
        for candidate in wave:
            result = next(results)
            item.runs_ms += result.wall_ms
            item.reports.append(read_report(candidate, result, settings.max_output_chars))
    return len(programs)


def cases_by_source(report: pd.DataFrame) -> dict[str, int]:
    """Synthesized cases per input source over a report, every source listed."""
    totals = Counter({source: 0 for source in SOURCES})
    for text in report["cases_by_source"]:
        totals.update(json.loads(text))
    return dict(totals)
