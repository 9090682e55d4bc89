"""Resource that hands every asset the one `CodeBoostSettings` object."""

from __future__ import annotations

from dagster import ConfigurableResource

from codeboost_dagster.core.settings import CodeBoostSettings, load_settings


class SettingsResource(ConfigurableResource):
    """METHOD.md defaults, optionally overridden by a TOML/JSON file of `{section: {field: value}}`."""

    settings_file: str | None = None

    def get(self) -> CodeBoostSettings:
        """The settings in force for this run."""
        return load_settings(self.settings_file)
