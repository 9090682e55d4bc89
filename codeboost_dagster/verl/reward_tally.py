"""The reward's parts per verl training step, which verl itself does not log.

verl 0.9.1's v1 trainer prints one total per step (`critic/score/mean`); the parts our reward
returns (format, stdout_ok, infra_error) go to its reward extra info, which it logs for validation
only, and GRPO's group spread is not logged at all. So every reward worker of a run adds the
parts it scored to one named Ray actor (`RewardTally`), and the job (`verl.job`) drains it when
verl prints a step line: verl's sync trainer scores all of a step's rollouts before it updates
and prints, so what was added since the previous step line is that step's. Rollouts of one
prompt (one GRPO group) share the task id their dataset row carries.

Imports Ray only inside the functions that talk to the actor (the reward also runs without Ray).
A reward process that finds no tally (verl started by hand, not by our job) reports nothing.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

Scored = tuple[str, dict[str, float]]
"""(group key: the task id, score parts as `compute_score` returns them)."""

NAMESPACE = "codeboost"


def summarize(scored: Iterable[Scored]) -> dict[str, float]:
    """Step metrics in `training_metrics`' names: the mean of each part, the mean within-group
    standard deviation of the score and the share of groups (two or more rollouts) whose scores
    are all equal (GRPO's advantage is 0 there). Empty input gives {}."""
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for key, parts in scored:
        groups[key].append(parts)
    rows = [parts for members in groups.values() for parts in members]
    if not rows:
        return {}
    spreads = [
        statistics.pstdev(parts["score"] for parts in members) for members in groups.values() if len(members) > 1
    ]

    def mean(name: str) -> float:
        return sum(float(parts.get(name, 0.0)) for parts in rows) / len(rows)

    summary = {
        "reward_mean": mean("score"),
        "format_rate": mean("format"),
        "stdout_ok": mean("stdout_ok"),
        "infra_error_rate": mean("infra_error"),
        "rollouts": float(len(rows)),
    }
    if spreads:
        summary["reward_std"] = sum(spreads) / len(spreads)
        summary["frac_reward_zero_std"] = sum(spread == 0.0 for spread in spreads) / len(spreads)
    return summary


class RewardTally:
    """Score parts added since the last drain; a Ray actor named after the run."""

    def __init__(self) -> None:
        self._scored: list[Scored] = []

    def add(self, scored: list[Scored]) -> None:
        self._scored.extend(scored)

    def pending(self) -> int:
        """Rollouts added since the last drain."""
        return len(self._scored)

    def drain(self) -> dict[str, float]:
        scored, self._scored = self._scored, []
        return summarize(scored)


def open_tally(name: str) -> Any:
    """Start the run's tally (the job does, before verl starts); it lives as long as the job's driver."""
    import ray

    return ray.remote(num_cpus=0)(RewardTally).options(name=name, namespace=NAMESPACE).remote()


FLUSH_ROLLOUTS = 256
FLUSH_INTERVAL_S = 0.5


class _Outbox:
    """One process's reports to one tally: buffered, sent every FLUSH_ROLLOUTS rollouts or
    FLUSH_INTERVAL_S seconds (a daemon thread), since one Ray call per rollout would cost more than
    the forward reward itself. A step line comes seconds after its last rollout is scored."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.pending: list[Scored] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._flush_every_interval, daemon=True).start()

    def add(self, scored: list[Scored]) -> None:
        with self.lock:
            self.pending.extend(scored)
            full = len(self.pending) >= FLUSH_ROLLOUTS
        if full:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        if batch:
            self.handle.add.remote(batch)

    def _flush_every_interval(self) -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_S)
            self.flush()


_outboxes: dict[str, _Outbox | None] = {}
_outboxes_lock = threading.Lock()


def report(name: str, scored: list[Scored]) -> None:
    """Add score parts to the run's tally without waiting. A no-op outside Ray, or when no job
    opened a tally for this run (nobody would drain it)."""
    import ray

    if not ray.is_initialized():
        return
    with _outboxes_lock:
        if name not in _outboxes:
            try:
                _outboxes[name] = _Outbox(ray.get_actor(name, namespace=NAMESPACE))
            except ValueError:
                _outboxes[name] = None
    outbox = _outboxes[name]
    if outbox is not None:
        outbox.add(scored)
