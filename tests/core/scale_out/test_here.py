"""The streamed stages on this machine (no Ray): the same batch loop as on Ray, over a process
pool (augmentation) or the open sandbox (execution). Rows equal the whole-table core functions'
for any batch size, batches come back in order, and a failing batch is retried, then kept as
rows that say why."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from codeboost_dagster.core.augmentation import augment_snippets
from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.scale_out import augment_here, execute_here
from codeboost_dagster.core.settings import AugmentationSettings
from tests.helpers import (
    SCALE_OUT_LIMITS,
    SCALE_OUT_SETTINGS,
    comparable_records,
    local_records,
    snippets_with_a_broken_one,
    variant_row,
)


def _variants(count: int) -> pd.DataFrame:
    rows = [
        variant_row(index, f"value = {index}\nprint(value * 3)\nprint(1 / (value % 4))\n") for index in range(count)
    ]
    rows.append(variant_row(count, "print(1)\n", [{"kind": "mystery"}]))  # a case the sandbox cannot run
    return pd.DataFrame(rows)


@pytest.mark.parametrize("workers", [1, 2])
def test_augmentation_here_gives_the_whole_table_result_batch_by_batch(tmp_path, workers):
    snippets, settings = snippets_with_a_broken_one(14), AugmentationSettings(p=0.3, variants_per_snippet=3)
    seen = []
    stage = augment_here(
        snippets, tmp_path, settings, SCALE_OUT_SETTINGS, on_batch=lambda batch, _, report: seen.append(report.index)
    )
    expected = augment_snippets(snippets, settings, workers=1)
    variants, dropped = (output.read() for output in stage.outputs)
    pd.testing.assert_frame_equal(variants, expected.variants)
    pd.testing.assert_frame_equal(dropped, expected.dropped)
    assert seen == list(range(stage.batches)) and stage.batches >= 2 and stage.lost_batches == 0


def test_execution_here_gives_the_local_records_in_batches(tmp_path):
    variants = _variants(10)
    with open_sandbox("forkserver", SCALE_OUT_LIMITS, 2) as sandbox:
        stage = execute_here(variants, tmp_path / "records.parquet", sandbox, "forkserver", SCALE_OUT_SETTINGS)
    assert stage.batches == 3 and stage.retried_batches == stage.lost_batches == 0  # 11 variants, 4 per batch
    pd.testing.assert_frame_equal(
        comparable_records(stage.outputs[0].read()), comparable_records(local_records(variants))
    )


class _FailingSandbox:
    """The real sandbox, except that a batch holding `marker` fails `failures` times."""

    def __init__(self, sandbox, marker: str, failures: int) -> None:
        self.sandbox, self.marker, self.failures = sandbox, marker, failures

    def __getattr__(self, name: str):
        return getattr(self.sandbox, name)  # limits, runtime: the real sandbox's

    def run_many(self, programs, progress=None):
        if self.failures and any(self.marker in program.code for program in programs):
            self.failures -= 1
            raise RuntimeError("the sandbox engine went away")
        return self.sandbox.run_many(programs, progress)


@pytest.mark.parametrize("failures", [1, 5])
def test_a_failing_batch_here_is_retried_then_kept_as_sandbox_error_rows(tmp_path, failures):
    variants, settings = _variants(10), replace(SCALE_OUT_SETTINGS, batch_retries=1)
    with open_sandbox("forkserver", SCALE_OUT_LIMITS, 2) as real:
        flaky = _FailingSandbox(real, "value = 5\n", failures)
        stage = execute_here(variants, tmp_path / "records.parquet", flaky, "forkserver", settings)  # type: ignore[arg-type]
    records = stage.outputs[0].read()
    assert len(records) == len(variants) and stage.retried_batches == 1
    lost = records[records["detail"].fillna("").str.contains("failed 2 times on this machine")]
    if failures == 1:
        assert stage.lost_batches == 0 and lost.empty
        pd.testing.assert_frame_equal(comparable_records(records), comparable_records(local_records(variants)))
    else:
        assert stage.lost_batches == 1 and set(lost["status"]) == {"sandbox_error"}
        assert set(lost["variant_id"]) == {f"v{index:03d}" for index in range(4, 8)}  # the second batch
