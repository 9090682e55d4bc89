"""Readers for row files (JSONL, Parquet, CSV) with a code column and optional test cases.

Column names are looked up in the order the settings give (the public CodeBoost release uses
`code_str` and `test_cases_str`). A row-level problem becomes an unreadable row; a file-level
problem (no code column, unparseable file) becomes one unreadable row naming the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from codeboost_dagster.core.readers.records import RawSnippet, snippet_from_source, unreadable
from codeboost_dagster.core.settings import IngestionSettings

TABULAR_SUFFIXES = (".jsonl", ".parquet", ".csv")


def _first_present(columns: Iterable[str], candidates: tuple[str, ...]) -> str | None:
    present = set(columns)
    return next((name for name in candidates if name in present), None)


def _row_to_snippet(
    dump: str, origin: str, row: Mapping[str, Any], code_column: str, settings: IngestionSettings
) -> RawSnippet:
    code = row.get(code_column)
    if not isinstance(code, str):
        return unreadable(dump, origin, "code_not_text", f"{origin}: column {code_column!r} is {type(code).__name__}")
    if len(code.encode("utf-8", errors="surrogatepass")) > settings.max_code_bytes:
        return unreadable(dump, origin, "file_too_large", f"{origin}: code over {settings.max_code_bytes} bytes")
    tests_column = _first_present(row.keys(), settings.test_cases_columns)
    stdout_column = _first_present(row.keys(), settings.expected_stdout_columns)
    expected = row.get(stdout_column) if stdout_column else None
    return snippet_from_source(
        dump,
        origin,
        code,
        row.get(tests_column) if tests_column else None,
        expected if isinstance(expected, str) else None,
    )


def _origin(relative: str, index: int, row: Mapping[str, Any], settings: IngestionSettings) -> str:
    column = _first_present(row.keys(), settings.origin_columns)
    label = f"{relative}:row={index}"
    return f"{label}:{column}={row[column]}" if column and row.get(column) not in (None, "") else label


def _rows_to_snippets(
    dump: str, relative: str, rows: Iterator[Mapping[str, Any] | str], settings: IngestionSettings
) -> Iterator[RawSnippet]:
    code_column: str | None = None
    for index, row in enumerate(rows):
        if isinstance(row, str):
            yield unreadable(dump, f"{relative}:row={index}", "invalid_row", f"{relative} row {index}: {row}")
            continue
        origin = _origin(relative, index, row, settings)
        code_column = code_column or _first_present(row.keys(), settings.code_columns)
        if code_column is None or code_column not in row:
            yield unreadable(
                dump,
                origin,
                "missing_code_column",
                f"{relative} row {index} has none of the code columns {list(settings.code_columns)} "
                f"(columns: {sorted(row.keys())[:20]})",
            )
            continue
        yield _row_to_snippet(dump, origin, row, code_column, settings)


def _jsonl_rows(path: Path) -> Iterator[Mapping[str, Any] | str]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                yield f"line {number} is not valid UTF-8 JSON ({type(error).__name__})"
                continue
            yield row if isinstance(row, dict) else f"line {number} is a JSON {type(row).__name__}, not an object"


def _csv_rows(path: Path) -> Iterator[Mapping[str, Any] | str]:
    csv.field_size_limit(2**31 - 1)
    with path.open(newline="", encoding="utf-8", errors="strict") as handle:
        yield from csv.DictReader(handle)


def _parquet_rows(path: Path) -> Iterator[Mapping[str, Any] | str]:
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=2048):
        yield from batch.to_pylist()


_ROW_READERS = {".jsonl": _jsonl_rows, ".csv": _csv_rows, ".parquet": _parquet_rows}


def read_tabular_file(dump: str, path: Path, relative: str, settings: IngestionSettings) -> Iterator[RawSnippet]:
    """Stream the rows of one JSONL / CSV / Parquet file as raw snippets."""
    rows = _ROW_READERS[path.suffix.lower()](path)
    produced = 0
    try:
        for snippet in _rows_to_snippets(dump, relative, rows, settings):
            produced += 1
            yield snippet
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as error:
        produced += 1
        yield unreadable(dump, f"{relative}:after_row={produced - 1}", "unreadable_file", f"{relative}: {error}")
    if produced == 0:
        yield unreadable(dump, relative, "empty_file", f"{relative} holds no rows")
