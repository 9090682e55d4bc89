"""The bundled library dump (examples/library) through every data stage in process: its modules
print nothing, so every task in the verl dataset comes from a synthesized call, and lineage says
which input source each came from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd

from codeboost_dagster.core.lineage import trace
from codeboost_dagster.core.test_cases import normalize_test_cases
from codeboost_dagster.definitions import defs
from codeboost_dagster.defs.ingestion import INGESTION_GROUP, code_dumps
from codeboost_dagster.defs.training_data import training_data_job
from codeboost_dagster.resources.settings import SettingsResource
from tests.helpers import make_resources

LIBRARY = Path(__file__).resolve().parents[2] / "examples" / "library"
DUMP = "library"


def _table(storage: Path, name: str) -> pd.DataFrame | None:
    folder, file = storage / name, storage / f"{name}.parquet"
    if folder.is_dir():
        return pd.concat(map(pd.read_parquet, sorted(folder.glob("*.parquet"))), ignore_index=True)
    return pd.read_parquet(file) if file.exists() else None


def test_a_library_nobody_calls_yields_verl_tasks_only_through_synthesis(tmp_path):
    shutil.copytree(LIBRARY, tmp_path / "dumps" / DUMP)
    storage = tmp_path / "storage"
    settings = tmp_path / "settings.toml"
    settings.write_text("[augmentation]\nvariants_per_snippet = 1\n")
    resources = {
        **make_resources(tmp_path / "dumps", storage),
        "settings": SettingsResource(settings_file=str(settings)),
    }
    assets = list(defs.assets)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, [DUMP])
        ingest = dg.materialize(
            assets, selection=dg.AssetSelection.groups(INGESTION_GROUP), partition_key=DUMP, instance=instance,
            resources=resources,
        )  # fmt: skip
        build = dg.materialize(assets, selection=training_data_job.selection, instance=instance, resources=resources)
    assert ingest.success and build.success
    assert all(check.passed for check in [*ingest.get_asset_check_evaluations(), *build.get_asset_check_evaluations()])

    report = _table(storage, "synthesis_report")
    programs = _table(storage, "synthesized_snippets")
    assert set(report["function"]) >= {"slugify", "merge_intervals", "continued_fraction", "business_days"}
    assert len(programs) >= 8 and programs["origin"].str.contains("::").all()
    sources = {case["source"] for text in programs["test_cases"] for case in normalize_test_cases(text)}
    assert {"example", "default", "type_hint"} <= sources

    tasks = _table(storage, "training_tasks")
    shipped = set()
    for path in _table(storage, "verl_dataset")["path"]:
        shipped |= {info["task_id"] for info in pd.read_parquet(path)["extra_info"]}
    from_programs = tasks[tasks["task_id"].isin(shipped) & tasks["snippet_id"].isin(set(programs["snippet_id"]))]
    assert from_programs["snippet_id"].nunique() >= 5
    assert len(from_programs) == len(shipped)  # the modules' own runs print nothing: no other task
    assert (from_programs["status"] == "ok").any()

    task = from_programs[from_programs["task_type"] == "forward"].iloc[0]
    assert "__result__ = " in json.dumps(task["prompt"])  # the prompt shows the call
    lines = trace(task["task_id"], lambda name: _table(storage, name))
    assert any(", input from " in line for line in lines)
    assert any(line.startswith("  synthesized: function ") for line in lines)
