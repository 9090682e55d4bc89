"""Sandbox uid blocks: two sandboxes on one machine never run programs as the same uid, and a
block comes back when its holder dies, by kill -9 too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from codeboost_dagster.core.sandbox import Program, open_sandbox
from codeboost_dagster.core.sandbox.uids import UID_FLOOR, UIDS_PER_BLOCK, lease_uid_block
from codeboost_dagster.core.settings import SandboxLimits

LIMITS = SandboxLimits(wall_time_s=2.0, cpu_time_s=2.0)


def test_two_open_sandboxes_run_programs_as_different_uids():
    with open_sandbox("forkserver", LIMITS, concurrency=2) as first, open_sandbox("forkserver", LIMITS, 2) as second:
        assert abs(first.uid_base - second.uid_base) >= UIDS_PER_BLOCK
        if os.geteuid() == 0:  # only root can switch uids; otherwise programs run as us
            uids = [
                int(result.stdout)
                for sandbox in (first, second)
                for result in sandbox.run_many([Program("import os; print(os.getuid())")] * 4)
            ]
            assert not set(uids[:4]) & set(uids[4:]), uids


def test_a_closed_sandbox_gives_its_block_back(tmp_path):
    first = lease_uid_block(4, tmp_path)
    second = lease_uid_block(4, tmp_path)
    assert (first.base, second.base) == (UID_FLOOR, UID_FLOOR + UIDS_PER_BLOCK)
    first.release()
    assert lease_uid_block(4, tmp_path).base == UID_FLOOR
    with pytest.raises(ValueError, match="at most 256 slots"):
        lease_uid_block(UIDS_PER_BLOCK + 1, tmp_path)


def test_a_killed_holder_frees_its_block(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from codeboost_dagster.core.sandbox.uids import lease_uid_block;"
            f"block = lease_uid_block(2, Path({str(tmp_path)!r})); print(block.base, flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert int(holder.stdout.readline()) == UID_FLOOR
        assert lease_uid_block(2, tmp_path).base == UID_FLOOR + UIDS_PER_BLOCK
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lease_uid_block(2, tmp_path).base == UID_FLOOR
