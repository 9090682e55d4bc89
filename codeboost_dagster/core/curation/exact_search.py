"""Exact maximum-clique search with a deadline, through a killable igraph worker process.

igraph's exact clique search runs in C without checking for signals, so a thread cannot stop
it. The search runs in a long-lived worker process (`exact_worker.py`, started on first use);
when a request misses its deadline the worker is killed and the caller falls back to the
greedy result. A worker that cannot start is not tried again by the same client.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORKER_SCRIPT = Path(__file__).with_name("exact_worker.py")
WORKER_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ExactAnswer:
    """Local indices of a maximum independent set, or why there are none (`failure`)."""

    members: np.ndarray | None
    failure: str | None = None


class ExactCliqueSearch:
    """Client of one exact-search worker; use as a context manager so the worker is closed."""

    def __init__(self) -> None:
        self._worker: subprocess.Popen[str] | None = None
        self._selector: selectors.DefaultSelector | None = None
        self._start_failure: str | None = None

    def __enter__(self) -> ExactCliqueSearch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker (if any); a later request starts a new one."""
        if self._worker is not None:
            self._worker.kill()
            self._worker.wait()
            self._worker.stdin.close()
            self._worker.stdout.close()
        if self._selector is not None:
            self._selector.close()
        self._worker = None
        self._selector = None

    def _read_line(self, timeout_s: float) -> dict | None:
        if not self._selector.select(timeout=max(timeout_s, 0.0)):
            return None
        line = self._worker.stdout.readline()
        return json.loads(line) if line else {"error": "exact-search worker exited"}

    def start(self) -> bool:
        """Make sure a worker is running (waiting up to WORKER_START_TIMEOUT_S); False if it cannot."""
        if self._worker is not None and self._worker.poll() is None:
            return True
        if self._start_failure is not None:
            return False
        self.close()
        try:
            self._worker = subprocess.Popen(
                [sys.executable, "-P", str(WORKER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        except OSError as error:
            self._start_failure = f"exact-search worker did not start: {error}"
            return False
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._worker.stdout, selectors.EVENT_READ)
        greeting = self._read_line(WORKER_START_TIMEOUT_S)
        if greeting != {"ready": True}:
            self._start_failure = f"exact-search worker did not start: {greeting or 'no answer'}"
            self.close()
            return False
        return True

    def maximum_independent_set(
        self, near: np.ndarray, preferred: np.ndarray, rank: np.ndarray, timeout_s: float
    ) -> ExactAnswer:
        """A maximum independent set of `near` (symmetric bool), if found within `timeout_s`.

        Among all maximum independent sets the one with the most `preferred` vertices, then
        the smallest `rank`s, is returned, so the choice does not depend on igraph's order.
        """
        if timeout_s <= 0:
            return ExactAnswer(None, "no time left in the chunk's limit")
        if not self.start():
            return ExactAnswer(None, self._start_failure)
        rows, cols = np.nonzero(np.triu(near, k=1))
        request = {
            "size": len(near),
            "edges": np.column_stack((rows, cols)).tolist(),
            "preferred": preferred.astype(int).tolist(),
            "rank": np.argsort(np.argsort(rank, kind="stable"), kind="stable").tolist(),
        }
        deadline = time.perf_counter() + timeout_s
        try:
            self._worker.stdin.write(json.dumps(request) + "\n")
            self._worker.stdin.flush()
        except OSError as error:
            self.close()
            return ExactAnswer(None, f"exact-search worker failed: {error}")
        answer = self._read_line(deadline - time.perf_counter())
        if answer is None or "members" not in answer:
            self.close()
            return ExactAnswer(
                None, answer["error"] if answer else f"chunk time limit reached ({timeout_s:.3g} s were left)"
            )
        return ExactAnswer(np.array(answer["members"], dtype=np.int64))
