"""Each data asset called directly (no run, no instance), as dagster's own projects test theirs:
its outputs, the metadata the UI shows for them, and its checks, on a small dump carried from
stage to stage. The metadata's counts must agree with the tables they describe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from codeboost_dagster.core.sample_dump import write_sample_dump
from codeboost_dagster.core.scale_out import ParquetFile
from codeboost_dagster.defs.augmentation import augmented_variants
from codeboost_dagster.defs.curation import curated_snippets
from codeboost_dagster.defs.execution import execution_records
from codeboost_dagster.defs.ingestion import filtered_snippets, raw_snippets
from codeboost_dagster.defs.synthesis import synthesized_snippets
from codeboost_dagster.defs.tasks import training_tasks
from codeboost_dagster.resources.dumps import DumpFolder
from codeboost_dagster.resources.parquet_io import ParquetIOManagerFactory
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource
from codeboost_dagster.resources.stage_executor import StageExecutor

DUMP = "small.jsonl"
ROWS = 40
PLOT = "data:image/png;base64"


def _call(asset, resources: dict, store: Path, partition_key: str | None = None, **inputs) -> tuple[dict, dict]:
    """(outputs by name, check results by name) of one direct call. A streamed output is copied out
    of the stage's scratch folder as it is yielded, as the IO manager stores it in a run."""
    outputs, checks = {}, {}
    with dg.build_asset_context(resources=resources, partition_key=partition_key) as context:
        result = asset(context, **inputs)
        for event in [result] if isinstance(result, dg.Output) else result:
            if isinstance(event, dg.AssetCheckResult):
                checks[event.check_name] = event
                continue
            if isinstance(event.value, ParquetFile):
                kept = store / f"{event.output_name}.parquet"
                shutil.copyfile(event.value.path, kept)
                event = dg.Output(ParquetFile.at(kept), output_name=event.output_name, metadata=event.metadata)
            outputs[event.output_name] = event
    return outputs, checks


def _value(metadata: dict, name: str):
    entry = metadata[name]
    return entry.value if isinstance(entry, dg.MetadataValue) else entry


def _stored(output: dg.Output, tmp_path, name: str) -> ParquetFile:
    """A DataFrame output stored as the IO manager would, handed on as the next stage's handle."""
    path = tmp_path / f"{name}.parquet"
    output.value.to_parquet(path)
    return ParquetFile.at(path)


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """Every data stage called directly, in order; yields {asset name: (outputs, checks)}."""
    root = tmp_path_factory.mktemp("direct")
    (root / "dumps").mkdir()
    write_sample_dump(root / "sample.jsonl")
    (root / "dumps" / DUMP).write_text("\n".join((root / "sample.jsonl").read_text().splitlines()[:ROWS]) + "\n")
    (root / "settings.toml").write_text("[augmentation]\nvariants_per_snippet = 1\n[sandbox]\nwall_time_s = 2.0\n")
    settings = SettingsResource(settings_file=str(root / "settings.toml"))
    common = {"settings": settings, "scale_out": StageExecutor(), "sandbox": SandboxResource()}
    found = {}
    dumps = {"dumps": DumpFolder(path=str(root / "dumps"))}
    found["raw_snippets"] = _call(raw_snippets, {**common, **dumps}, root, DUMP)
    raw = found["raw_snippets"][0]["result"].value
    found["filtered_snippets"] = _call(filtered_snippets, common, root, DUMP, raw_snippets=raw)
    kept = found["filtered_snippets"][0]["filtered_snippets"].value
    found["synthesized_snippets"] = _call(
        synthesized_snippets, common, root, DUMP, raw_snippets=raw, filtered_snippets=kept
    )
    programs = found["synthesized_snippets"][0]["synthesized_snippets"].value
    store = {"io_manager": ParquetIOManagerFactory(base_path=str(root / "storage"))}
    found["curated_snippets"] = _call(
        curated_snippets,
        {**common, **store},
        root,
        filtered_snippets={DUMP: kept},
        synthesized_snippets={DUMP: programs},
    )
    selection = _stored(found["curated_snippets"][0]["curated_snippets"], root, "curated_snippets")
    found["augmented_variants"] = _call(augmented_variants, common, root, curated_snippets=selection)
    variants = found["augmented_variants"][0]["augmented_variants"].value
    found["execution_records"] = _call(execution_records, common, root, augmented_variants=variants)
    records = found["execution_records"][0]["result"].value.read()
    found["training_tasks"] = _call(training_tasks, common, root, execution_records=records)
    yield found


def test_every_check_of_every_stage_passes(stages):
    failed = {name: check for _, checks in stages.values() for name, check in checks.items() if not check.passed}
    assert failed == {}
    assert sum(len(checks) for _, checks in stages.values()) == 12


def test_ingestion_metadata_counts_the_rows_it_describes(stages):
    raw = stages["raw_snippets"][0]["result"]
    assert _value(raw.metadata, "rows") == len(raw.value) == ROWS
    outputs, _ = stages["filtered_snippets"]
    kept, dropped = outputs["filtered_snippets"], outputs["filter_report"]
    assert _value(kept.metadata, "kept") == len(kept.value) and _value(dropped.metadata, "dropped") == len(
        dropped.value
    )
    assert len(kept.value) + len(dropped.value) == ROWS
    assert PLOT in _value(kept.metadata, "lines_distribution")


def test_curation_metadata_counts_the_selection_and_the_report(stages):
    outputs, _ = stages["curated_snippets"]
    selection, report = outputs["curated_snippets"], outputs["curation_report"]
    assert _value(selection.metadata, "selected") == len(selection.value)
    assert _value(report.metadata, "removed") == len(report.value)
    assert _value(outputs["curation_signatures"].metadata, "snippets") == len(selection.value)
    assert PLOT in _value(selection.metadata, "distance_distribution")
    assert json.loads(json.dumps(_value(selection.metadata, "per_dump")))  # a table the UI renders


def test_streamed_stages_report_where_they_ran_and_their_rows(stages):
    outputs, _ = stages["augmented_variants"]
    variants, dropped = outputs["augmented_variants"], outputs["augmentation_report"]
    assert _value(variants.metadata, "variants") == variants.value.rows
    assert _value(dropped.metadata, "dropped") == dropped.value.rows
    assert _value(variants.metadata, "ran_on") == "on this machine"
    assert "```diff" in _value(variants.metadata, "example_diff")
    records = stages["execution_records"][0]["result"]
    assert _value(records.metadata, "programs") == records.value.rows
    assert _value(records.metadata, "lost_batches") == 0 and _value(records.metadata, "batches") >= 1
    assert PLOT in _value(records.metadata, "wall_ms_distribution")


def test_task_metadata_counts_the_tasks_and_the_drops(stages):
    outputs, checks = stages["training_tasks"]
    tasks, dropped = outputs["training_tasks"], outputs["task_report"]
    assert _value(tasks.metadata, "tasks") == len(tasks.value)
    assert _value(dropped.metadata, "dropped") == len(dropped.value)
    assert _value(checks["task_conservation"].metadata, "records") == len(tasks.value) + len(dropped.value)
    assert isinstance(tasks.value, pd.DataFrame) and set(tasks.value["task_type"]) <= {"forward", "backward"}
