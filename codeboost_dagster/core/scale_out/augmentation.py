"""`augmented_variants` as a streamed stage: snippets go in batches to the augmentation core
(`augment_snippets`, one worker per batch) on Ray tasks (`augment_on_ray`) or in a process pool
on this machine (`augment_here`), and both tables stream back, in input order, into Parquet
files. Each snippet's variants depend only on its row and the settings, so the rows are the same
wherever they ran. A batch that failed after its retries keeps every original and drops each
attempted variant with reason `augmentation_error`, saying why.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.augmentation import augment_snippets
from codeboost_dagster.core.augmentation.batch import default_workers, dropped_frame, variants_frame
from codeboost_dagster.core.augmentation.reasons import AUGMENTATION_ERROR
from codeboost_dagster.core.augmentation.snippet import DropRow, augment_snippet
from codeboost_dagster.core.process_pools import spawned_pool
from codeboost_dagster.core.scale_out.batch_runner import (
    FUTURES,
    BatchReport,
    Dispatcher,
    Handles,
    LocalCalls,
    run_batches,
)
from codeboost_dagster.core.scale_out.execution import StreamedStage
from codeboost_dagster.core.scale_out.parquet_streams import ParquetSink, TableSource, source_batches, source_rows
from codeboost_dagster.core.schemas import AUGMENTATION_REPORT, AUGMENTED_VARIANTS
from codeboost_dagster.core.settings import AugmentationSettings, ScaleOutSettings

AugmentedBatch = tuple[pa.Table, pa.Table]
"""(kept variants, dropped attempts) of one batch, as AUGMENTED_VARIANTS / AUGMENTATION_REPORT tables."""

BatchDone = Callable[[pd.DataFrame, AugmentedBatch, BatchReport], None]
"""Called as on_batch(snippets of the batch, its two tables, report) when a batch is written."""


def _tables(variants: pd.DataFrame, dropped: pd.DataFrame) -> AugmentedBatch:
    return (
        pa.Table.from_pandas(variants, schema=AUGMENTED_VARIANTS, preserve_index=False),
        pa.Table.from_pandas(dropped, schema=AUGMENTATION_REPORT, preserve_index=False),
    )


def augment_batch(snippets: pd.DataFrame, settings: AugmentationSettings, max_code_chars: int | None) -> AugmentedBatch:
    """One batch's work (a Ray task's, or a local pool worker's): the core on it, in one process."""
    result = augment_snippets(snippets, settings, workers=1, max_code_chars=max_code_chars)
    return _tables(result.variants, result.dropped)


def lost_augmentation(snippets: pd.DataFrame, settings: AugmentationSettings, detail: str) -> AugmentedBatch:
    """Every original kept (built as the core builds it, with nothing attempted: a limit of 0
    characters rejects the snippet before any parsing) and every attempted variant dropped."""
    nothing_attempted = dataclasses.replace(settings, variants_per_snippet=0)
    originals, dropped = [], []
    for snippet_id, code, cases in zip(snippets["snippet_id"], snippets["code"], snippets["test_cases"], strict=True):
        outcome = augment_snippet(snippet_id, code, cases, nothing_attempted, max_code_chars=0)
        originals += outcome.variants
        dropped += outcome.dropped  # the original itself, when it cannot be made canonical
        attempts = range(1, settings.variants_per_snippet + 1)
        dropped += [DropRow(snippet_id, index, AUGMENTATION_ERROR, detail) for index in attempts]
    return _tables(variants_frame(originals), dropped_frame(dropped))


class _AugmentationTasks:
    """A `Dispatcher` that starts one Ray task (one CPU) per batch."""

    def __init__(self, settings: AugmentationSettings, max_code_chars: int | None) -> None:
        import ray

        self._task = ray.remote(augment_batch).options(num_cpus=1, max_retries=0)
        self._settings = ray.put(settings)
        self._max_code_chars = max_code_chars

    def submit(self, batch: pd.DataFrame):
        """Start one batch."""
        return self._task.remote(batch, self._settings, self._max_code_chars)

    def done(self, ref: object, failed: bool) -> None:
        """Tasks hold no place to free; Ray schedules a retried task on any live worker."""


def cluster_cpus() -> int:
    """CPUs of the connected Ray cluster (at least 1)."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


INPUT_COLUMNS = ["snippet_id", "code", "test_cases"]
CHUNKS_PER_LOCAL_WORKER = 4
"""Locally, inputs smaller than workers x this x the batch size come in smaller batches, so every
core gets work (the rows are the same for any batch size)."""


def augment_on_ray(
    snippets: TableSource,
    out_dir: Path,
    augmentation: AugmentationSettings,
    settings: ScaleOutSettings,
    max_code_chars: int | None = None,
    on_batch: BatchDone | None = None,
) -> StreamedStage:
    """Augment every snippet on the connected Ray cluster (one task per batch); outputs: (variants
    file, dropped file) under `out_dir`."""
    return _augment_stream(
        snippets,
        out_dir,
        augmentation,
        settings,
        on_batch,
        _AugmentationTasks(augmentation, max_code_chars),
        window=cluster_cpus() * settings.augmentation_tasks_per_cpu,
        batch_rows=settings.augmentation_batch_rows,
    )


def augment_here(
    snippets: TableSource,
    out_dir: Path,
    augmentation: AugmentationSettings,
    settings: ScaleOutSettings,
    max_code_chars: int | None = None,
    on_batch: BatchDone | None = None,
    workers: int | None = None,
) -> StreamedStage:
    """Augment every snippet on this machine: a spawned process pool of `workers` (default: the
    cores), or this process for one; outputs as `augment_on_ray`'s."""
    workers = workers or default_workers()
    per_worker = math.ceil(source_rows(snippets) / (workers * CHUNKS_PER_LOCAL_WORKER))
    batch_rows = max(1, min(settings.augmentation_batch_rows, per_worker))
    if workers == 1:
        pool: concurrent.futures.Executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    else:
        pool = spawned_pool(workers)
    with pool:
        return _augment_stream(
            snippets,
            out_dir,
            augmentation,
            settings,
            on_batch,
            LocalCalls(pool, augment_batch, augmentation, max_code_chars),
            window=workers * settings.augmentation_tasks_per_cpu,
            batch_rows=batch_rows,
            handles=FUTURES,
        )


def _augment_stream(
    snippets: TableSource,
    out_dir: Path,
    augmentation: AugmentationSettings,
    settings: ScaleOutSettings,
    on_batch: BatchDone | None,
    dispatcher: Dispatcher,
    *,
    window: int,
    batch_rows: int,
    handles: Handles | None = None,
) -> StreamedStage:
    """The stage's one batch loop, whichever dispatcher runs the batches."""
    reports = []
    row_group = settings.sink_row_group_rows
    with (
        ParquetSink(out_dir / "augmented_variants.parquet", AUGMENTED_VARIANTS, row_group) as variants_sink,
        ParquetSink(out_dir / "augmentation_report.parquet", AUGMENTATION_REPORT, row_group) as dropped_sink,
    ):
        finished = run_batches(
            (batch[INPUT_COLUMNS] for batch in source_batches(snippets, batch_rows)),
            dispatcher,
            lambda batch, detail: lost_augmentation(batch, augmentation, detail),
            window=window,
            retries=settings.batch_retries,
            rows=len,
            rows_total=source_rows(snippets),
            handles=handles,
        )
        for batch, tables, report in finished:
            variants_sink.write(tables[0])
            dropped_sink.write(tables[1])
            reports.append(report)
            if on_batch is not None:
                on_batch(batch, tables, report)
        outputs = (variants_sink.close(), dropped_sink.close())
    return StreamedStage.of(outputs, reports)
