"""A run killed with kill -9 leaves no pool worker behind: spawned workers exit with their parent,
even while busy, and the pool's resource tracker follows them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.helpers import child_pids, process_running

SCRIPT = """
import os, time
from codeboost_dagster.core.process_pools import spawned_pool

def busy(_):
    time.sleep(600)

if __name__ == "__main__":
    pool = spawned_pool(2)
    futures = [pool.submit(busy, index) for index in range(2)]
    print("submitted", flush=True)
    time.sleep(600)
"""


def test_busy_workers_and_the_resource_tracker_die_with_a_killed_parent(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert parent.stdout.readline().strip() == "submitted"
    deadline = time.monotonic() + 60
    while len(children := child_pids(parent.pid)) < 3 and time.monotonic() < deadline:  # 2 workers, the tracker
        time.sleep(0.2)
    assert len(children) >= 3, children
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while (alive := {child for child in children if process_running(child)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive, f"still running 10 s after the parent's kill -9: {alive}"
