"""The settings object, partition-key safety and test-case normalisation."""

from __future__ import annotations

import pytest

from codeboost_dagster.core.partition_keys import UnsafePartitionKey, is_safe_partition_key, validate_partition_key
from codeboost_dagster.core.settings import CodeBoostSettings, load_settings
from codeboost_dagster.core.test_cases import InvalidTestCases, normalize_test_cases


def test_method_defaults():
    settings = CodeBoostSettings()
    assert settings.curation.gamma == 0.5 and settings.curation.chunk_size == 400
    assert settings.augmentation.p == 0.1
    assert settings.sandbox.wall_time_s == 5.0 and settings.sandbox.memory_bytes == 8 * 1024**3
    assert settings.grpo.group_size == 5 and settings.grpo.kl_coef == 0.01
    assert settings.reward.accuracy_weight == 0.9


def test_overrides_from_toml(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[filtering]\nmin_lines = 3\n[tasks]\nallowed_error_types = ['ValueError']\n")
    settings = load_settings(path)
    assert settings.filtering.min_lines == 3
    assert settings.tasks.allowed_error_types == ("ValueError",)
    assert settings.filtering.min_chars == CodeBoostSettings().filtering.min_chars


@pytest.mark.parametrize("overrides", [{"nope": {}}, {"filtering": {"nope": 1}}])
def test_unknown_overrides_are_errors(overrides):
    with pytest.raises(ValueError, match="unknown"):
        CodeBoostSettings().with_overrides(overrides)


@pytest.mark.parametrize("key", ["../etc", "a b", ".hidden", "", "x" * 200, "a/b", "dump..zip"])
def test_unsafe_keys_are_refused(key):
    assert not is_safe_partition_key(key)
    with pytest.raises(UnsafePartitionKey):
        validate_partition_key(key)


def test_safe_keys_pass():
    assert validate_partition_key("sample.jsonl") == "sample.jsonl"
    assert is_safe_partition_key("dump-2026_11")


@pytest.mark.parametrize(
    "raw",
    ["[{", '{"input": "x"}', '[{"input": [1]}]', '[{"input": {"1a": 2}, "func_name": "f"}]', "[3]", '[{"x": 1}]'],
)
def test_invalid_test_cases(raw):
    with pytest.raises(InvalidTestCases):
        normalize_test_cases(raw)
