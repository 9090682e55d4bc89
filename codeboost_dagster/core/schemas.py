"""Explicit pyarrow schemas of every table the pipeline writes, keyed by asset name."""

from __future__ import annotations

import pyarrow as pa

RAW_SNIPPETS = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("test_cases", pa.large_string(), nullable=False),
        pa.field("expected_stdout", pa.large_string()),
        pa.field("read_error", pa.string()),
        pa.field("read_error_detail", pa.string()),
    ]
)

FILTERED_SNIPPETS = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("test_cases", pa.large_string(), nullable=False),
        pa.field("expected_stdout", pa.large_string()),
        pa.field("lines", pa.int32(), nullable=False),
        pa.field("chars", pa.int32(), nullable=False),
    ]
)

FILTER_REPORT = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("duplicate_of", pa.string()),
    ]
)

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "raw_snippets": RAW_SNIPPETS,
    "filtered_snippets": FILTERED_SNIPPETS,
    "filter_report": FILTER_REPORT,
}


def schema_problems(columns: list[str], schema: pa.Schema) -> list[str]:
    """Human-readable differences between a table's columns and its schema's (order included)."""
    expected = schema.names
    missing = [name for name in expected if name not in columns]
    extra = [name for name in columns if name not in expected]
    problems = [f"missing column {name!r}" for name in missing] + [f"unexpected column {name!r}" for name in extra]
    if not problems and list(columns) != expected:
        problems.append(f"column order {list(columns)} differs from {expected}")
    return problems
