"""Execution records of variants: originals run first under the sandbox's limit, mutated variants
under a wall limit derived from their original's run (core.variant_runs)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from codeboost_dagster.core.sandbox import FINISHED_STATUSES, open_sandbox
from codeboost_dagster.core.scale_out.parquet_streams import grouped_batches
from codeboost_dagster.core.settings import SandboxLimits
from codeboost_dagster.core.variant_runs import execute_variants
from tests.helpers import comparable_records, variant_row

LIMITS = SandboxLimits(wall_time_s=3.0, cpu_time_s=3.0)


def _variant(snippet: int, index: int, code: str, kind: str = "logical", cases: list | None = None) -> dict:
    row = variant_row(snippet, code, cases)
    return {**row, "variant_id": f"{row['variant_id']}-{index}", "variant_index": index, "kind": kind}


def _records(rows: list[dict], limits: SandboxLimits = LIMITS) -> pd.DataFrame:
    with open_sandbox("forkserver", limits, 2) as sandbox:
        return execute_variants(pd.DataFrame(rows), sandbox, "forkserver").to_pandas().set_index("variant_id")


def test_a_looping_variant_stops_at_its_derived_limit_and_says_so():
    records = _records(
        [
            _variant(0, 0, "total = 0\nfor i in range(10):\n    total += i\nprint(total)\n", "original"),
            _variant(0, 1, "total = 0\ni = 0\nwhile i < 10:\n    total += i\nprint(total)\n"),
        ]
    )
    original, looping = records.loc["v000-0"], records.loc["v000-1"]
    assert original["status"] == "ok" and original["wall_limit_s"] == LIMITS.wall_time_s
    assert looping["status"] == "timeout"
    assert LIMITS.variant_wall_min_s <= looping["wall_limit_s"] < LIMITS.wall_time_s


def test_a_slow_variant_of_a_slow_original_keeps_a_limit_it_finishes_within():
    sleep = "import time\ntime.sleep({})\nprint('done')\n"
    records = _records(
        [_variant(0, 0, sleep.format(0.2), "original"), _variant(0, 1, sleep.format(0.7), "digit")],
        replace(LIMITS, variant_wall_factor=5.0),
    )
    variant = records.loc["v000-1"]
    assert variant["status"] == "ok" and variant["stdout"] == "done\n"
    assert LIMITS.variant_wall_min_s < 1.0 <= variant["wall_limit_s"] < LIMITS.wall_time_s


def test_without_a_finished_original_a_variant_keeps_the_full_limit():
    records = _records(
        [
            _variant(0, 0, "while True:\n    pass\n", "original"),
            _variant(0, 1, "print(1)\n"),
            _variant(1, 1, "print(2)\n"),  # its original is in another batch
            _variant(2, 0, "print(3)\n", "original"),
            _variant(2, 1, "print(int(input()) + 1)\n", "input", [{"kind": "stdin", "stdin": "4\n"}]),
        ],
        replace(LIMITS, input_variant_wall_factor=1000.0),
    )
    assert records.loc["v000-0", "status"] == "timeout" and records.loc["v000-0", "wall_limit_s"] == 3.0
    assert records.loc[["v000-1", "v001-1"], "wall_limit_s"].tolist() == [3.0, 3.0]
    assert records.loc["v002-1", "stdout"] == "5\n"
    assert LIMITS.variant_wall_min_s < records.loc["v002-1", "wall_limit_s"] <= 3.0  # the input-level factor


def test_records_are_in_plan_order_whatever_the_phase():
    rows = [_variant(0, 1, "print('b')\n"), _variant(0, 0, "print('a')\n", "original"), _variant(1, 0, "print(2)\n")]
    with open_sandbox("forkserver", LIMITS, 2) as sandbox:
        records = execute_variants(pd.DataFrame(rows), sandbox, "forkserver").to_pandas()
    assert records["variant_id"].tolist() == ["v000-1", "v000-0", "v001-0"]
    assert records["stdout"].tolist() == ["b\n", "a\n", "2\n"]


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 10])
def test_execution_batches_never_split_a_snippets_variants(batch_rows):
    snippets = ["a", "a", "a", "b", "c", "c", "d", "d", "d", "d"]
    frame = pd.DataFrame({"snippet_id": snippets, "row": range(len(snippets))})
    batches = list(grouped_batches((frame.iloc[i : i + batch_rows] for i in range(0, 10, batch_rows)), "snippet_id"))
    assert pd.concat(batches)["row"].tolist() == list(range(10))
    seen = [set(batch["snippet_id"]) for batch in batches]
    assert all(not (earlier & later) for i, earlier in enumerate(seen) for later in seen[i + 1 :])


def test_records_of_programs_that_finish_are_those_of_a_run_without_derived_limits(pipeline):
    """The sample's variants, run with derived limits and with the full limit for every variant
    (the stage before derived limits): every program that finishes in the second run finishes in
    the first with the same record, times aside."""
    storage, _, _ = pipeline
    variants = pd.read_parquet(storage / "augmented_variants.parquet")
    limits = SandboxLimits(wall_time_s=2.0, cpu_time_s=2.0)
    with open_sandbox("forkserver", limits, 2) as sandbox:
        derived = execute_variants(variants, sandbox, "forkserver").to_pandas()
    with open_sandbox("forkserver", replace(limits, variant_wall_min_s=limits.wall_time_s), 2) as sandbox:
        full = execute_variants(variants, sandbox, "forkserver").to_pandas()
    assert (full["wall_limit_s"] == limits.wall_time_s).all()
    assert (derived["wall_limit_s"] < limits.wall_time_s).sum() > len(variants) / 3
    finished = full["status"].isin(FINISHED_STATUSES)
    assert finished.sum() > len(variants) / 2
    assert comparable_records(derived[finished]).equals(comparable_records(full[finished]))
    assert (derived[~finished]["status"] == full[~finished]["status"]).all()
