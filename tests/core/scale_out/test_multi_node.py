"""The Ray scale-out on a multi-node cluster: a head and worker nodes, each a raylet of its own
(`ray start` on loopback, one CPU each). Execution batches and the reward's re-runs spread over
every node's pool, and a node killed in the middle of a stage loses no row: its batches are
retried on the other nodes and the records equal the local path's."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pandas as pd
import pytest

from codeboost_dagster.core.scale_out import SandboxPools, execute_on_ray
from codeboost_dagster.ray_head import QUIET_RAY, local_ray_head, start_ray_node, stop_ray_node
from tests.helpers import (
    SCALE_OUT_LIMITS,
    SCALE_OUT_SETTINGS,
    comparable_records,
    local_records,
    slow_variants,
)

ray = pytest.importorskip("ray")

# A node that stops answering is declared dead after about 1.5 s instead of the default 15 s.
FAST_NODE_DEATH = {
    "RAY_health_check_initial_delay_ms": "0",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "500",
    "RAY_health_check_failure_threshold": "3",
}
NODE_START_TIMEOUT_S = 120


def _alive_cpu_nodes() -> list[str]:
    return [node["NodeID"] for node in ray.nodes() if node["Alive"] and node["Resources"].get("CPU", 0) >= 1]


def _join(head, count: int) -> list:
    """Start `count` one-CPU worker nodes on `head`, one after the other (two raylets starting at
    once can time out on a 2-core machine), each waited for until it is alive."""
    nodes = []
    for _ in range(count):
        expected = len(_alive_cpu_nodes()) + 1
        nodes.append(start_ray_node([f"--address={head.address}", "--num-cpus=1"], head.temp_dir, FAST_NODE_DEATH))
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        while len(_alive_cpu_nodes()) < expected:
            if time.monotonic() > deadline or nodes[-1].poll() is not None:
                pytest.fail("a Ray worker node did not join the head")
            time.sleep(0.5)
    return nodes


@pytest.fixture(scope="module")
def cluster():
    """A one-CPU head and two one-CPU worker nodes, this process connected as the driver."""
    with local_ray_head(num_cpus=1, env=FAST_NODE_DEATH) as head, pytest.MonkeyPatch.context() as patch:
        for name, value in QUIET_RAY.items():
            patch.setenv(name, value)
        ray.init(address=head.address, namespace="codeboost-multi-node", log_to_driver=False)
        workers = _join(head, 2)
        try:
            yield head
        finally:
            ray.shutdown()
            for worker in workers:
                stop_ray_node(worker)


def _node_loads(pools: SandboxPools) -> Counter:
    """Calls dispatched so far per node."""
    return Counter(dict(zip(pools.nodes, pools.dispatched)))


def test_execution_batches_spread_over_every_node(cluster, tmp_path):
    variants = slow_variants(24)
    with SandboxPools("forkserver", SCALE_OUT_LIMITS, SCALE_OUT_SETTINGS) as pools:
        assert len(set(pools.nodes)) == 3
        stage = execute_on_ray(variants, tmp_path / "records.parquet", pools, SCALE_OUT_SETTINGS)
        execution = _node_loads(pools)
    assert all(execution[node] >= 1 for node in pools.nodes), execution
    assert stage.lost_batches == 0
    pd.testing.assert_frame_equal(
        comparable_records(stage.outputs[0].read()), comparable_records(local_records(variants))
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_node_killed_mid_stage_loses_no_row(cluster, tmp_path):
    before = set(_alive_cpu_nodes())
    (doomed,) = _join(cluster, 1)
    (doomed_node,) = set(_alive_cpu_nodes()) - before
    variants = slow_variants(96)
    at_kill: dict[str, Counter] = {}
    with SandboxPools("forkserver", SCALE_OUT_LIMITS, SCALE_OUT_SETTINGS) as pools:
        pool_pid = dict(zip(pools.nodes, pools.pids()))[doomed_node]

        def on_batch(batch, table, report):
            if report.index == 1 and not at_kill:
                at_kill["loads"] = _node_loads(pools)
                os.killpg(doomed.pid, signal.SIGKILL)

        stage = execute_on_ray(variants, tmp_path / "records.parquet", pools, SCALE_OUT_SETTINGS, on_batch)
    records = stage.outputs[0].read()
    stop_ray_node(doomed)
    assert at_kill["loads"][doomed_node] >= 1, "the doomed node ran batches before it died"
    assert stage.retried_batches >= 1 and stage.lost_batches == 0
    assert len(records) == len(variants) and set(records["status"]) == {"ok"}
    pd.testing.assert_frame_equal(comparable_records(records), comparable_records(local_records(variants)))
    assert not _process_alive(pool_pid), "the dead node's pool worker is gone"
    assert doomed_node not in _alive_cpu_nodes()
