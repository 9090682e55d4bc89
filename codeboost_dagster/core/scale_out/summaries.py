"""Running summaries of a streamed stage, updated batch by batch in bounded memory, for the
metadata the assets attach (counts, a sample of wall times, the slowest runs, conservation)."""

from __future__ import annotations

import heapq
import random
from array import array
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.augmentation import AugmentationResult, accounting_problems, mutation_counts
from codeboost_dagster.core.slot_time import SlotTime
from codeboost_dagster.core.variant_runs import plan_runs

SLOWEST_COLUMNS = ["program_id", "variant_id", "status", "wall_ms", "cpu_ms", "wall_limit_s"]
EXECUTION = "execution"


@dataclass
class ExecutionTally:
    """Execution records seen so far: counts by status and error type, sandbox-slot seconds and runs
    by how they ended (`slot_time`), a reservoir of wall times, the slowest runs, and batches whose
    records do not match their planned runs."""

    sample_rows: int
    slowest_kept: int
    full_limit_s: float
    seed: int = 0
    planned: int = 0
    records: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_error_type: Counter = field(default_factory=Counter)
    runtimes: set[str] = field(default_factory=set)
    by_package: Counter = field(default_factory=Counter)  # runs per runtime package they import
    wall_ms_sample: array = field(default_factory=lambda: array("d"))
    mismatched_batches: list[int] = field(default_factory=list)
    _slowest: list[tuple[float, int, tuple]] = field(default_factory=list)
    _seen: int = 0
    slot_time: SlotTime = field(init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.slot_time = SlotTime(self.full_limit_s)

    def add(self, index: int, variants: pd.DataFrame, records: pa.Table) -> None:
        """Count one batch: its planned run ids must be exactly the program ids of its records."""
        planned = [run.program_id for run in plan_runs(variants)]
        ids = records.column("program_id").to_pylist()
        if len(ids) != len(planned) or set(ids) != set(planned):
            self.mismatched_batches.append(index)
        self.planned += len(planned)
        self.records += len(ids)
        self.by_status.update(records.column("status").to_pylist())
        self.by_error_type.update(value for value in records.column("error_type").to_pylist() if value is not None)
        self.runtimes.update(value for value in records.column("runtime").to_pylist() if value)
        for packages in records.column("packages").to_pylist():
            self.by_package.update(package.rsplit(" ", 1)[0] for package in packages.split(", ") if package)
        for row in records.select(SLOWEST_COLUMNS).to_pylist():
            self.slot_time.add(EXECUTION, row["status"], row["wall_ms"], row["wall_limit_s"])
            self._keep_wall_time(row["wall_ms"])
            entry = (row["wall_ms"], self.records, tuple(row[name] for name in SLOWEST_COLUMNS))
            if len(self._slowest) < self.slowest_kept:
                heapq.heappush(self._slowest, entry)
            else:
                heapq.heappushpop(self._slowest, entry)

    def _keep_wall_time(self, wall_ms: float) -> None:
        """Reservoir sampling (algorithm R): every wall time seen is kept with equal probability."""
        self._seen += 1
        if len(self.wall_ms_sample) < self.sample_rows:
            self.wall_ms_sample.append(wall_ms)
            return
        slot = self._rng.randrange(self._seen)
        if slot < self.sample_rows:
            self.wall_ms_sample[slot] = wall_ms

    def slowest(self) -> pd.DataFrame:
        """The slowest runs seen, slowest first."""
        rows = [values for _, _, values in sorted(self._slowest, reverse=True)]
        return pd.DataFrame(rows, columns=SLOWEST_COLUMNS)


@dataclass
class AugmentationTally:
    """Augmentation tables seen so far: accounting problems (the first `problems_kept` of them
    described), variants by kind, mutations by level and kind, drops by reason, and the first
    batch (for a preview) and first batch with a mutated variant (for an example diff)."""

    variants_per_snippet: int
    problems_kept: int
    problems: int = 0
    problem_examples: list[str] = field(default_factory=list)
    variants: int = 0
    mutated: int = 0
    dropped: int = 0
    by_kind: Counter = field(default_factory=Counter)
    mutations: Counter = field(default_factory=Counter)
    by_reason: Counter = field(default_factory=Counter)
    first_variants: pd.DataFrame | None = None
    first_mutated: pd.DataFrame | None = None

    def add(self, snippets: pd.DataFrame, variants: pd.DataFrame, dropped: pd.DataFrame) -> None:
        """Count one batch of snippets and the two tables augmentation made of it."""
        found = accounting_problems(
            snippets["snippet_id"], AugmentationResult(variants, dropped), self.variants_per_snippet
        )
        self.problems += len(found)
        self.problem_examples.extend(found[: self.problems_kept - len(self.problem_examples)])
        is_mutated = variants["variant_index"] > 0
        self.variants += len(variants)
        self.mutated += int(is_mutated.sum())
        self.dropped += len(dropped)
        self.by_kind.update(variants["kind"].value_counts().to_dict())
        self.mutations.update(mutation_counts(variants["mutations"]))
        self.by_reason.update(dropped["reason"].value_counts().to_dict())
        if self.first_variants is None:
            self.first_variants = variants
        if self.first_mutated is None and is_mutated.any():
            self.first_mutated = variants
