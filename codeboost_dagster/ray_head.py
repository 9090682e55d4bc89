"""A Ray head of our own on loopback, with a dashboard for job submission: for `codeboost
gpu-smoke` on one machine, and for the tests. `ray start --block` runs in a process group of its
own; stopping it (SIGTERM, then SIGKILL to the group) stops every Ray process it started, so a
run that ends, fails or is interrupted leaves none behind, and it is sent SIGTERM when the process
that started it dies, by kill -9 too. Never `ray stop`: that would also stop
a neighbour's Ray.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1
QUIET_RAY = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
START_TIMEOUT_S = 120


@dataclass(frozen=True)
class RayHead:
    """A running local Ray head: its dashboard URL (job submission) and GCS address (ray.init)."""

    dashboard: str
    address: str
    temp_dir: str


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_with_parent() -> None:
    """A `preexec_fn`: the child gets SIGTERM when the process that started it dies (kill -9
    included); `ray start --block` then stops its node."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_ray_node(arguments: list[str], temp_dir: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`ray start --block` on loopback in a process group of its own (stopped with `stop_ray_node`);
    its output goes to a log in `temp_dir`, where Ray's own logs are."""
    command = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        *arguments,
    ]
    with open(Path(temp_dir) / f"ray-start-{time.monotonic_ns()}.log", "w") as log:
        return subprocess.Popen(
            command,
            env={**os.environ, **QUIET_RAY, **(env or {}), "RAY_TMPDIR": temp_dir},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )


def stop_ray_node(node: subprocess.Popen) -> None:
    """SIGTERM to `ray start` (it stops its node), then SIGKILL to whatever of its group is left."""
    node.send_signal(signal.SIGTERM)
    try:
        node.wait(timeout=30)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)


@contextmanager
def local_ray_head(num_cpus: int, num_gpus: int = 0, env: dict[str, str] | None = None) -> Iterator[RayHead]:
    """A Ray head on loopback with `num_cpus` CPUs, `num_gpus` GPUs, its own temp dir and a dashboard."""
    from ray.job_submission import JobSubmissionClient

    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths have a length limit
    dashboard, gcs = free_port(), free_port()
    head = start_ray_node(
        [
            "--head",
            f"--port={gcs}",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dashboard}",
            f"--dashboard-agent-listen-port={free_port()}",  # not Ray's fixed 52365: a neighbour may hold it
            f"--num-cpus={num_cpus}",
            f"--num-gpus={num_gpus}",
            "--include-dashboard=true",
        ],
        temp_dir,
        env,
    )
    address = f"http://127.0.0.1:{dashboard}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            try:
                JobSubmissionClient(address).list_jobs()
                break
            except Exception:
                if time.monotonic() > deadline or head.poll() is not None:
                    raise RuntimeError(f"the local Ray head did not come up; its log is in {temp_dir}") from None
                time.sleep(1)
        yield RayHead(address, f"127.0.0.1:{gcs}", temp_dir)
    finally:
        stop_ray_node(head)
