"""The root workspace.yaml, loaded as `dagster dev -w workspace.yaml` loads it (Dagster's workspace
loading, a code server process of its own), defines every asset of the code location."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from codeboost_dagster.definitions import defs

WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"


def test_the_root_workspace_loads_the_code_location_with_every_asset():
    target = WorkspaceFileTarget(paths=[str(WORKSPACE)])
    with dg.instance_for_test() as instance, WorkspaceProcessContext(instance, target) as process:
        workspace = process.create_request_context()
        assert workspace.get_code_location_error("codeboost_dagster") is None
        location = workspace.get_code_location("codeboost_dagster")
        (repository,) = location.get_repositories().values()
        loaded = {node.asset_key for node in repository.get_asset_node_snaps()}
    assert loaded == set(defs.resolve_asset_graph().get_all_asset_keys())
