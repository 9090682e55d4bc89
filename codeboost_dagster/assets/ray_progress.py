"""Progress of a stage running on Ray: finished batches go to the run's log and, as asset
observations, to the asset's metadata while the stage still runs (throttled by time)."""

from __future__ import annotations

import time
from collections.abc import Callable

from dagster import AssetExecutionContext, AssetObservation

from codeboost_dagster.core.scale_out import BatchReport


def batch_progress(
    context: AssetExecutionContext, asset_key: str, label: str, interval_s: float
) -> Callable[[BatchReport], None]:
    """A callback for each finished batch: logs and observes the first, the last, any retried or
    lost batch, and otherwise at most one every `interval_s` seconds."""
    state = {"last": float("-inf"), "retried": 0, "lost": 0}

    def report(batch: BatchReport) -> None:
        state["retried"] += batch.attempts > 1
        state["lost"] += batch.lost is not None
        if batch.lost is not None:
            context.log.warning(f"{label}: batch {batch.index} lost after {batch.attempts} attempts: {batch.lost}")
        elif batch.attempts > 1:
            context.log.warning(f"{label}: batch {batch.index} succeeded on attempt {batch.attempts}")
        now = time.monotonic()
        last = batch.rows_done == batch.rows_total
        if now - state["last"] < interval_s and not (last or batch.index == 0):
            return
        state["last"] = now
        percent = 100 * batch.rows_done / batch.rows_total if batch.rows_total else 100.0
        done = f"{batch.rows_done}/{batch.rows_total} rows ({percent:.0f}%)"
        context.log.info(f"{label}: batch {batch.batches_done} done, {done}")
        context.log_event(
            AssetObservation(
                asset_key=asset_key,
                metadata={
                    "batches_done": batch.batches_done,
                    "rows_done": batch.rows_done,
                    "rows_total": batch.rows_total,
                    "retried_batches": state["retried"],
                    "lost_batches": state["lost"],
                },
            )
        )

    return report
