"""Metadata helpers shared by the assets: previews, count tables and plots for the UI."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import pandas as pd
from dagster import MetadataValue

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


def histogram_plot(values: pd.Series, title: str, xlabel: str, bins: int = 30) -> MetadataValue:
    """A histogram as an inline PNG in Markdown, so the UI shows the distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3), dpi=90)
    axes.hist(values.dropna(), bins=bins, color="#4f46e5")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("count")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def frame_table(frame: pd.DataFrame, max_rows: int = 50) -> MetadataValue:
    """A small DataFrame (per-round or per-dump counts) as a Markdown table."""
    return MetadataValue.md(frame.head(max_rows).to_markdown(index=False) if len(frame) else "_none_")


def progress_logger(log, label: str, steps: int = 10):
    """A progress(done, total) callback that logs about `steps` times over a long stage."""
    reported = {"next": 0.0}

    def report(done: int, total: int) -> None:
        if total and (done / total >= reported["next"] or done == total):
            log.info(f"{label}: {done}/{total} ({100 * done / total:.0f}%)")
            reported["next"] = done / total + 1 / steps

    return report
