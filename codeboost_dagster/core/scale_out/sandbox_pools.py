"""One warm sandbox pool per Ray node: an actor that opens the configured sandbox backend with
a slot per CPU of its node and runs whole batches on it, exactly as the local path does
(`plan_runs` + `execute_runs` on an open `Sandbox`), so records are the same wherever they run.

Untrusted code runs only inside the sandbox the actor opens, never in the actor or the driver.
Ray restarts a pool whose worker process died (`pool_restarts`); the batch it was running fails
on the driver, which waits for the restart and submits it again (see batch_runner). Ray is
imported only when pools start.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.sandbox import open_declared_sandbox
from codeboost_dagster.core.scale_out.batch_runner import BatchReport, run_batches
from codeboost_dagster.core.settings import SandboxLimits, ScaleOutSettings
from codeboost_dagster.core.variant_runs import execute_variants

RESTART_POLL_S = 0.5
"""How often the driver asks a failed pool whether Ray has restarted it."""
READY_POLL_S = 5.0
"""How long one such question waits for the answer before the pool's node is checked again."""

Batch = TypeVar("Batch")
Result = TypeVar("Result")


class SandboxPool:
    """The actor's body: an open sandbox with `slots` warm servers on this node."""

    def __init__(self, backend: str, limits: SandboxLimits, slots: int, backend_options: dict[str, Any]) -> None:
        self.backend = backend
        self.sandbox = open_declared_sandbox(backend, limits, slots, **backend_options)

    def ready(self) -> int:
        """The worker's process id, once its sandbox servers are up."""
        return os.getpid()

    def execute(self, variants: pd.DataFrame) -> pa.Table:
        """EXECUTION_RECORDS rows of every (variant, test case) of one batch, in plan order."""
        return execute_variants(variants, self.sandbox, self.backend)

    def close(self) -> None:
        """Stop the sandbox servers before the actor goes away."""
        self.sandbox.close()


def _alive_node_ids() -> set[str]:
    import ray

    return {node["NodeID"] for node in ray.nodes() if node["Alive"]}


def _cpu_nodes() -> list[tuple[str, int]]:
    import ray

    nodes = [(node["NodeID"], int(node["Resources"].get("CPU", 0))) for node in ray.nodes() if node["Alive"]]
    return [(node_id, cpus) for node_id, cpus in nodes if cpus >= 1]


class SandboxPools:
    """A `SandboxPool` actor pinned to every alive node with CPUs; batches go to the least loaded.

    `nodes[i]` is the node of pool i and `dispatched[i]` the calls sent to it so far (batches per
    node, for operators and for the multi-node tests); a pool whose node left is skipped from then on.
    """

    def __init__(
        self,
        backend: str,
        limits: SandboxLimits,
        settings: ScaleOutSettings,
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.backend, self.settings = backend, settings
        actor_class = ray.remote(SandboxPool)
        self.actors: list[Any] = []
        self.slots: list[int] = []
        self.nodes: list[str] = []
        for node_id, cpus in _cpu_nodes():
            slots = settings.slots_per_pool or cpus
            options: dict[str, Any] = {
                "num_cpus": min(slots * settings.cpus_per_slot, cpus),
                "max_restarts": settings.pool_restarts,
                "max_task_retries": 0,
                "max_concurrency": settings.batches_per_pool + 1,  # one thread left for ready()/close()
                "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False),
            }
            self.actors.append(actor_class.options(**options).remote(backend, limits, slots, backend_options or {}))
            self.slots.append(slots)
            self.nodes.append(node_id)
        if not self.actors:
            raise RuntimeError("the Ray cluster has no alive node with a CPU")
        self._loads = [0] * len(self.actors)
        self.dispatched = [0] * len(self.actors)
        self._owner: dict[Any, int] = {}
        self._dead: set[int] = set()
        ray.get([actor.ready.remote() for actor in self.actors], timeout=settings.pool_start_timeout_s)

    @property
    def window(self) -> int:
        """Batches the driver keeps open: every pool busy with `batches_per_pool`, plus a queue."""
        return len(self.actors) * (self.settings.batches_per_pool + self.settings.queued_batches_per_pool)

    def run(
        self,
        method: str,
        batches: Iterable[Batch],
        lost: Callable[[Batch, str, str], Result],
        retries: int,
        rows_total: int,
    ) -> Iterator[tuple[Batch, Result, BatchReport]]:
        """`method` of the pools over every batch, in input order, within the pools' window; a batch
        that fails past `retries` becomes `lost(batch, detail, backend)` (see batch_runner)."""
        return run_batches(
            batches,
            PoolMethod(self, method),
            lambda batch, detail: lost(batch, detail, self.backend),
            window=self.window,
            retries=retries,
            rows=len,
            rows_total=rows_total,
        )

    def pids(self) -> list[int]:
        """Process id of every pool's worker (for operators, and for the tests that kill one)."""
        import ray

        return ray.get([actor.ready.remote() for actor in self.actors])

    def submit(self, method: str, payload: Any) -> Any:
        """Call `method(payload)` on the least loaded live pool (load per slot); returns the ObjectRef."""
        live = [index for index in range(len(self.actors)) if index not in self._dead]
        if not live:
            raise RuntimeError("every sandbox pool on the Ray cluster died and could not be restarted")
        index = min(live, key=lambda i: (self._loads[i] / self.slots[i], i))
        ref = getattr(self.actors[index], method).remote(payload)
        self._loads[index] += 1
        self.dispatched[index] += 1
        self._owner[ref] = index
        return ref

    def done(self, ref: Any, failed: bool) -> None:
        """A submitted call finished: its pool has room again. After a failure, wait until Ray
        has restarted the pool, so a retried batch does not land on a worker that is gone."""
        index = self._owner.pop(ref)
        self._loads[index] -= 1
        if failed and not self._wait_until_ready(index):
            self._dead.add(index)

    def _wait_until_ready(self, index: int) -> bool:
        """Whether pool `index` answers again within `pool_start_timeout_s`. A pool whose node has
        left the cluster never will (it is pinned there): that is known at the next poll, so a lost
        node costs the stage one poll, not the whole timeout."""
        import ray

        deadline = time.monotonic() + self.settings.pool_start_timeout_s
        while time.monotonic() < deadline:
            wait = min(READY_POLL_S, max(0.0, deadline - time.monotonic()))
            try:
                ray.get(self.actors[index].ready.remote(), timeout=wait)
                return True
            except ray.exceptions.ActorDiedError:  # no restart left, or its node left the cluster
                return False
            except ray.exceptions.RayError:  # restarting (ActorUnavailableError) or slow to answer
                if self.nodes[index] not in _alive_node_ids():
                    return False
                time.sleep(RESTART_POLL_S)
        return False

    def close(self) -> None:
        """Stop every pool's sandbox and its actor (a pool whose node is gone is only released)."""
        import ray

        for index, actor in enumerate(self.actors):
            if index not in self._dead:
                with contextlib.suppress(ray.exceptions.RayError):  # already gone: nothing left to stop
                    ray.get(actor.close.remote(), timeout=self.settings.pool_start_timeout_s)
            ray.kill(actor, no_restart=True)
        self.actors = []

    def __enter__(self) -> SandboxPools:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class PoolMethod:
    """A `Dispatcher` (see batch_runner) that sends each batch to `method` of the least loaded pool."""

    def __init__(self, pools: SandboxPools, method: str) -> None:
        self.pools, self.method = pools, method

    def submit(self, batch: Any) -> Any:
        """Start one batch."""
        return self.pools.submit(self.method, batch)

    def done(self, ref: Any, failed: bool) -> None:
        """Free the batch's place (and wait for a restart after a failure)."""
        self.pools.done(ref, failed)
