"""The one `CodeBoostSettings` object, reaching Dagster: read once per run, recorded on every
materialization, and hashed into each asset's code version.

Each stage names the settings sections it reads (`reads_settings`, on its decorator). Its code
version is the package version, the hash of those sections' values, and the hash of its parents'
code versions (`versioned_by_settings`), so changing a method parameter (say `curation.gamma`)
marks that stage and everything downstream of it stale in the UI, while stages above it stay
fresh. Each materialization records the values its run used (`SettingsResource.for_stage`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from importlib.metadata import version

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    ConfigurableResource,
    InitResourceContext,
    MetadataValue,
)
from pydantic import PrivateAttr

from codeboost_dagster.core.sandbox.runtime import declared_lock, lock_digest
from codeboost_dagster.core.settings import CodeBoostSettings, load_settings

SETTINGS_SECTIONS = "codeboost/settings_sections"
PACKAGE_VERSION = version("codeboost_dagster")


def reads_settings(*sections: str) -> dict[str, str]:
    """Definition metadata naming the settings sections a stage's output depends on."""
    return {SETTINGS_SECTIONS: ",".join(sections)}


def sections_read(metadata: Mapping[str, object]) -> tuple[str, ...]:
    """The settings sections named by `reads_settings` in an asset's definition metadata."""
    declared = metadata.get(SETTINGS_SECTIONS)
    text = declared.value if isinstance(declared, MetadataValue) else declared
    return tuple(name for name in str(text or "").split(",") if name)


def stage_fingerprint(settings: CodeBoostSettings, sections: Iterable[str]) -> str:
    """The hash of a stage's settings sections; for a stage reading `sandbox`, also of the runtime's
    lock contents (a changed lock re-runs execution and everything below it)."""
    sections = tuple(sections)
    fingerprint = settings.fingerprint(sections)
    if "sandbox" not in sections:
        return fingerprint
    runtime = lock_digest(declared_lock(settings.sandbox.runtime_lock))
    return hashlib.sha256(f"{fingerprint}|{runtime}".encode()).hexdigest()[:10]


def settings_code_versions(specs: Iterable[AssetSpec], settings: CodeBoostSettings) -> dict[AssetKey, str]:
    """`<package version>-<own sections' hash>-<parents' versions' hash>` for every spec."""
    by_key = {spec.key: spec for spec in specs}
    versions: dict[AssetKey, str] = {}

    def code_version(key: AssetKey) -> str:
        if key not in versions:
            spec = by_key[key]
            parents = sorted(code_version(dep.asset_key) for dep in spec.deps if dep.asset_key in by_key)
            upstream = hashlib.sha256("|".join(parents).encode("utf-8")).hexdigest()[:10]
            own = stage_fingerprint(settings, sections_read(spec.metadata))
            versions[key] = f"{PACKAGE_VERSION}-{own}-{upstream}"
        return versions[key]

    for key in by_key:
        code_version(key)
    return versions


def own_settings_hash(code_version: str | None) -> str | None:
    """The hash of an asset's own sections in a code version `settings_code_versions` built."""
    parts = (code_version or "").split("-")
    return parts[1] if len(parts) == 3 else None


def versioned_by_settings(assets: Iterable, settings: CodeBoostSettings) -> list:
    """The assets with code versions from `settings_code_versions` (other definitions unchanged)."""
    assets = list(assets)
    specs = [spec for asset in assets if isinstance(asset, AssetsDefinition) for spec in asset.specs]
    versions = settings_code_versions(specs, settings)
    return [
        asset.map_asset_specs(lambda spec: spec.replace_attributes(code_version=versions[spec.key]))
        if isinstance(asset, AssetsDefinition)
        else asset
        for asset in assets
    ]


class SettingsResource(ConfigurableResource):
    """METHOD.md defaults, optionally overridden by a TOML/JSON file of `{section: {field: value}}`,
    read once when the run sets the resource up."""

    settings_file: str | None = None
    _settings: CodeBoostSettings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Read the settings file once for the whole run."""
        self._settings = load_settings(self.settings_file)

    def get(self) -> CodeBoostSettings:
        """The settings in force for this run."""
        if self._settings is None:  # called outside a run (a direct call in a test or a script)
            self._settings = load_settings(self.settings_file)
        return self._settings

    def for_stage(self, context: AssetExecutionContext) -> CodeBoostSettings:
        """The run's settings, with the values of each selected asset's sections and their hash
        recorded in its materialization metadata. A hash that differs from the one in the asset's
        code version means the settings changed after the code location loaded: a warning says so."""
        settings = self.get()
        for key in context.selected_asset_keys:
            spec = context.assets_def.specs_by_key[key]
            sections = sections_read(spec.metadata)
            fingerprint = stage_fingerprint(settings, sections)
            context.add_output_metadata(  # output metadata: also kept when an asset is called directly
                {"settings": MetadataValue.json(settings.sections(sections)), "settings_hash": fingerprint},
                output_name=context.assets_def.get_output_name_for_asset_key(key),
            )
            if spec.code_version and own_settings_hash(spec.code_version) != fingerprint:
                context.log.warning(
                    f"{key.to_user_string()}: this run's settings ({', '.join(sections)}) differ from those the "
                    "code location loaded, so the UI's staleness does not reflect them; reload the code location"
                )
        return settings
