"""Spawned process pools whose workers never outlive the process that started them.

A `kill -9` of a run leaves a `ProcessPoolExecutor`'s workers alive: nobody tells them, and one
may sit blocked writing its result to a pipe nobody reads (and the pool's resource tracker waits
for them). `PR_SET_PDEATHSIG` would fire when the *thread* that spawned a worker exits, which in a
pool is whichever thread happened to submit, so each worker instead watches its parent from a
daemon thread and exits as soon as it is re-parented. With every worker gone, the resource
tracker's pipe closes and it exits too. Workers are spawned, not forked: safe under a threaded
host such as Dagster (a script using one must guard its entry point with `if __name__ == "__main__"`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PARENT_POLL_S = 0.5


def _exit_with_parent(parent: int) -> None:
    """The worker's initializer: a daemon thread ends the worker once `parent` is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def spawned_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes that exit within a second of this process's death."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )
