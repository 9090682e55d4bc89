"""Run monitoring: a run whose worker was killed with SIGKILL is marked failed, a live one is left alone.
The instance is the project's own `dagster_home/dagster.yaml`; the run is a real `codeboost run`."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from codeboost_dagster.run_launcher import RUN_WORKER_PID_TAG, MonitoredRunLauncher
from tests.helpers import REPO

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("instance_yaml", ["dagster_home/dagster.yaml", "docker/dagster.yaml"])
def test_both_instances_monitor_runs_with_a_health_checking_launcher(instance_yaml):
    text = (REPO / instance_yaml).read_text()
    assert "class: MonitoredRunLauncher" in text and "run_monitoring:\n  enabled: true" in text


def test_a_killed_run_is_marked_failed_and_a_live_one_is_not(dumps_root, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CODEBOOST_DUMPS_DIR": str(dumps_root),
        "CODEBOOST_STORAGE": str(tmp_path / "storage"),
        "CODEBOOST_MODEL_CACHE": str(tmp_path / "models"),
    }
    process = subprocess.Popen(
        [str(BIN / "codeboost"), "run", "--dump", "sample.jsonl"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.environ["DAGSTER_HOME"], previous = str(home), os.environ.get("DAGSTER_HOME")
    try:
        with DagsterInstance.get() as instance:
            assert isinstance(instance.run_launcher, MonitoredRunLauncher) and instance.run_monitoring_enabled
            deadline = time.monotonic() + 120
            while not (records := instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED]))):
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
            record = records[0]
            assert record.dagster_run.tags[RUN_WORKER_PID_TAG] == str(process.pid)
            monitor_started_run(instance, None, record, logging.getLogger("test"))
            assert instance.get_run_by_id(record.dagster_run.run_id).status == DagsterRunStatus.STARTED
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            record = instance.get_run_record_by_id(record.dagster_run.run_id)
            assert record.dagster_run.status == DagsterRunStatus.STARTED  # nothing else would ever change it
            monitor_started_run(instance, None, record, logging.getLogger("test"))
            assert instance.get_run_by_id(record.dagster_run.run_id).status == DagsterRunStatus.FAILURE
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        if previous is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = previous
