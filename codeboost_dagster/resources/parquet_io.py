"""The Parquet IO manager (the one the code location and the tests use): one file per asset (or
per partition), written with the table's explicit schema.

Every write is published atomically (resources.committed_files): a run killed while writing leaves
the previous complete table in place. A stored table that cannot be read (damaged outside our
writes) is a clear error naming the file; `load_table`, the incremental state an asset builds on,
falls back to the version before it.

Streaming, for the streamed stages (augmentation, execution): an input declared with `STREAMED_INPUT` metadata
arrives as a `ParquetFile` handle (read batch by batch by the stage, never loaded whole), and an
output given as a `ParquetFile` (written batch by batch by the stage) is copied into place in chunks.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    ConfigurableIOManagerFactory,
    InputContext,
    MetadataValue,
    OutputContext,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
    UPathIOManager,
)
from upath import UPath

from codeboost_dagster.core.partition_keys import validate_partition_key
from codeboost_dagster.core.scale_out.parquet_streams import ParquetFile
from codeboost_dagster.core.schemas import TABLE_SCHEMAS
from codeboost_dagster.resources.committed_files import previous_version, publish

STREAMED_INPUT = "codeboost/streamed_input"
"""`AssetIn` metadata key: True hands the asset a `ParquetFile` instead of a DataFrame."""

COPY_CHUNK_BYTES = 16 * 1024 * 1024


class UnreadableTable(RuntimeError):
    """A stored Parquet file is damaged (for example truncated by a crash outside our writes)."""


def _read_parquet(path: UPath) -> pd.DataFrame:
    """The stored table; a file that is not there stays a FileNotFoundError (Dagster then skips an
    input's missing partition where the input allows it), a damaged one is an UnreadableTable."""
    try:
        with path.open("rb") as handle:
            return pq.read_table(handle).to_pandas()
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError) as error:
        raise UnreadableTable(f"stored table {path} cannot be read ({error}); materialize it again") from error


def read_stored(base_path: str, asset: str) -> pd.DataFrame | None:
    """An asset's stored table as this IO manager lays it out (`<asset>.parquet`, or one file per
    partition in `<asset>/`, concatenated), None when it was never written."""
    root = UPath(base_path)
    single = root / f"{asset}.parquet"
    if single.exists():
        return _read_parquet(single)
    parts = sorted((root / asset).glob("*.parquet")) if (root / asset).is_dir() else []
    return pd.concat([_read_parquet(part) for part in parts], ignore_index=True) if parts else None


def table_metadata(rows: int, schema: pa.Schema) -> dict:
    """Row count, column list and the column schema the UI's Columns tab shows (`dagster/column_schema`)."""
    columns = [
        TableColumn(name=field.name, type=str(field.type), constraints=TableColumnConstraints(nullable=field.nullable))
        for field in schema
    ]
    return {
        "dagster/row_count": MetadataValue.int(rows),
        "columns": ", ".join(schema.names),
        "dagster/column_schema": TableSchema(columns=columns),
    }


class ParquetIOManager(UPathIOManager):
    """Stores DataFrames and `ParquetFile` handles as Parquet; refuses tables that do not match their
    registered schema."""

    extension = ".parquet"

    def make_safe_partition_path(self, base_path: UPath, partition: str) -> UPath:
        """Partition keys come from file names: refuse any that could leave the asset's folder."""
        return base_path / validate_partition_key(partition)

    def dump_to_path(self, context: OutputContext, obj: pd.DataFrame | ParquetFile, path: UPath) -> None:
        """Write `obj` with its asset's schema (a `ParquetFile` is copied in chunks); a column or
        type mismatch fails the step loudly."""
        schema = TABLE_SCHEMAS.get(context.asset_key.path[-1])
        if isinstance(obj, ParquetFile):
            if schema is not None and not obj.schema.equals(schema):
                raise ValueError(f"streamed table for {context.asset_key.to_user_string()} does not have its schema")

            def copy(target) -> None:
                with obj.path.open("rb") as source:
                    shutil.copyfileobj(source, target, COPY_CHUNK_BYTES)

            publish(path, copy)
            return
        table = pa.Table.from_pandas(obj, schema=schema, preserve_index=False)
        publish(path, lambda handle: pq.write_table(table, handle, compression="zstd"))

    def load_from_path(self, context: InputContext, path: UPath) -> pd.DataFrame | ParquetFile:
        """A `ParquetFile` handle for inputs that ask for streaming, else the DataFrame."""
        if context.definition_metadata.get(STREAMED_INPUT):
            return ParquetFile.at(path)
        return _read_parquet(path)

    def load_partitions(self, context: InputContext):
        """An unpartitioned asset reading a partitioned one always gets {partition_key: DataFrame},
        also when only one partition exists (the base class would hand it the bare DataFrame)."""
        loaded = super().load_partitions(context)
        if context.has_partition_key or isinstance(loaded, dict):
            return loaded
        return {} if loaded is None else {context.asset_partition_keys[0]: loaded}

    def load_table(self, asset_name: str, log=None) -> pd.DataFrame | None:
        """The last stored value of an unpartitioned asset, or None before its first materialization;
        lets an asset build incrementally on its own previous output. When the newest file cannot be
        read, the version before it is used (and `log` warned), so a damaged file never blocks the
        pipeline; with neither readable the asset starts afresh."""
        path = self._with_extension(self._base_path / asset_name)
        for candidate in (path, previous_version(path)):
            if not candidate.exists():
                continue
            try:
                return _read_parquet(candidate)
            except UnreadableTable as error:
                if log is not None:
                    log.warning(f"{error}; trying the version before it")
        return None

    def get_metadata(self, context: OutputContext, obj: pd.DataFrame | ParquetFile) -> dict:
        """Row count, columns and column schema (the registered one, else the table's) of every stored table."""
        if isinstance(obj, ParquetFile):
            return table_metadata(obj.rows, obj.schema)
        schema = TABLE_SCHEMAS.get(context.asset_key.path[-1]) or pa.Schema.from_pandas(obj, preserve_index=False)
        return table_metadata(len(obj), schema)


class ParquetIOManagerFactory(ConfigurableIOManagerFactory):
    """Configures where tables live: a local folder by default, any fsspec URL (s3://, gs://) on a cluster."""

    base_path: str

    def create_io_manager(self, context) -> ParquetIOManager:
        """Build the IO manager over `base_path`."""
        return ParquetIOManager(base_path=UPath(self.base_path))
