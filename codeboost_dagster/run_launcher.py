"""A run launcher whose run workers Dagster's run monitoring can check, so a killed run is marked failed.

Dagster's `DefaultRunLauncher` starts each run worker through the code server but cannot say whether
that worker is still alive, so a run whose worker died (kill -9, OOM, a lost container) stays
"started" forever and the deployment's run retries never see it. `MonitoredRunLauncher` answers
run monitoring's health check:
- a run launched through a code server: alive while that server still has an execution for it
  (its `CanCancelExecution` call), failed once the server has none;
- a run executed in a process of its own (`codeboost run`, tagged with `RUN_WORKER_TAGS`): alive
  while that process is, on this host.
Both instance files (`dagster_home/dagster.yaml`, `docker/dagster.yaml`) use it with
`run_monitoring` enabled; the daemon (`dg dev` starts it) then fails a dead run within one poll
interval, and the deployment retries it once.
"""

from __future__ import annotations

import os
import socket

from dagster import DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun

RUN_WORKER_HOST_TAG = "codeboost/run_worker_host"
RUN_WORKER_PID_TAG = "codeboost/run_worker_pid"


def run_worker_tags() -> dict[str, str]:
    """Tags naming this process as the run worker of a run executed in it."""
    return {RUN_WORKER_HOST_TAG: socket.gethostname(), RUN_WORKER_PID_TAG: str(os.getpid())}


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class MonitoredRunLauncher(DefaultRunLauncher):
    """`DefaultRunLauncher` plus the run-worker health check that run monitoring needs."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the run's worker exists, FAILED once it is gone (see the module doc)."""
        if RUN_WORKER_PID_TAG in run.tags:
            host, pid = run.tags.get(RUN_WORKER_HOST_TAG), int(run.tags[RUN_WORKER_PID_TAG])
            if host != socket.gethostname():
                return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker on {host}: not checked from here")
            alive = _process_alive(pid)
            return CheckRunHealthResult(
                WorkerStatus.RUNNING if alive else WorkerStatus.FAILED,
                None if alive else f"run worker process {pid} on {host} is gone",
            )
        client = self._get_grpc_client_for_termination(run.run_id)
        if client is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker known for this run: not checked")
        from dagster._grpc.types import CanCancelExecutionRequest, CanCancelExecutionResult
        from dagster._serdes import deserialize_value

        try:
            reply = client.can_cancel_execution(CanCancelExecutionRequest(run_id=run.run_id), timeout=15)
        except Exception as error:  # the code server itself is gone: so are its run workers
            return CheckRunHealthResult(WorkerStatus.FAILED, f"code server unreachable: {error}")
        if deserialize_value(reply, CanCancelExecutionResult).can_cancel:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, "the code server has no run worker for this run")
