"""Where a stage's sandbox time goes: runs and sandbox-slot seconds by kind of run (execution,
determinism, load-bearing lines, probes, exploit audit) and by how each run ended (finished by
itself, stopped at a derived wall limit, at the sandbox's full limit, or otherwise)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from codeboost_dagster.core.sandbox import FINISHED_STATUSES, ExecutionResult

FINISHED = "finished"
DERIVED_TIMEOUT = "timeout at a derived limit"
FULL_TIMEOUT = "timeout at the full limit"


def run_end(status: str, wall_limit_s: float | None, full_limit_s: float) -> str:
    """How a run ended: finished, a timeout at a derived limit (below the sandbox's full limit) or
    at the full limit, or the status that stopped it (output_limit, sandbox_error)."""
    if status in FINISHED_STATUSES:
        return FINISHED
    if status == "timeout":
        derived = wall_limit_s is not None and wall_limit_s < full_limit_s
        return DERIVED_TIMEOUT if derived else FULL_TIMEOUT
    return status


@dataclass
class SlotTime:
    """A running count of runs and slot seconds per (kind of run, end)."""

    full_limit_s: float
    runs: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)

    def add(self, kind: str, status: str, wall_ms: float, wall_limit_s: float | None) -> None:
        """Count one run."""
        key = (kind, run_end(status, wall_limit_s, self.full_limit_s))
        self.runs[key] += 1
        self.seconds[key] += wall_ms / 1000

    def add_results(self, kind: str, results: Iterable[ExecutionResult]) -> None:
        """Count every result of one kind of run."""
        for result in results:
            self.add(kind, result.status, result.wall_ms, result.wall_limit_s)

    def stopped_share(self) -> float:
        """The share of all slot time spent in runs that did not finish by themselves."""
        total = sum(self.seconds.values())
        finished = sum(seconds for (_, end), seconds in self.seconds.items() if end == FINISHED)
        return round(1 - finished / total, 4) if total else 0.0

    def table(self) -> pd.DataFrame:
        """One row per (kind, end): runs, slot seconds and their share of all slot time."""
        total = sum(self.seconds.values()) or 1.0
        keys = sorted(self.seconds, key=lambda key: (key[0], -self.seconds[key]))
        return pd.DataFrame(
            {
                "kind": [kind for kind, _ in keys],
                "end": [end for _, end in keys],
                "runs": [self.runs[key] for key in keys],
                "slot_s": [round(self.seconds[key], 3) for key in keys],
                "share": [round(self.seconds[key] / total, 4) for key in keys],
            }
        )

    def by_kind(self) -> pd.DataFrame:
        """Slot seconds per kind of run (rows), finished vs every way of being stopped (columns)."""
        frame = self.table()
        if frame.empty:
            return pd.DataFrame()
        return frame.pivot_table(index="kind", columns="end", values="slot_s", aggfunc="sum", fill_value=0.0)
