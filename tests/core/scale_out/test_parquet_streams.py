"""Streaming pieces of the Ray scale-out that need no cluster: batch sources, the Parquet sink,
and the bounded running summary of execution records."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codeboost_dagster.core.scale_out import (
    ExecutionTally,
    ParquetFile,
    ParquetSink,
    lost_records,
    source_batches,
    source_rows,
)
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.variant_runs import plan_runs


def _variants(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "variant_id": f"v{i}",
                "snippet_id": f"s{i}",
                "variant_index": 0,
                "kind": "original",
                "mutations": "[]",
                "code": f"print({i})\n",
                "test_cases": json.dumps([]),
            }
            for i in range(count)
        ]
    )


def test_a_dataframe_and_its_parquet_file_give_the_same_batches(tmp_path):
    frame = _variants(23)
    frame.to_parquet(tmp_path / "variants.parquet", row_group_size=5)
    stored = ParquetFile.at(tmp_path / "variants.parquet")
    assert source_rows(frame) == source_rows(stored) == 23
    in_memory, streamed = list(source_batches(frame, 10)), list(source_batches(stored, 10))
    assert [len(batch) for batch in in_memory] == [len(batch) for batch in streamed] == [10, 10, 3]
    for left, right in zip(in_memory, streamed):
        pd.testing.assert_frame_equal(left, right)


def test_the_sink_gathers_batches_into_row_groups_and_checks_the_schema(tmp_path):
    frame = _variants(9)
    with ParquetSink(tmp_path / "records.parquet", EXECUTION_RECORDS, row_group_rows=8) as sink:
        for start in (0, 4, 8):
            sink.write(lost_records(frame.iloc[start : start + 4], "node lost", "forkserver"))
        with pytest.raises((pa.ArrowInvalid, KeyError, ValueError)):
            sink.write(pa.table({"program_id": ["x"]}))
        written = sink.close()
    assert written.rows == 9 and pq.ParquetFile(written.path).num_row_groups == 2
    records = written.read()
    assert records["program_id"].tolist() == [run.program_id for run in plan_runs(frame)]
    assert set(records["status"]) == {"sandbox_error"} and set(records["detail"]) == {"node lost"}
    assert records["code"].tolist() == frame["code"].tolist()


def test_the_tally_stays_bounded_and_flags_a_batch_whose_records_do_not_match_its_plan():
    tally = ExecutionTally(sample_rows=5, slowest_kept=3, full_limit_s=5.0)
    frame = _variants(40)
    for index, start in enumerate(range(0, 40, 10)):
        batch = frame.iloc[start : start + 10]
        records = lost_records(batch, "x", "forkserver")
        if index == 2:
            records = records.slice(0, 9)
        tally.add(index, batch, records)
    assert tally.planned == 40 and tally.records == 39 and tally.mismatched_batches == [2]
    assert len(tally.wall_ms_sample) == 5 and len(tally.slowest()) == 3
    assert tally.by_status == {"sandbox_error": 39}
