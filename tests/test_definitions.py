"""The code location as the UI shows it: every check says what it verifies, and every asset names
the settings sections it reads and carries a code version hashing them."""

from __future__ import annotations

import dataclasses

from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.definitions import defs
from codeboost_dagster.resources.settings import own_settings_hash, sections_read


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
        assert own_settings_hash(node.code_version) == CodeBoostSettings().fingerprint(sections), key


def test_every_asset_says_its_kinds_and_stores_through_the_default_io_manager():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert {"pandas", "parquet"} <= set(node.kinds), key
        assert node.io_manager_key == "io_manager", key
