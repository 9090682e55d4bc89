"""Run batches on an executor (Ray, or this machine's processes and threads) with a bounded window,
retry a failed batch, and hand results back in order: the one batch loop of every streamed stage.

The driver cuts the input into batches lazily and never holds more than `window` of them
(running, or finished but waiting for an earlier one), so its memory depends on the window and
the batch size, not on the input's length. Results come back in input order, so a stage writes
the same rows in the same order wherever its batches ran. A batch whose call fails (a killed
worker, a lost node) is submitted again up to `retries` times; after that `lost(batch, detail)`
turns it into rows that say why, so every input row is still accounted for.

Where batches run is the dispatcher's business; how their handles are awaited is `Handles`'s:
Ray ObjectRefs (the default) or `concurrent.futures` futures (`FUTURES`, with `LocalCalls`).
"""

from __future__ import annotations

import concurrent.futures
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
class Handles:
    """How a dispatcher's handles are awaited: `wait` returns those of `handles` that are ready
    (at least one), `get` a ready one's result, raising one of `failures` when its call failed;
    `place` says where the calls ran (in a lost batch's detail)."""

    wait: Callable[[list[Any]], list[Any]]
    get: Callable[[Any], Any]
    failures: tuple[type[BaseException], ...]
    place: str


def ray_handles() -> Handles:
    """Ray ObjectRefs; a failure is any `RayError` (a task or actor died, or raised)."""
    import ray
    from ray.exceptions import RayError

    return Handles(lambda refs: ray.wait(refs, num_returns=1)[0], ray.get, (RayError,), "on Ray")


FUTURES = Handles(
    lambda futures: list(concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED).done),
    lambda future: future.result(),
    (Exception,),
    "on this machine",
)
"""`concurrent.futures` futures; a failure is any exception of the call (a broken pool included)."""


class LocalCalls(Generic[Batch]):
    """A `Dispatcher` over a `concurrent.futures` executor on this machine: each batch is one call
    `work(batch, *arguments)`; nothing to free when one finishes."""

    def __init__(self, executor: concurrent.futures.Executor, work: Callable[..., Any], *arguments: Any) -> None:
        self.executor, self.work, self.arguments = executor, work, arguments

    def submit(self, batch: Batch) -> concurrent.futures.Future:
        """Start one batch."""
        return self.executor.submit(self.work, batch, *self.arguments)

    def done(self, ref: Any, failed: bool) -> None:
        """The executor's workers take the next call by themselves."""


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
    handles: Handles | None = None,
) -> Iterator[tuple[Batch, Result, BatchReport]]:
    """Yield (batch, result, report) per batch in input order, at most `window` batches open at once;
    `handles` defaults to Ray's."""
    handles = handles or ray_handles()
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
        for ref in handles.wait(list(in_flight)):
            index = in_flight.pop(ref)
            entry = open_batches[index]
            try:
                entry.result, entry.done = handles.get(ref), True
                dispatcher.done(ref, failed=False)
            except handles.failures as error:
                dispatcher.done(ref, failed=True)
                if entry.attempts <= retries:
                    entry.attempts += 1
                    start(index)
                else:
                    detail = f"batch failed {entry.attempts} times {handles.place}: {type(error).__name__}: {error}"
                    entry.lost = detail[:2000]
                    entry.result, entry.done = lost(entry.batch, entry.lost), True
