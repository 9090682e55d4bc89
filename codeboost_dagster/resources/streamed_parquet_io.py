"""The Parquet IO manager, plus streaming for the stages that scale out on Ray: an input declared
with `STREAMED_INPUT` metadata arrives as a `ParquetFile` handle (read batch by batch by the
stage, never loaded whole), and an output given as a `ParquetFile` (written batch by batch by
the stage) is copied into place in chunks, and published atomically like every table. DataFrames
are stored and loaded exactly as before."""

from __future__ import annotations

import shutil

from dagster import InputContext, OutputContext
from upath import UPath

from codeboost_dagster.core.scale_out.tables import ParquetFile
from codeboost_dagster.core.schemas import TABLE_SCHEMAS
from codeboost_dagster.resources.committed_files import publish
from codeboost_dagster.resources.parquet_io import ParquetIOManager, ParquetIOManagerFactory, table_metadata

STREAMED_INPUT = "codeboost/streamed_input"
"""`AssetIn` metadata key: True hands the asset a `ParquetFile` instead of a DataFrame."""

COPY_CHUNK_BYTES = 16 * 1024 * 1024


class StreamedParquetIOManager(ParquetIOManager):
    """`ParquetIOManager` that also stores and hands out `ParquetFile` handles."""

    def dump_to_path(self, context: OutputContext, obj, path: UPath) -> None:
        """A `ParquetFile` with its asset's schema is copied in chunks; anything else as before."""
        if not isinstance(obj, ParquetFile):
            super().dump_to_path(context, obj, path)
            return
        schema = TABLE_SCHEMAS.get(context.asset_key.path[-1])
        if schema is not None and not obj.schema.equals(schema):
            raise ValueError(f"streamed table for {context.asset_key.to_user_string()} does not have its schema")

        def copy(target) -> None:
            with obj.path.open("rb") as source:
                shutil.copyfileobj(source, target, COPY_CHUNK_BYTES)

        publish(path, copy)

    def load_from_path(self, context: InputContext, path: UPath):
        """A `ParquetFile` handle for inputs that ask for streaming, else the DataFrame."""
        if context.definition_metadata.get(STREAMED_INPUT):
            return ParquetFile.at(path)
        return super().load_from_path(context, path)

    def get_metadata(self, context: OutputContext, obj) -> dict:
        """Row count and column list, for DataFrames and streamed tables alike."""
        if isinstance(obj, ParquetFile):
            return table_metadata(obj.rows, obj.schema)
        return super().get_metadata(context, obj)


class StreamedParquetIOManagerFactory(ParquetIOManagerFactory):
    """`ParquetIOManagerFactory` whose IO manager also streams (see `StreamedParquetIOManager`)."""

    def create_io_manager(self, context) -> StreamedParquetIOManager:
        """Build the IO manager over `base_path`."""
        return StreamedParquetIOManager(base_path=UPath(self.base_path))
