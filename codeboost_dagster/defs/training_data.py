"""The training data as one unit: the job that curates, augments, executes and builds the verl
dataset from the ingested dumps, and the declarative automation that keeps it current.

The data stages (augmentation, execution, tasks, verl dataset) carry `AutomationCondition.eager()`
on their decorators, so the automation condition sensor rebuilds them whenever the selection
changes. Training and evaluation stay manual (or scheduled by the team): they are the expensive
stages.
"""

from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus, define_asset_job

from codeboost_dagster.defs import TRANSIENT_FAILURE_RETRY
from codeboost_dagster.defs.augmentation import AUGMENTATION_GROUP
from codeboost_dagster.defs.curation import CURATION_GROUP
from codeboost_dagster.defs.execution import EXECUTION_GROUP
from codeboost_dagster.defs.tasks import TASKS_GROUP

DATA_STAGES = AssetSelection.groups(AUGMENTATION_GROUP, EXECUTION_GROUP, TASKS_GROUP)
"""What follows the selection: variants, execution records, tasks and the verl dataset."""

training_data_job = define_asset_job(
    name="build_training_data",
    selection=AssetSelection.groups(CURATION_GROUP) | DATA_STAGES,
    op_retry_policy=TRANSIENT_FAILURE_RETRY,
    description="Curate, augment, execute and build the verl dataset from the ingested dumps.",
)

rebuild_training_data_sensor = AutomationConditionSensorDefinition(
    "rebuild_training_data_sensor",
    target=DATA_STAGES,
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Rebuilds augmentation, execution, tasks and the verl dataset after the selection changes.",
)
