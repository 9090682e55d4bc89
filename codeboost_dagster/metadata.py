"""What the assets show in the UI: previews, count tables and plots as metadata, and the progress of
long stages (in the run's log and, for streamed stages, batch by batch as asset observations while
the stage runs)."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Mapping

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetObservation,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
)

from codeboost_dagster.core.scale_out import BatchReport, StreamedStage
from codeboost_dagster.core.slot_time import SlotTime

PREVIEW_ROWS = 10
PREVIEW_CHARS = 80


def preview(frame: pd.DataFrame, columns: list[str]) -> MetadataValue:
    """A Markdown table of the first rows, long cells shortened to one line."""
    head = frame[columns].head(PREVIEW_ROWS).astype(str)
    head = head.apply(lambda column: column.str.replace("\n", " ⏎ ").str.slice(0, PREVIEW_CHARS))
    return MetadataValue.md(head.to_markdown(index=False) if len(head) else "_no rows_")


def counts_table(counts: Mapping[str, int], label: str) -> MetadataValue:
    """A Markdown table of counts per label, largest first."""
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    lines = [f"| {label} | rows |", "|---|---:|"] + [f"| {name} | {count} |" for name, count in rows]
    return MetadataValue.md("\n".join(lines) if rows else "_none_")


def counts_of(table: MetadataValue | None) -> dict[str, int]:
    """The counts a `counts_table` holds (empty for none), for summaries outside the UI."""
    counts = {}
    for line in (str(table.value) if table is not None else "").splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[1].isdigit():
            counts[cells[0]] = int(cells[1])
    return counts


def _figure(title: str, xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3), dpi=90)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    return figure, axes


def _as_markdown_image(figure, title: str) -> MetadataValue:
    """The figure as an inline PNG in Markdown, so the UI shows it."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def histogram_plot(values: pd.Series, title: str, xlabel: str, bins: int = 30) -> MetadataValue:
    """A histogram of `values`, shown in the UI."""
    figure, axes = _figure(title, xlabel, "count")
    axes.hist(values.dropna(), bins=bins, color="#4f46e5")
    return _as_markdown_image(figure, title)


def curve_plot(frame: pd.DataFrame, x: str, columns: list[str], title: str) -> MetadataValue:
    """One line per column over `x` (a training curve), shown in the UI."""
    figure, axes = _figure(title, x, "value")
    plotted = [column for column in columns if column in frame and frame[column].notna().any()]
    for column in plotted:
        axes.plot(frame[x], frame[column], marker="o", label=column)
    if plotted:
        axes.legend(loc="best", fontsize="small")
    else:
        axes.text(0.5, 0.5, "no values recorded", ha="center", va="center", transform=axes.transAxes)
    return _as_markdown_image(figure, title)


def bar_plot(table: pd.DataFrame, title: str, errors: dict | None = None) -> MetadataValue:
    """Grouped bars: one group per row of `table`, one bar per column, shown in the UI. `errors`
    maps a column to its (below, above) error-bar lengths per row."""
    figure, axes = _figure(title, table.index.name or "", "value")
    width = 0.8 / max(1, len(table.columns))
    positions = range(len(table.index))
    for offset, column in enumerate(table.columns):
        error = errors.get(column) if errors else None
        axes.bar(
            [position + offset * width for position in positions],
            table[column].fillna(0),
            width,
            label=str(column),
            yerr=None if error is None else [list(error[0].fillna(0)), list(error[1].fillna(0))],
            capsize=3,
        )
    axes.set_xticks([position + width * (len(table.columns) - 1) / 2 for position in positions])
    axes.set_xticklabels([str(label) for label in table.index], fontsize="small")
    axes.legend(loc="best", fontsize="small")
    return _as_markdown_image(figure, title)


def slot_time_metadata(slot_time: SlotTime) -> dict:
    """Where a stage's sandbox time went: runs and slot seconds by kind of run and how runs ended,
    a stacked plot of it, and the share of slot time spent in runs stopped at a limit."""
    by_kind = slot_time.by_kind()
    return {
        "slot_time": records_table(slot_time.table()),
        "slot_time_plot": bar_plot(by_kind, "sandbox-slot seconds by kind of run and how runs ended")
        if not by_kind.empty
        else MetadataValue.md("_no runs_"),
        "slot_share_stopped": slot_time.stopped_share(),
    }


def check_result(spec: AssetCheckSpec, passed: bool, **details) -> AssetCheckResult:
    """The result of the check `spec` declares, with its description unless `details` gives one."""
    details.setdefault("description", spec.description)
    return AssetCheckResult(check_name=spec.name, asset_key=spec.asset_key, passed=bool(passed), **details)


def frame_table(frame: pd.DataFrame, max_rows: int = 50) -> MetadataValue:
    """A small DataFrame (per-round or per-dump counts) as a Markdown table."""
    return MetadataValue.md(frame.head(max_rows).to_markdown(index=False) if len(frame) else "_none_")


def records_table(frame: pd.DataFrame) -> MetadataValue:
    """A DataFrame as Dagster's table metadata: rendered in the UI, its rows readable back as dicts
    (`value.records[i].data`) by scripts that read the instance."""
    kinds = {"i": "int", "u": "int", "f": "float", "b": "bool"}
    columns = [TableColumn(str(name), kinds.get(frame[name].dtype.kind, "string")) for name in frame.columns]
    rows = [
        TableRecord({str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
        for row in frame.to_dict("records")
    ]
    return MetadataValue.table(records=rows, schema=TableSchema(columns=columns))


def progress_logger(log, label: str, steps: int = 10):
    """A progress(done, total) callback that logs about `steps` times over a long stage."""
    reported = {"next": 0.0}

    def report(done: int, total: int) -> None:
        if total and (done / total >= reported["next"] or done == total):
            log.info(f"{label}: {done}/{total} ({100 * done / total:.0f}%)")
            reported["next"] = done / total + 1 / steps

    return report


def stage_metadata(stage: StreamedStage, place: str) -> dict:
    """Where a streamed stage ran and how its batches went."""
    return {
        "ran_on": place,
        "batches": stage.batches,
        "retried_batches": stage.retried_batches,
        "lost_batches": stage.lost_batches,
    }


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
