"""Automation a data team relies on: sensors and the schedule start running, the data stages
rebuild after the selection changes (evaluated by Dagster's own automation engine), the selection
has a freshness policy, flaky stages retry with backoff, training runs one at a time in both
instances, and a failed blocking check stops everything downstream."""

from __future__ import annotations

from dataclasses import replace

import dagster as dg
import pytest
import yaml

from codeboost_dagster.definitions import defs
from codeboost_dagster.defs import curation
from codeboost_dagster.defs.augmentation import AUGMENTATION_GROUP
from codeboost_dagster.defs.curation import CURATION_GROUP
from codeboost_dagster.defs.ingestion import INGESTION_GROUP
from codeboost_dagster.defs.training import TRAINING_RUN_TAG
from codeboost_dagster.defs.training_data import DATA_STAGES
from codeboost_dagster.resources.settings import SettingsResource
from tests.helpers import DUMP, REPO, make_resources

DATA_STAGE_KEYS = DATA_STAGES.resolve(defs.resolve_asset_graph())


def test_sensors_and_the_recuration_schedule_run_from_the_start():
    sensors = ["new_dump_sensor", "curate_after_ingestion", "rebuild_training_data_sensor"]
    assert all(defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING for name in sensors)
    assert defs.resolve_schedule_def("recuration_schedule").default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_new_selection_requests_every_data_stage_and_nothing_expensive():
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert first.total_requested == 0
        instance.report_runless_asset_event(dg.AssetMaterialization("curated_snippets"))
        second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {key.to_user_string() for key in DATA_STAGE_KEYS if second.get_num_requested(key)}
    assert requested == {
        "augmented_variants",
        "augmentation_report",
        "execution_records",
        "training_tasks",
        "task_report",
        "verl_dataset",
        "verl_dataset_report",
    }
    for expensive in ("grpo_training", "evaluation"):
        assert second.get_num_requested(dg.AssetKey(expensive)) == 0


def test_the_selection_has_a_daily_freshness_policy():
    policy = defs.resolve_asset_graph().get(dg.AssetKey("curated_snippets")).freshness_policy
    assert policy is not None and policy.fail_window.to_timedelta().total_seconds() == 26 * 3600


@pytest.mark.parametrize("job_name", ["build_training_data", "train_policy", "evaluate_policy"])
def test_stages_that_touch_engines_and_clusters_retry_with_backoff(job_name):
    policy = defs.resolve_job_def(job_name).op_retry_policy
    assert policy.max_retries == 2 and policy.backoff == dg.Backoff.EXPONENTIAL


@pytest.mark.parametrize("instance_yaml", ["docker/dagster.yaml", "dagster_home/dagster.yaml"])
def test_both_instances_run_one_training_run_at_a_time(instance_yaml):
    limits = yaml.safe_load((REPO / instance_yaml).read_text())["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": TRAINING_RUN_TAG, "limit": 1} in limits
    assert TRAINING_RUN_TAG in defs.resolve_job_def("train_policy").tags


def test_a_failed_blocking_check_stops_every_downstream_stage(dumps_root, tmp_path, monkeypatch):
    real_curate = curation.curate

    def curate_losing_a_row(*args, **kwargs):
        result = real_curate(*args, **kwargs)
        return replace(result, selection=result.selection.iloc[:-1])

    monkeypatch.setattr(curation, "curate", curate_losing_a_row)
    resources = {**make_resources(dumps_root, tmp_path / "storage"), "settings": SettingsResource()}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("code_dumps", [DUMP])
        ingested = dg.materialize(
            list(defs.assets),
            selection=dg.AssetSelection.groups(INGESTION_GROUP),
            partition_key=DUMP,
            resources=resources,
            instance=instance,
        )
        assert ingested.success
        result = dg.materialize(
            list(defs.assets),
            selection=dg.AssetSelection.groups(CURATION_GROUP, AUGMENTATION_GROUP),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    checks = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert checks["curation_conservation"] is False
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "augmented_variants" not in materialized and "augmentation_report" not in materialized
