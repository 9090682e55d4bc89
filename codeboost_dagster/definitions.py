"""The code location: the stages in `defs/`, their resources, and code versions from the settings.

`defs/` is the project's defs folder (`[tool.dg]` in pyproject.toml), loaded with Dagster's
`load_definitions_from_package_module` rather than `dg.load_from_defs_folder`: the latter reads
pyproject.toml at run time, which an installed wheel (the deployment image, a cluster node) does
not have ("Could not find config file (pyproject.toml/dg.toml)"). For plain Python modules, as
ours are, both collect the same definitions.

Paths default to `data/` under the working directory and follow environment variables, so the
same definitions run on a laptop (local folders) and on a cluster (object storage URLs):
CODEBOOST_DUMPS_DIR, CODEBOOST_STORAGE, CODEBOOST_TRAINING_FILES, CODEBOOST_MODEL_CACHE,
CODEBOOST_SETTINGS_FILE, CODEBOOST_SANDBOX_BACKEND, CODEBOOST_DATA_RAY_ADDRESS (augmentation and
execution on a Ray cluster: a GCS address, "auto", or "local" for a Ray started for the run), and
for training CODEBOOST_TRAINER (trl | verl), CODEBOOST_RAY_ADDRESS, CODEBOOST_VERL_PYTHON,
CODEBOOST_VERL_GPUS_PER_NODE, CODEBOOST_VERL_NNODES, CODEBOOST_TRAINER_DRY_RUN=1.
"""

from __future__ import annotations

import os
import warnings

from dagster import Definitions, PreviewWarning, in_process_executor, load_definitions_from_package_module

from codeboost_dagster import defs as stage_modules
from codeboost_dagster.core.settings import CodeBoostSettings, load_settings
from codeboost_dagster.resources.dumps import DumpFolder
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.parquet_io import ParquetIOManagerFactory
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, versioned_by_settings
from codeboost_dagster.resources.stage_executor import StageExecutor
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.resources.training_files import TrainingFiles

SETTINGS_FILE = os.environ.get("CODEBOOST_SETTINGS_FILE") or None


def build_resources() -> dict:
    """Resources for the local default, following the CODEBOOST_* environment variables."""
    storage = os.environ.get("CODEBOOST_STORAGE", "data/storage")
    data_ray = os.environ.get("CODEBOOST_DATA_RAY_ADDRESS") or None  # a GCS address, "auto", or "local"
    return {
        "scale_out": StageExecutor(address=None if data_ray == "local" else data_ray, local_ray=data_ray == "local"),
        "io_manager": ParquetIOManagerFactory(base_path=storage),
        "training_files": TrainingFiles(base_path=os.environ.get("CODEBOOST_TRAINING_FILES", f"{storage}/training")),
        "models": ModelCache(cache_dir=os.environ.get("CODEBOOST_MODEL_CACHE", "data/models")),
        "dumps": DumpFolder(path=os.environ.get("CODEBOOST_DUMPS_DIR", "data/dumps")),
        "settings": SettingsResource(settings_file=SETTINGS_FILE),
        "sandbox": SandboxResource(backend=os.environ.get("CODEBOOST_SANDBOX_BACKEND", "forkserver")),
        "trainer": GRPOTrainer(
            backend=os.environ.get("CODEBOOST_TRAINER", "trl"),
            ray_address=os.environ.get("CODEBOOST_RAY_ADDRESS", "http://127.0.0.1:8265"),
            verl_python=os.environ.get("CODEBOOST_VERL_PYTHON", "python3"),
            n_gpus_per_node=int(os.environ.get("CODEBOOST_VERL_GPUS_PER_NODE", "8")),
            nnodes=int(os.environ.get("CODEBOOST_VERL_NNODES", "1")),
            dry_run=os.environ.get("CODEBOOST_TRAINER_DRY_RUN", "") == "1",
        ),
    }


def build_defs(settings: CodeBoostSettings) -> Definitions:
    """Every stage of `defs/` with the local default's resources and code versions hashing
    `settings`, so a changed method parameter shows its stage and everything downstream as stale."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)  # marked preview in Dagster 1.13; pinned with it
        stages = load_definitions_from_package_module(stage_modules)
    return Definitions(
        assets=versioned_by_settings(stages.assets or [], settings),
        asset_checks=stages.asset_checks,
        jobs=stages.jobs,
        sensors=stages.sensors,
        schedules=stages.schedules,
        resources=build_resources(),
        executor=in_process_executor,
    )


defs = build_defs(load_settings(SETTINGS_FILE))
