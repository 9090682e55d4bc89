"""Declarative automation: the data stages follow the curated selection, and it stays fresh.

The sensors (sensors.py) ingest a new dump and re-curate; from there the automation condition
sensor rebuilds augmentation, execution, tasks and the verl dataset whenever their inputs change.
Training and evaluation stay manual (or scheduled by the team): they are the expensive stages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    FreshnessPolicy,
)

DATA_STAGE_KEYS = [
    AssetKey(name)
    for name in (
        "augmented_variants",
        "augmentation_report",
        "execution_records",
        "training_tasks",
        "task_report",
        "verl_dataset",
        "verl_dataset_report",
    )
]
DATA_STAGE_CONDITION = AutomationCondition.eager()
# recuration_schedule runs daily: a selection older than a day and two hours means it failed.
CURATED_SNIPPETS_FRESHNESS = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=25)
)
CURATED_SNIPPETS = AssetKey("curated_snippets")


def _automate(spec: AssetSpec) -> AssetSpec:
    if spec.key in DATA_STAGE_KEYS:
        return spec.replace_attributes(automation_condition=DATA_STAGE_CONDITION)
    if spec.key == CURATED_SNIPPETS:
        return spec.replace_attributes(freshness_policy=CURATED_SNIPPETS_FRESHNESS)
    return spec


def with_automation(assets: Iterable) -> list:
    """The assets with the data stages' automation condition and the selection's freshness policy."""
    return [asset.map_asset_specs(_automate) if isinstance(asset, AssetsDefinition) else asset for asset in assets]


rebuild_training_data_sensor = AutomationConditionSensorDefinition(
    "rebuild_training_data_sensor",
    target=AssetSelection.assets(*DATA_STAGE_KEYS),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Rebuilds augmentation, execution, tasks and the verl dataset after the selection changes.",
)
