"""Run batches on Ray with a bounded window, retry a failed batch, and hand results back in order.

The driver cuts the input into batches lazily and never holds more than `window` of them
(running, or finished but waiting for an earlier one), so its memory depends on the window and
the batch size, not on the input's length. Results come back in input order, which makes a Ray
run write the same rows in the same order as the local path. A batch whose task or actor fails
(a killed worker, a lost node) is submitted again up to `retries` times; after that `lost(batch,
detail)` turns it into rows that say why, so every input row is still accounted for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

Batch = TypeVar("Batch")
Result = TypeVar("Result")


class Dispatcher(Protocol[Batch]):
    """Where batches go: `submit` starts one and returns its ObjectRef; `done` frees its place
    (`failed`: the call raised, so the worker behind it may be restarting)."""

    def submit(self, batch: Batch) -> Any: ...

    def done(self, ref: Any, failed: bool) -> None: ...


@dataclass(frozen=True)
class BatchReport:
    """One finished batch: its index, its input rows, progress so far, attempts, and why it was lost."""

    index: int
    rows: int
    rows_done: int
    rows_total: int
    batches_done: int
    attempts: int
    lost: str | None = None


@dataclass
class _OpenBatch(Generic[Batch]):
    batch: Batch
    attempts: int = 1
    result: Any = None
    done: bool = False
    lost: str | None = None


def run_batches(
    batches: Iterable[Batch],
    dispatcher: Dispatcher[Batch],
    lost: Callable[[Batch, str], Result],
    *,
    window: int,
    retries: int,
    rows: Callable[[Batch], int],
    rows_total: int,
) -> Iterator[tuple[Batch, Result, BatchReport]]:
    """Yield (batch, result, report) per batch in input order, at most `window` batches open at once."""
    import ray
    from ray.exceptions import RayError

    source = enumerate(batches)
    open_batches: dict[int, _OpenBatch[Batch]] = {}
    in_flight: dict[Any, int] = {}
    next_index, rows_done, more = 0, 0, True

    def start(index: int) -> None:
        in_flight[dispatcher.submit(open_batches[index].batch)] = index

    while True:
        while more and len(open_batches) < max(1, window):
            item = next(source, None)
            if item is None:
                more = False
                break
            open_batches[item[0]] = _OpenBatch(item[1])
            start(item[0])
        if next_index in open_batches and open_batches[next_index].done:
            entry = open_batches.pop(next_index)
            size = rows(entry.batch)
            rows_done += size
            report = BatchReport(next_index, size, rows_done, rows_total, next_index + 1, entry.attempts, entry.lost)
            yield entry.batch, entry.result, report
            next_index += 1
            continue
        if not open_batches:
            return
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        for ref in ready:
            index = in_flight.pop(ref)
            entry = open_batches[index]
            try:
                entry.result, entry.done = ray.get(ref), True
                dispatcher.done(ref, failed=False)
            except RayError as error:
                dispatcher.done(ref, failed=True)
                if entry.attempts <= retries:
                    entry.attempts += 1
                    start(index)
                else:
                    entry.lost = f"batch failed {entry.attempts} times on Ray: {type(error).__name__}: {error}"[:2000]
                    entry.result, entry.done = lost(entry.batch, entry.lost), True
