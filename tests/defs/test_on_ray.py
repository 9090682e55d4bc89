"""The augmentation and execution assets with `scale_out` pointed at a real local Ray head: the
stored tables equal the local path's, checks pass, and finished batches show up as progress
while the stage runs."""

from __future__ import annotations

import shutil
import tempfile

import dagster as dg
import pandas as pd
import pytest

from codeboost_dagster.core.scale_out import ParquetFile
from codeboost_dagster.definitions import defs
from codeboost_dagster.defs.ingestion import code_dumps
from codeboost_dagster.ray_head import QUIET_RAY
from codeboost_dagster.resources.settings import SettingsResource
from codeboost_dagster.resources.stage_executor import StageExecutor
from tests.helpers import DUMP, comparable_records, make_resources, snippets_with_a_broken_one

pytest.importorskip("ray")

SELECTION = ["augmented_variants", "augmentation_report", "execution_records"]
SETTINGS_TOML = """[augmentation]
variants_per_snippet = 2
p = 0.3
[sandbox]
wall_time_s = 2.0
cpu_time_s = 2.0
[scale_out]
execution_batch_rows = 8
augmentation_batch_rows = 4
progress_interval_s = 0.0
namespace = "codeboost-test-run"
"""


def _materialize(storage, scale_out: StageExecutor):
    storage.mkdir()
    snippets_with_a_broken_one(12).to_parquet(storage / "curated_snippets.parquet")
    settings_file = storage / "settings.toml"
    settings_file.write_text(SETTINGS_TOML)
    resources = {
        **make_resources(storage, storage),
        "settings": SettingsResource(settings_file=str(settings_file)),
        "scale_out": scale_out,
    }
    with dg.instance_for_test() as instance:
        return dg.materialize(list(defs.assets), selection=SELECTION, resources=resources, instance=instance)


def test_assets_on_ray_store_the_local_tables_and_report_progress(ray_cluster, tmp_path, monkeypatch):
    import ray

    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    local = _materialize(tmp_path / "local", StageExecutor())
    on_ray = _materialize(tmp_path / "ray", StageExecutor(address=ray_cluster.address))
    assert local.success and on_ray.success and not ray.is_initialized()
    assert isinstance(on_ray.output_for_node("execution_records"), ParquetFile)  # streamed, never a DataFrame
    assert all(check.passed for check in on_ray.get_asset_check_evaluations())
    for table in ("augmented_variants", "augmentation_report"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "ray" / f"{table}.parquet"),
            pd.read_parquet(tmp_path / "local" / f"{table}.parquet"),
        )
    records = {
        side: comparable_records(pd.read_parquet(tmp_path / side / "execution_records.parquet"))
        for side in ("local", "ray")
    }
    pd.testing.assert_frame_equal(records["ray"], records["local"])
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in on_ray.get_asset_materialization_events()
    }
    assert metadata["execution_records"]["programs"].value == len(records["local"])
    batches = -(-len(pd.read_parquet(tmp_path / "ray" / "augmented_variants.parquet")) // 8)
    assert metadata["execution_records"]["batches"].value == batches
    assert metadata["execution_records"]["lost_batches"].value == 0
    assert metadata["augmented_variants"]["batches"].value == 4  # 13 snippets, 4 per batch
    assert metadata["execution_records"]["ran_on"].value == "on Ray"
    local_metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in local.get_asset_materialization_events()
    }
    assert local_metadata["execution_records"]["ran_on"].value == "on this machine"
    for name in ("augmented_variants", "execution_records"):  # one metadata path: the same keys
        assert set(local_metadata[name]) == set(metadata[name])
    observed = [
        event.asset_observation_data.asset_observation.metadata["batches_done"].value
        for event in on_ray.all_events
        if event.event_type_value == "ASSET_OBSERVATION" and event.asset_key.to_user_string() == "execution_records"
    ]
    assert observed == list(range(1, batches + 1))


def test_a_dagster_managed_local_ray_serves_the_whole_run_and_stops_with_it(tmp_path, monkeypatch):
    import ray

    from codeboost_dagster.core.augmentation import augment_snippets
    from codeboost_dagster.core.settings import load_settings

    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAY_TMPDIR", tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths
    starts = []
    real_init = ray.init
    monkeypatch.setattr(ray, "init", lambda **options: starts.append(options) or real_init(**options))
    managed = _materialize(tmp_path / "managed", StageExecutor(local_ray=True, local_num_cpus=2))
    assert managed.success and not ray.is_initialized()
    assert all(check.passed for check in managed.get_asset_check_evaluations())
    settings = load_settings(tmp_path / "managed" / "settings.toml")
    expected = augment_snippets(
        snippets_with_a_broken_one(12), settings.augmentation, workers=1, max_code_chars=settings.filtering.max_chars
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "managed" / "augmented_variants.parquet"), expected.variants
    )
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in managed.get_asset_materialization_events()
    }
    assert metadata["augmented_variants"]["batches"].value == 4 and metadata["execution_records"]["batches"].value
    assert [options["address"] for options in starts] == ["local"]  # one Ray for both stages of the run
    assert starts[0]["namespace"] == "codeboost-test-run"  # the settings' namespace, not the default


CURATION = ["curated_snippets", "curation_report", "curation_signatures"]


def _curate(storage, filtered, scale_out: StageExecutor):
    shutil.copytree(filtered, storage / "filtered_snippets")
    resources = {**make_resources(storage, storage), "scale_out": scale_out}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, [DUMP])
        return dg.materialize(list(defs.assets), selection=CURATION, resources=resources, instance=instance)


def test_curation_with_signatures_on_ray_stores_the_local_selection(pipeline, ray_cluster, tmp_path, monkeypatch):
    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    filtered = pipeline[0] / "filtered_snippets"
    local = _curate(tmp_path / "local", filtered, StageExecutor())
    on_ray = _curate(tmp_path / "ray", filtered, StageExecutor(address=ray_cluster.address))
    assert local.success and on_ray.success
    assert all(check.passed for check in on_ray.get_asset_check_evaluations())
    computed_on = [
        event.materialization.metadata["signatures_computed_on"].value
        for run in (local, on_ray)
        for event in run.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "curated_snippets"
    ]
    assert computed_on == ["this process", "ray"]
    for table in CURATION:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "ray" / f"{table}.parquet"),
            pd.read_parquet(tmp_path / "local" / f"{table}.parquet"),
        )
