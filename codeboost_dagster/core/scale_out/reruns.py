"""Re-runs of many programs (the batch reward's backward answers) on the per-node pools of a Ray
job: programs go out in chunks to every node at once and come back in input order. Each process
of the job finds the same named pools, so the whole job shares one warm pool per node."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from codeboost_dagster.core.ids import content_id
from codeboost_dagster.core.sandbox import ExecutionResult, Program
from codeboost_dagster.core.scale_out.execution import lost_results
from codeboost_dagster.core.scale_out.sandbox_pools import SandboxPools
from codeboost_dagster.core.settings import SandboxLimits, ScaleOutSettings

_pools: dict[tuple[str, SandboxLimits], SandboxPools] = {}
_pools_lock = threading.Lock()


def shared_pools(backend: str, limits: SandboxLimits, settings: ScaleOutSettings) -> SandboxPools:
    """This Ray job's pools for (backend, limits), started by the first process that asks; they
    reserve `reward_cpus_per_slot` CPUs per slot, so they fit beside the training's workers."""
    key = (backend, limits)
    with _pools_lock:
        if key not in _pools:
            name = f"sandbox-{content_id(backend, repr(limits))[:12]}"
            _pools[key] = SandboxPools(
                backend, limits, settings, name=name, cpus_per_slot=settings.reward_cpus_per_slot
            )
        return _pools[key]


def run_programs_on_pools(
    programs: Sequence[Program], pools: SandboxPools, settings: ScaleOutSettings
) -> list[ExecutionResult]:
    """One result per program, in order; a chunk lost after its retries gives `sandbox_error` results."""
    size = settings.reward_batch_programs
    chunks = [list(programs[start : start + size]) for start in range(0, len(programs), size)]
    finished = pools.run("run_programs", chunks, lost_results, settings.batch_retries, len(programs))
    return [result for _, results, _ in finished for result in results]


def close_shared_pools() -> None:
    """Stop the pools this process started or found (end of a job; frees their CPUs)."""
    with _pools_lock:
        while _pools:
            _pools.popitem()[1].close()
