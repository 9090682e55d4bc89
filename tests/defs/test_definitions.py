"""The code location as the UI shows it: a snapshot of what it defines (asset keys, groups, kinds,
checks, automation, jobs, schedules, sensors), every check says what it verifies, and every asset
names the settings sections it reads and carries a code version hashing them.

A deliberate change to the definitions updates the snapshot: `UPDATE_SNAPSHOTS=1 pytest
tests/defs/test_definitions.py`, and the diff shows it in review."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from codeboost_dagster.core.sandbox.runtime import DEFAULT_LOCK
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.definitions import defs
from codeboost_dagster.resources.settings import (
    own_settings_hash,
    sections_read,
    settings_code_versions,
    stage_fingerprint,
)

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def definitions_snapshot() -> dict:
    """What the code location defines, in a stable, reviewable form."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda key: key.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "automation": node.automation_condition.get_label() if node.automation_condition else None,
            "freshness": node.freshness_policy is not None,
            "settings": list(sections_read(node.metadata)),
            "checks": sorted(check.name for check in graph.get_check_keys_for_assets([key])),
        }
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "jobs": {
            job.name: sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys)
            for job in sorted(repository.get_all_jobs(), key=lambda job: job.name)
            if not job.name.startswith("__")
        },
        "schedules": {schedule.name: schedule.cron_schedule for schedule in repository.schedule_defs},
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
    }


def test_the_definitions_match_their_snapshot():
    current = definitions_snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), "definitions changed: see the module docstring"


def test_every_check_has_a_description():
    graph = defs.resolve_asset_graph()
    checks = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    assert len(checks) >= 13
    assert [check.key.name for check in checks if not check.description] == []


def test_every_asset_names_known_settings_sections_and_is_versioned_by_them():
    known = {field.name for field in dataclasses.fields(CodeBoostSettings)}
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        sections = sections_read(node.metadata)
        assert sections and set(sections) <= known, key
        assert own_settings_hash(node.code_version) == stage_fingerprint(CodeBoostSettings(), sections), key


def test_a_changed_runtime_lock_marks_the_stages_that_run_programs_and_below_stale_but_not_above(tmp_path):
    """The sandbox runtime's lock versions every stage that reads [sandbox] (call-input synthesis
    runs its candidates there, execution its programs) and, through parents' versions, everything
    downstream; a comment-only edit of the lock changes nothing."""
    specs = [spec for asset in defs.assets for spec in getattr(asset, "specs", [])]
    lock = tmp_path / "runtime.lock"
    lock.write_text(DEFAULT_LOCK.read_text())
    settings = CodeBoostSettings().with_overrides({"sandbox": {"runtime_lock": str(lock)}})
    base = settings_code_versions(specs, settings)
    lock.write_text("# a comment\n" + DEFAULT_LOCK.read_text())
    assert settings_code_versions(specs, settings) == base
    lock.write_text(DEFAULT_LOCK.read_text().replace("numpy==", "numpy==0"))
    changed = settings_code_versions(specs, settings)
    stale = {key.to_user_string() for key in base if changed[key] != base[key]}
    assert {"synthesized_snippets", "curated_snippets", "execution_records", "training_tasks", "verl_dataset"} <= stale
    assert not stale & {"raw_snippets", "filtered_snippets", "filter_report"}


def test_every_asset_says_its_kinds_and_stores_through_the_default_io_manager():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert {"pandas", "parquet"} <= set(node.kinds), key
        assert node.io_manager_key == "io_manager", key
