"""Augment a table of snippets, in a process pool over the cores for more than one worker.

Each snippet depends only on its own row and the settings (its random streams are derived
from (seed, snippet_id, variant index)), so the result is identical for any worker count,
chunking or row order of the input; rows come out in input order, then by variant index.
Workers are spawned (not forked; `core.process_pools`, whose workers exit when this process dies),
which is safe under a threaded host such as Dagster; as with any spawned pool, a script calling
this must guard its entry point with `if __name__ == "__main__"`.
Workers import only `snippet` and its dependencies (libcst, no pandas), so they start fast.

The accounting of augmentation is here too: every attempted variant of every snippet is kept or dropped,
exactly once (`accounting_problems`), and how many mutations of each level and kind the kept
variants carry (`mutation_counts`).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import as_completed
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.augmentation.reasons import WHOLE_SNIPPET_REASONS
from codeboost_dagster.core.augmentation.snippet import DropRow, SnippetAugmentation, VariantRow, augment_chunk
from codeboost_dagster.core.process_pools import spawned_pool
from codeboost_dagster.core.schemas import AUGMENTATION_REPORT, AUGMENTED_VARIANTS
from codeboost_dagster.core.settings import AugmentationSettings


def accounting_problems(snippet_ids: Iterable[str], result: AugmentationResult, variants_per_snippet: int) -> list[str]:
    """Human-readable violations (empty when every (snippet, index 0..K) is in exactly one table)."""
    expected = {(snippet_id, index) for snippet_id in snippet_ids for index in range(variants_per_snippet + 1)}
    seen = Counter(zip(result.variants["snippet_id"], result.variants["variant_index"].astype(int)))
    seen.update(zip(result.dropped["snippet_id"], result.dropped["variant_index"].astype(int)))
    problems = [f"{key} is neither kept nor dropped" for key in sorted(expected - set(seen))]
    problems += [f"{key} was never attempted" for key in sorted(set(seen) - expected)]
    problems += [f"{key} is accounted {count} times" for key, count in sorted(seen.items()) if count > 1]
    originals = set(result.variants["snippet_id"][result.variants["variant_index"] == 0])
    whole = set(result.dropped["snippet_id"][result.dropped["reason"].isin(WHOLE_SNIPPET_REASONS)])
    problems += [f"original of {sid!r} is missing" for sid in sorted({s for s, _ in expected} - originals - whole)]
    return problems


def mutation_counts(mutations: Iterable[str]) -> Counter:
    """Mutations per `level:kind` over the variants' `mutations` JSON lists."""
    return Counter(f"{mutation['level']}:{mutation['kind']}" for listed in mutations for mutation in json.loads(listed))


INPUT_COLUMNS = ("snippet_id", "code", "test_cases")
_CHUNKS_PER_WORKER = 4
"""Chunks per worker: enough to balance snippets of unequal size, few enough to keep IPC small."""

Progress = Callable[[int, int], None]
"""Called as progress(snippets_done, snippets_total) after each finished chunk."""

SnippetRow = tuple[str, str, str | None]


@dataclass(frozen=True)
class AugmentationResult:
    """`variants`: kept rows (AUGMENTED_VARIANTS columns); `dropped`: the rest (AUGMENTATION_REPORT)."""

    variants: pd.DataFrame
    dropped: pd.DataFrame


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _input_rows(snippets: pd.DataFrame) -> list[SnippetRow]:
    missing = [name for name in INPUT_COLUMNS if name not in snippets.columns]
    if missing:
        raise ValueError(f"snippets lack columns {missing}; need {list(INPUT_COLUMNS)}")
    duplicated = snippets["snippet_id"][snippets["snippet_id"].duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"snippet_id must be unique; repeated: {duplicated[:5]}")
    cases = snippets["test_cases"].astype(object).where(snippets["test_cases"].notna(), None)
    return list(zip(snippets["snippet_id"].astype(str), snippets["code"].astype(str), cases, strict=True))


def _chunks(rows: list[SnippetRow], count: int) -> list[list[SnippetRow]]:
    size = math.ceil(len(rows) / count)
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _run_chunks(
    chunks: list[list[SnippetRow]],
    settings: AugmentationSettings,
    max_code_chars: int | None,
    workers: int,
    progress: Progress | None,
) -> list[SnippetAugmentation]:
    """Outcomes of every chunk, in chunk order; in this process for one worker, else in a spawned pool."""
    total, done = sum(map(len, chunks)), 0
    results: list[list[SnippetAugmentation]] = [[] for _ in chunks]

    def finished(index: int, outcomes: list[SnippetAugmentation]) -> None:
        nonlocal done
        results[index] = outcomes
        done += len(chunks[index])
        if progress is not None:
            progress(done, total)

    if workers == 1:
        for index, chunk in enumerate(chunks):
            finished(index, augment_chunk(chunk, settings, max_code_chars))
    else:
        with spawned_pool(workers) as pool:
            futures = {pool.submit(augment_chunk, chunk, settings, max_code_chars): i for i, chunk in enumerate(chunks)}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    return [outcome for chunk_outcomes in results for outcome in chunk_outcomes]


def augment_snippets(
    snippets: pd.DataFrame,
    settings: AugmentationSettings,
    workers: int | None = None,
    progress: Progress | None = None,
    max_code_chars: int | None = None,
) -> AugmentationResult:
    """Original + `variants_per_snippet` attempted variants per snippet; each kept or dropped with a reason.

    `snippets` needs columns snippet_id (unique), code and test_cases (JSON text, normal form).
    `workers`: processes to use (default: the available cores; 1 runs in this process, and so
    does any input of a single snippet). `progress(done, total)` is called after each chunk.
    `max_code_chars`: snippets longer than this are not augmented (reason `too_large`); pass
    the filter stage's limit. Every snippet yields exactly 1 + K rows across the two tables.
    """
    rows = _input_rows(snippets)
    workers = min(default_workers() if workers is None else workers, max(len(rows), 1))
    chunks = _chunks(rows, workers * _CHUNKS_PER_WORKER) if rows else []
    outcomes = _run_chunks(chunks, settings, max_code_chars, workers, progress)
    return AugmentationResult(
        variants_frame(row for outcome in outcomes for row in outcome.variants),
        dropped_frame(row for outcome in outcomes for row in outcome.dropped),
    )


def _frame(rows: Iterable[VariantRow | DropRow], schema: pa.Schema) -> pd.DataFrame:
    columns = schema.names
    table = pa.Table.from_pylist([{name: getattr(row, name) for name in columns} for row in rows], schema=schema)
    return table.to_pandas()


def variants_frame(rows: Iterable[VariantRow]) -> pd.DataFrame:
    """Kept rows as a DataFrame with the AUGMENTED_VARIANTS columns (variant_index int32)."""
    return _frame(rows, AUGMENTED_VARIANTS)


def dropped_frame(rows: Iterable[DropRow]) -> pd.DataFrame:
    """Dropped rows as a DataFrame with the AUGMENTATION_REPORT columns (variant_index int32)."""
    return _frame(rows, AUGMENTATION_REPORT)
