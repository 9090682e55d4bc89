"""The compose deployment (docker/), brought up as a user would with docker/up.sh, under its own
project name, on a free loopback port, with a temp data folder: a dump partition is materialized
through the webserver's GraphQL API, the run and its materializations are found in Postgres, and
of two training runs submitted together only one runs at a time; the code server runs untrusted
code in sandbox containers on the host's engine. Torn down with its volumes."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from tests.dagster_graphql_client import (
    TERMINAL_STATUSES,
    add_dump_partition,
    free_port,
    launch_run,
    run_status,
    stop_sensor,
    wait_until_finished,
)
from tests.helpers import GOOD_PROGRAM, REPO

IMAGES = ("codeboost-dagster:latest", "codeboost-postgres:latest", "codeboost-sandbox:latest")
OUR_SENSORS = ("new_dump_sensor", "curate_after_ingestion", "rebuild_training_data_sensor")
pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _images_missing() -> list[str]:
    return [
        image
        for image in IMAGES
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0
    ]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """The deployment up on a free port; yields (port, data folder, environment); torn down with its volumes."""
    missing = _images_missing() if subprocess.run(["docker", "info"], capture_output=True).returncode == 0 else IMAGES
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the deployment images are missing: {missing} (make test builds them)")
        pytest.skip(f"deployment images missing: {missing}; `make deployment-images` builds them")
    data = tmp_path_factory.mktemp("deployment")
    port = free_port()
    env = {
        **os.environ,
        "CODEBOOST_DEPLOYMENT": f"codeboost-test-{uuid.uuid4().hex[:8]}",
        "CODEBOOST_DATA_DIR": str(data),
        "CODEBOOST_WEBSERVER_PORT": str(port),
    }
    try:
        subprocess.run(["bash", str(REPO / "docker" / "up.sh")], env=env, check=True, timeout=600)
        for sensor in OUR_SENSORS:
            stop_sensor(port, sensor)
        yield port, data, env
    finally:
        subprocess.run(["bash", str(REPO / "docker" / "down.sh"), "--volumes"], env=env, timeout=300)


def _in_service(env: dict[str, str], service: str, command: str, stdin: str | None = None) -> str:
    compose = f"source docker/compose.sh && compose exec -T {service} {command}"
    return subprocess.run(
        ["bash", "-c", compose], env=env, cwd=REPO, input=stdin, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


def _psql(env: dict[str, str], sql: str) -> str:
    return _in_service(env, "postgres", f'psql -U dagster -d dagster -tAc "{sql}"')


def test_a_partition_materialized_through_the_webserver_is_stored_in_postgres(deployment):
    port, data, env = deployment
    rows = [
        {"code_str": GOOD_PROGRAM.replace("[1, 2, 3, 4]", f"[{index}, {index + 2}]"), "test_cases_str": "[]"}
        for index in range(4)
    ]
    (data / "dumps" / "deployed.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    add_dump_partition(port, "deployed.jsonl")

    run_id = launch_run(port, "ingest_dump", {"dagster/partition": "deployed.jsonl"})
    run = wait_until_finished(port, run_id, timeout=300)

    assert run["status"] == "SUCCESS"
    assert _psql(env, f"select status from runs where run_id = '{run_id}'") == "SUCCESS"
    materialized = _psql(
        env,
        "select distinct asset_key from event_logs where run_id = "
        f"'{run_id}' and dagster_event_type = 'ASSET_MATERIALIZATION' order by asset_key",
    )
    assert materialized.split() == [
        '["filter_report"]',
        '["filtered_snippets"]',
        '["raw_snippets"]',
        '["synthesis_report"]',
        '["synthesized_snippets"]',
    ]
    assert (data / "storage" / "filtered_snippets" / "deployed.jsonl.parquet").exists()


def test_two_training_runs_submitted_together_run_one_at_a_time(deployment):
    port, _, _ = deployment
    run_ids = [launch_run(port, "train_policy") for _ in range(2)]
    seen_together = False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        statuses = [run_status(port, run_id)["status"] for run_id in run_ids]
        seen_together |= all(status in ("STARTING", "STARTED") for status in statuses)
        if all(status in TERMINAL_STATUSES for status in statuses):
            break
        time.sleep(0.5)
    first, second = sorted((run_status(port, run_id) for run_id in run_ids), key=lambda run: run["startTime"])

    assert first["status"] in TERMINAL_STATUSES and second["status"] in TERMINAL_STATUSES
    assert not seen_together
    assert second["startTime"] >= first["endTime"]
    assert {"key": "codeboost/training", "value": "grpo"} in first["tags"]


SANDBOXED_PROGRAM = """
from codeboost_dagster.core.sandbox import Program, open_sandbox
from codeboost_dagster.core.settings import CodeBoostSettings

with open_sandbox("docker", CodeBoostSettings().sandbox, 1) as sandbox:
    [result] = sandbox.run_many([Program(code="print(6 * 7)\\nprint(1 / 0)\\n")])
print(result.backend, result.status, result.error_type, repr(result.stdout))
"""


def test_the_code_server_runs_programs_in_sandbox_containers_on_the_hosts_engine(deployment):
    _, _, env = deployment
    output = _in_service(env, "code_server", "python -", stdin=SANDBOXED_PROGRAM)
    assert output.splitlines()[-1] == "docker error ZeroDivisionError '42\\n'"
