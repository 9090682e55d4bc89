"""End to end through the real UI stack: `dg dev` (webserver + daemon) on a free loopback port
with a temp DAGSTER_HOME; a dump dropped into the watched folder is picked up by the sensor, its
run succeeds (seen through GraphQL), and headless Chromium renders our assets: the catalog, the
lineage of the verl dataset back to the raw snippets, the ingested partition's metadata and (after
a click, over the DevTools protocol) its plot, and the run. The screenshots are kept as test artifacts (the README shows
them). Everything started here is stopped by PID."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chromium_page import chromium_page
from tests.dagster_graphql_client import TERMINAL_STATUSES, free_port, graphql, wait_for
from tests.helpers import GOOD_PROGRAM, REPO

BIN = Path(sys.executable).parent
ARTIFACTS = Path(os.environ.get("CODEBOOST_TEST_ARTIFACTS", REPO / ".tmp" / "test-artifacts"))
# ENVIRONMENT.md: no sandbox as root, and no traffic beyond loopback (no background networking).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1600,1000",
]
RUNS_QUERY = """query { runsOrError(filter: {pipelineName: "ingest_dump"}) {
  ... on Runs { results { runId status tags { key value } } } } }"""
DUMP = "dropped.jsonl"
PARTITION_EVENTS = f"assets/filtered_snippets?view=events&partition={DUMP}"
SCREENSHOTS = {
    "ui-asset-lineage.png": "asset-groups",
    "ui-verl-dataset-lineage.png": "assets/verl_dataset?view=lineage&lineageScope=upstream&lineageDepth=8",
    "ui-filtered-snippets-metadata.png": PARTITION_EVENTS,
}
SHOW_PLOT = "[Show Markdown]"
PLOT = 'img[src^="data:image/png"]'
PLOT_SHOWN = f"document.querySelectorAll({json.dumps(PLOT)}).length > 0"
pytestmark = pytest.mark.slow


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Debian's chromium is not installed (make test installs it)")
        pytest.skip("Debian's chromium is not installed; `make test` installs it")
    return path


@pytest.fixture
def dagster_dev(tmp_path, model_cache):
    """`dg dev` for this project on a free port; yields (port, dumps folder, process); stopped by PID."""
    home, dumps = tmp_path / "dagster_home", tmp_path / "dumps"
    home.mkdir()
    dumps.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CODEBOOST_DUMPS_DIR": str(dumps),
        "CODEBOOST_STORAGE": str(tmp_path / "storage"),
        "CODEBOOST_MODEL_CACHE": str(model_cache),
    }
    log = (tmp_path / "dagster-dev.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: "version" in graphql(port, "query { version }"), 120, "the webserver", server)
        yield port, dumps, server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def test_a_dropped_dump_is_ingested_by_the_sensor_and_the_ui_shows_the_assets(dagster_dev, chromium, tmp_path):
    port, dumps, server = dagster_dev
    rows = [
        {"code_str": GOOD_PROGRAM.replace("[1, 2, 3, 4]", f"[{index}, {index + 1}]"), "test_cases_str": "[]"}
        for index in range(5)
    ]
    (dumps / DUMP).write_text("\n".join(json.dumps(row) for row in rows) + "\n")

    def finished_run():
        results = graphql(port, RUNS_QUERY)["runsOrError"]["results"]
        done = [run for run in results if run["status"] in TERMINAL_STATUSES]
        return done[0] if done else None

    run = wait_for(finished_run, 240, "the sensor's ingestion run", server)
    assert run["status"] == "SUCCESS"
    assert {"key": "dagster/partition", "value": DUMP} in run["tags"]

    assert graphql(port, "mutation { setNuxSeen }")["setNuxSeen"]  # the first-visit community dialog
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    common = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=20000",
    ]
    # The catalog is a virtualized list: a window tall enough for every asset renders them all.
    tall = [flag if not flag.startswith("--window-size") else "--window-size=1600,4000" for flag in common]
    catalog = subprocess.run(
        [*tall, "--dump-dom", f"http://127.0.0.1:{port}/assets"], capture_output=True, text=True, timeout=180
    ).stdout
    for asset in ("raw_snippets", "curated_snippets", "verl_dataset", "grpo_training", "evaluation"):
        assert asset in catalog, f"{asset} is not in the asset catalog"
    for name, page in {**SCREENSHOTS, "ui-ingestion-run.png": f"runs/{run['runId']}"}.items():
        subprocess.run(
            [*common, f"--screenshot={ARTIFACTS / name}", f"http://127.0.0.1:{port}/{page}"],
            capture_output=True,
            timeout=180,
            check=True,
        )
        assert (ARTIFACTS / name).stat().st_size > 10_000

    with chromium_page(
        chromium, CHROMIUM_FLAGS, tmp_path / "devtools-profile", f"http://127.0.0.1:{port}/{PARTITION_EVENTS}"
    ) as page:
        page.wait_for_text(SHOW_PLOT)
        page.click_text(SHOW_PLOT)
        page.wait_until(PLOT_SHOWN)
        page.screenshot(ARTIFACTS / "ui-filtered-snippets-plot.png")
    assert (ARTIFACTS / "ui-filtered-snippets-plot.png").stat().st_size > 10_000
