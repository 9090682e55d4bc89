"""Settings reach Dagster: a changed method parameter marks its stage and everything downstream
stale (code versions hash the settings), stages above it stay fresh, and every materialization
records the settings values its run used."""

from __future__ import annotations

import json

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from codeboost_dagster.core.settings import CodeBoostSettings, load_settings
from codeboost_dagster.definitions import build_defs
from codeboost_dagster.defs.ingestion import code_dumps
from codeboost_dagster.resources.settings import SettingsResource
from tests.helpers import make_resources

SELECTION = [
    "raw_snippets",
    "filtered_snippets",
    "filter_report",
    "synthesized_snippets",
    "synthesis_report",
    "curated_snippets",
    "curation_report",
    "curation_signatures",
    "augmented_variants",
    "augmentation_report",
]


def _statuses(instance, settings: CodeBoostSettings, partition: str) -> dict[str, StaleStatus]:
    graph = AssetGraph.from_assets(build_defs(settings).assets)
    # The resolver behind the UI's stale badges (Dagster's own tests build it this way).
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    partitioned = {"raw_snippets", "filtered_snippets", "filter_report", "synthesized_snippets", "synthesis_report"}
    return {
        key.to_user_string(): resolver.get_status(key, partition if key.to_user_string() in partitioned else None)
        for key in graph.get_all_asset_keys()
    }


def test_a_changed_setting_marks_its_stage_and_downstream_stale(messy_dump, tmp_path):
    root, _ = messy_dump
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text("[augmentation]\nvariants_per_snippet = 1\n")
    loaded = load_settings(settings_file)
    resources = {
        **make_resources(root, tmp_path / "storage"),
        "settings": SettingsResource(settings_file=str(settings_file)),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, ["messy"])
        assets = build_defs(loaded).assets
        for selection, partition in ((SELECTION[:5], "messy"), (SELECTION[5:], None)):
            result = dg.materialize(
                assets, selection=selection, partition_key=partition, instance=instance, resources=resources
            )
            assert result.success
        before = _statuses(instance, loaded, "messy")
        assert {name: before[name] for name in SELECTION} == dict.fromkeys(SELECTION, StaleStatus.FRESH)
        assert before["execution_records"] == StaleStatus.MISSING

        changed = _statuses(instance, loaded.with_overrides({"curation": {"gamma": 0.4}}), "messy")
        assert {name: changed[name] for name in SELECTION[:5]} == dict.fromkeys(SELECTION[:5], StaleStatus.FRESH)
        assert {name: changed[name] for name in SELECTION[5:]} == dict.fromkeys(SELECTION[5:], StaleStatus.STALE)

        synthesis = _statuses(instance, loaded.with_overrides({"synthesis": {"cases_per_function": 2}}), "messy")
        stale = {name for name in SELECTION if synthesis[name] == StaleStatus.STALE}
        assert stale == set(SELECTION[3:])

        downstream_only = _statuses(instance, loaded.with_overrides({"augmentation": {"p": 0.2}}), "messy")
        stale = {name for name in SELECTION if downstream_only[name] == StaleStatus.STALE}
        assert stale == {"augmented_variants", "augmentation_report"}

        unrelated = _statuses(instance, loaded.with_overrides({"evaluation": {"seed": 3}}), "messy")
        assert {name: unrelated[name] for name in SELECTION} == dict.fromkeys(SELECTION, StaleStatus.FRESH)

        record = instance.get_latest_materialization_event(dg.AssetKey("augmented_variants")).asset_materialization
        recorded = record.metadata["settings"].value
        assert recorded["augmentation"]["variants_per_snippet"] == 1
        assert set(recorded) == {"augmentation", "filtering"}
        assert record.metadata["settings_hash"].value == loaded.fingerprint(["augmentation", "filtering"])
        assert json.dumps(recorded)  # plain JSON, as the UI shows it


def test_the_settings_file_is_read_once_per_run(tmp_path, monkeypatch):
    import codeboost_dagster.resources.settings as settings_module

    reads = []
    real = settings_module.load_settings
    monkeypatch.setattr(settings_module, "load_settings", lambda path: reads.append(path) or real(path))
    resource = SettingsResource()
    with dg.build_init_resource_context() as context:
        resource.setup_for_execution(context)
    for _ in range(3):
        resource.get()
    assert reads == [None]
