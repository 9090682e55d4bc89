"""Row-level lineage: from a task, program, variant or snippet id back to the dump it came from.

The chain is task -> program (one run of a variant on one test case, and where a synthesized
case's input came from) -> variant (with its mutations and their diff against the canonical
program) -> canonical program (variant 0) -> snippet (for a function program synthesized from a
module, that module's snippet too) -> dump, origin and line, plus the decision each stage made
about the snippet (filtered out, kept by curation, or removed in favour of which survivor). It
reads the stored tables only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable

import pandas as pd

TableReader = Callable[[str], "pd.DataFrame | None"]
"""Reads a stored table by asset name (all partitions concatenated), None when it was never written."""


class UnknownId(LookupError):
    """The id is no task, program, variant or snippet in the stored tables."""


def _row(table: pd.DataFrame | None, column: str, value: object) -> dict | None:
    """The first row whose `column` equals `value`, nulls (None or NaN) as None."""
    if table is None or column not in table.columns:
        return None
    found = table[table[column] == value]
    if found.empty:
        return None
    return {
        name: None if pd.api.types.is_scalar(cell) and pd.isna(cell) else cell for name, cell in found.iloc[0].items()
    }


def _diff(canonical: str, variant: str) -> list[str]:
    lines = difflib.unified_diff(canonical.splitlines(), variant.splitlines(), "canonical", "variant", lineterm="")
    return [f"      {line}" for line in lines]


def _ran_on(program: dict) -> str:
    """The runtime a run had and the runtime packages it imported (records older than runtimes have neither)."""
    packages = f", importing {program['packages']}" if program.get("packages") else ""
    return f", on {program['runtime']}{packages}" if program.get("runtime") else ""


def _stopped_at(program: dict) -> str:
    """For a run stopped at its wall limit, that limit (a mutated variant's derives from variant 0's run)."""
    limit = program.get("wall_limit_s")
    return f" at its {limit:g} s wall limit" if program["status"] == "timeout" and limit is not None else ""


def _input_source(variant: dict | None, case_index: int) -> str:
    """ ", input from <source>" for a synthesized call case (core.synthesis), else ""."""
    cases = json.loads(variant["test_cases"]) if variant else []
    source = cases[case_index].get("source") if 0 <= case_index < len(cases) else None
    return f", input from {source}" if source else ""


def _synthesized_from(snippet_id: str, read: TableReader) -> list[str]:
    """The module a synthesized function program came from, and its cases by input source."""
    report = _row(read("synthesis_report"), "snippet_id", snippet_id)
    if report is None:
        return []
    function = f"function {report['function']} (line {report['line']}) of snippet {report['module_snippet_id']}"
    kept = f"{report['cases']} of {report['candidates']} candidates kept, by source {report['cases_by_source']}"
    return [f"  synthesized: {function}, {kept}"]


def _origin_line(variant: dict | None) -> str:
    """The dump line of the canonical program's first line that came from the snippet."""
    if variant is None:
        return ""
    lines = [line for line in json.loads(variant["source_lines"]) if line is not None]
    return f", line {lines[0]}" if lines else ""


def _evaluations(task_id: str, read: TableReader) -> list[str]:
    """How each evaluated model and heuristic answered a held-out task (the evaluation's predictions)."""
    predictions = read("evaluation_predictions")
    if predictions is None or "item_id" not in predictions.columns:
        return []
    answered = predictions[predictions["item_id"] == task_id]
    return [
        f"  evaluated: {row.model} scored {row.score:.3f} ({'right' if row.correct else row.reason}), "
        f"read as {row.prediction}"
        for row in answered.itertuples()
    ]


def _curation(snippet_id: str, read: TableReader) -> str:
    kept = _row(read("curated_snippets"), "snippet_id", snippet_id)
    if kept is not None:
        represented = kept["near_duplicates_represented"]
        return f"kept by curation (component {kept['component']}, stands for {represented} near-duplicates)"
    removed = _row(read("curation_report"), "snippet_id", snippet_id)
    if removed is not None:
        survivor = removed["nearest_survivor_id"] or removed["representative_id"]
        distance = removed["nearest_survivor_distance"]
        distance = removed["representative_distance"] if distance is None else distance
        at = f" at distance {distance:.3f}" if distance is not None else ""
        return f"removed by curation ({removed['reason']}): lost to {survivor}{at}"
    filtered = _row(read("filter_report"), "snippet_id", snippet_id)
    if filtered is not None:
        duplicate = f", duplicate of {filtered['duplicate_of']}" if filtered["duplicate_of"] else ""
        return f"dropped by the filters ({filtered['reason']}{duplicate})"
    return "not decided yet (curation has not seen it)"


def trace(identifier: str, read: TableReader) -> list[str]:
    """The lineage of `identifier`, one line per hop, task first and dump last."""
    lines: list[str] = []
    task = _row(read("training_tasks"), "task_id", identifier)
    program_id = task["program_id"] if task else identifier
    program = _row(read("execution_records"), "program_id", program_id)
    variant_id = program["variant_id"] if program else identifier
    variants = read("augmented_variants")
    variant = _row(variants, "variant_id", variant_id)
    snippet_id = variant["snippet_id"] if variant else identifier
    snippet = _row(read("raw_snippets"), "snippet_id", snippet_id) or _row(
        read("synthesized_snippets"), "snippet_id", snippet_id
    )
    if not any((task, program, variant, snippet)):
        raise UnknownId(f"{identifier!r} is no task, program, variant or snippet id in the stored tables")
    if task:
        masked = f", masked line {task['masked_line_index']}" if task["task_type"] == "backward" else ""
        lines.append(f"task {task['task_id']}: {task['task_type']}, {task['split']} split{masked}")
        lines += _evaluations(task["task_id"], read)
    if program:
        lines.append(
            f"program {program['program_id']}: test case {program['case_index']}, {program['status']}"
            + (f" ({program['error_type']})" if program["error_type"] else "")
            + _stopped_at(program)
            + _ran_on(program)
            + _input_source(variant, program["case_index"])
        )
    canonical = None
    if variant:
        canonical = _row(variants[variants["snippet_id"] == snippet_id], "variant_index", 0)
        lines.append(f"variant {variant['variant_id']}: {variant['kind']}, mutations {variant['mutations']}")
        if canonical is not None and variant["variant_index"] != 0:
            lines.extend(_diff(canonical["code"], variant["code"]))
    if canonical is not None:
        lines.append(f"canonical program {canonical['variant_id']} (variant 0, which every variant mutates)")
    if snippet:
        synthesized = _synthesized_from(snippet_id, read)  # its lines are the slice's, not the file's
        where = "" if synthesized else _origin_line(canonical)
        lines.append(f"snippet {snippet_id}: dump {snippet['dump']}, {snippet['origin']}{where}")
        lines += synthesized
        lines.append(_curation(snippet_id, read))
    return lines
