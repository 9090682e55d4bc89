"""The code location: every asset, check, job, sensor and resource of codeboost_dagster.

Paths default to `data/` under the working directory and follow environment variables, so the
same definitions run on a laptop (local folders) and on a cluster (object storage URLs):
CODEBOOST_DUMPS_DIR, CODEBOOST_STORAGE, CODEBOOST_TRAINING_FILES, CODEBOOST_MODEL_CACHE,
CODEBOOST_SETTINGS_FILE, CODEBOOST_SANDBOX_BACKEND, CODEBOOST_DATA_RAY_ADDRESS (augmentation and
execution on a Ray cluster: a GCS address, "auto", or "local" for a Ray started for the run), and
for training CODEBOOST_TRAINER (trl | verl), CODEBOOST_RAY_ADDRESS, CODEBOOST_VERL_PYTHON,
CODEBOOST_TRAINER_DRY_RUN=1.
"""

from __future__ import annotations

import os

from dagster import Definitions, in_process_executor, load_assets_from_modules

from codeboost_dagster.assets import (
    augmentation,
    curation,
    evaluation,
    execution,
    ingestion,
    tasks,
    training,
    verl_dataset,
)
from codeboost_dagster.automation import rebuild_training_data_sensor, with_automation
from codeboost_dagster.core.settings import CodeBoostSettings, load_settings
from codeboost_dagster.jobs import curation_job, evaluation_job, ingest_dump_job, train_policy_job, training_data_job
from codeboost_dagster.resources.dumps import DumpFolder
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.ray_scale_out import RayScaleOut
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, versioned_by_settings
from codeboost_dagster.resources.streamed_parquet_io import StreamedParquetIOManagerFactory
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.resources.training_files import TrainingFiles
from codeboost_dagster.schedules import recuration_schedule
from codeboost_dagster.sensors import curate_after_ingestion, new_dump_sensor

SETTINGS_FILE = os.environ.get("CODEBOOST_SETTINGS_FILE") or None


def build_resources() -> dict:
    """Resources for the local default, following the CODEBOOST_* environment variables."""
    storage = os.environ.get("CODEBOOST_STORAGE", "data/storage")
    data_ray = os.environ.get("CODEBOOST_DATA_RAY_ADDRESS") or None  # a GCS address, "auto", or "local"
    return {
        "scale_out": RayScaleOut(address=None if data_ray == "local" else data_ray, local_ray=data_ray == "local"),
        "io_manager": StreamedParquetIOManagerFactory(base_path=storage),
        "training_files": TrainingFiles(base_path=os.environ.get("CODEBOOST_TRAINING_FILES", f"{storage}/training")),
        "models": ModelCache(cache_dir=os.environ.get("CODEBOOST_MODEL_CACHE", "data/models")),
        "dumps": DumpFolder(path=os.environ.get("CODEBOOST_DUMPS_DIR", "data/dumps")),
        "settings": SettingsResource(settings_file=SETTINGS_FILE),
        "sandbox": SandboxResource(backend=os.environ.get("CODEBOOST_SANDBOX_BACKEND", "forkserver")),
        "trainer": GRPOTrainer(
            backend=os.environ.get("CODEBOOST_TRAINER", "trl"),
            ray_address=os.environ.get("CODEBOOST_RAY_ADDRESS", "http://127.0.0.1:8265"),
            verl_python=os.environ.get("CODEBOOST_VERL_PYTHON", "python3"),
            dry_run=os.environ.get("CODEBOOST_TRAINER_DRY_RUN", "") == "1",
        ),
    }


def build_assets(settings: CodeBoostSettings) -> list:
    """Every asset with its automation, and code versions hashing `settings` (so a changed
    method parameter shows its stage and everything downstream as stale)."""
    modules = [ingestion, curation, augmentation, execution, tasks, verl_dataset, training, evaluation]
    return versioned_by_settings(with_automation(load_assets_from_modules(modules)), settings)


defs = Definitions(
    assets=build_assets(load_settings(SETTINGS_FILE)),
    jobs=[ingest_dump_job, curation_job, training_data_job, train_policy_job, evaluation_job],
    sensors=[new_dump_sensor, curate_after_ingestion, rebuild_training_data_sensor],
    schedules=[recuration_schedule],
    resources=build_resources(),
    executor=in_process_executor,
)
