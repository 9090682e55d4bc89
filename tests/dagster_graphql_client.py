"""A small client for a running Dagster webserver's GraphQL API, for the end-to-end tests."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from codeboost_dagster.ray_head import free_port as free_port  # the end-to-end tests' ports

LOCATION = "codeboost_dagster"
REPOSITORY = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}
TERMINAL_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")
SENSOR_QUERY = """query ($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  ... on Sensor { id sensorState { status } } ... on PythonError { message } } }"""
STOP_SENSOR = """mutation ($id: String!) {
  stopSensor(id: $id) { ... on StopSensorMutationResult { instigationState { status } } } }"""
ADD_PARTITION = """mutation ($repo: RepositorySelector!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: "code_dumps", partitionKey: $key) {
  __typename ... on PythonError { message } } }"""
LAUNCH_RUN = """mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN_QUERY = """query ($runId: ID!) { runOrError(runId: $runId) {
  ... on Run { runId status startTime endTime tags { key value } } } }"""


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict:
    """The `data` of one GraphQL request to the webserver on loopback; fails the test on errors."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        pytest.fail(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    interval: float = 2.0,
) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the server exited while waiting for {what}")
        try:
            value = condition()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what}")


def stop_sensor(port: int, name: str) -> None:
    """Stop one of our sensors, so that a test decides what runs."""
    sensor = graphql(port, SENSOR_QUERY, {"selector": {**REPOSITORY, "sensorName": name}})["sensorOrError"]
    stopped = graphql(port, STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
    assert stopped["instigationState"]["status"] == "STOPPED"


def launch_run(port: int, job: str, tags: dict[str, str] | None = None) -> str:
    """Launch (submit) a run of one of our jobs; returns its run id."""
    params = {
        "selector": {**REPOSITORY, "jobName": job},
        "executionMetadata": {"tags": [{"key": key, "value": value} for key, value in (tags or {}).items()]},
    }
    launched = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def add_dump_partition(port: int, key: str) -> None:
    """Register a dump as a partition of `code_dumps`."""
    added = graphql(port, ADD_PARTITION, {"repo": REPOSITORY, "key": key})["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess", added


def run_status(port: int, run_id: str) -> dict:
    """One run's status, start and end times and tags."""
    return graphql(port, RUN_QUERY, {"runId": run_id})["runOrError"]


def wait_until_finished(port: int, run_id: str, timeout: float, process: subprocess.Popen | None = None) -> dict:
    """The run once it has reached a terminal status."""
    return wait_for(
        lambda: (run := run_status(port, run_id))["status"] in TERMINAL_STATUSES and run,
        timeout,
        f"run {run_id}",
        process,
    )
