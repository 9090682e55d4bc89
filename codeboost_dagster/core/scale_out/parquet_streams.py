"""Tables that stream: a source cut into batches, a Parquet sink written as batches arrive, and
the handle to a finished Parquet file that an IO manager can copy without loading it.

A source is either a DataFrame already in memory (the IO manager loaded it) or a Parquet file
(read row group by row group, so the driver never holds the whole dump).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class ParquetFile:
    """A table stored as one Parquet file: its path (a local `Path`, or a `UPath` in object
    storage: anything with `open("rb")`), rows and schema."""

    path: Any
    rows: int
    schema: pa.Schema

    @classmethod
    def at(cls, path: Any) -> ParquetFile:
        """The handle of an existing file, from its footer (nothing else is read)."""
        with path.open("rb") as handle:
            footer = pq.ParquetFile(handle)
            return cls(path, footer.metadata.num_rows, footer.schema_arrow)

    def batches(self, batch_rows: int) -> Iterator[pd.DataFrame]:
        """The rows in order, `batch_rows` at a time, as DataFrames."""
        with self.path.open("rb") as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=batch_rows):
                yield batch.to_pandas()

    def read(self) -> pd.DataFrame:
        """The whole table (only for tables that fit in memory)."""
        with self.path.open("rb") as handle:
            return pq.read_table(handle, schema=self.schema).to_pandas()


TableSource = pd.DataFrame | ParquetFile
"""What a streamed stage reads: a DataFrame in memory, or a Parquet file it reads in batches."""


def source_rows(source: TableSource) -> int:
    """Rows in the source, without reading it."""
    return len(source) if isinstance(source, pd.DataFrame) else source.rows


def source_batches(source: TableSource, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The source's rows in order, `batch_rows` at a time (the last batch may be shorter)."""
    if isinstance(source, ParquetFile):
        yield from source.batches(batch_rows)
        return
    for start in range(0, len(source), batch_rows):
        yield source.iloc[start : start + batch_rows].reset_index(drop=True)


def grouped_batches(batches: Iterable[pd.DataFrame], column: str) -> Iterator[pd.DataFrame]:
    """The same rows in the same order, re-cut so that adjacent rows sharing a value of `column`
    stay in one batch: a group that runs on into the next batch moves there whole (that batch
    grows by at most the group; other batches keep their size)."""
    held: pd.DataFrame | None = None
    for batch in batches:
        if batch.empty:
            continue
        if held is not None:
            key = batch[column].iat[0]
            keys = held[column]
            start = len(held)
            while start > 0 and keys.iat[start - 1] == key:
                start -= 1
            batch = pd.concat([held.iloc[start:], batch], ignore_index=True)
            if start:
                yield held.iloc[:start].reset_index(drop=True)
        held = batch.reset_index(drop=True)
    if held is not None:
        yield held


class ParquetSink:
    """Appends tables with one schema to a Parquet file; a context manager.

    Batches are gathered into row groups of at least `row_group_rows` rows, and no column
    statistics are written: the file's footer keeps metadata per row group and column, so
    small row groups with min/max values of long code strings would make the writer's memory
    grow with the table. Memory stays about one row group.
    """

    def __init__(self, path: Path, schema: pa.Schema, row_group_rows: int) -> None:
        self.path, self.schema, self.rows = Path(path), schema, 0
        self.row_group_rows = row_group_rows
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(self.path, schema, compression="zstd", write_statistics=False)

    def write(self, table: pa.Table) -> None:
        """Append one batch (cast to the sink's schema, which fails loudly on a column mismatch)."""
        self._pending.append(table.select(self.schema.names).cast(self.schema))
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending_rows:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=self._pending_rows)
        self._pending, self._pending_rows = [], 0

    def close(self) -> ParquetFile:
        """Write what is left, finish the file and return its handle."""
        self._flush()
        self._writer.close()
        return ParquetFile(self.path, self.rows, self.schema)

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._writer.is_open:
            self._writer.close()
