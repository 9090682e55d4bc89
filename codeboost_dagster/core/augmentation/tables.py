"""Columns of the two augmentation tables, as pyarrow schemas (for Parquet) and pandas frames."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.augmentation.snippet import DropRow, VariantRow

AUGMENTED_VARIANTS = pa.schema(
    [
        pa.field("variant_id", pa.string(), nullable=False),
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("variant_index", pa.int32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("mutations", pa.large_string(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("test_cases", pa.large_string(), nullable=False),
        pa.field("source_lines", pa.large_string(), nullable=False),
    ]
)
"""Kept rows: originals (variant_index 0, kind `original`, mutations `[]`) and variants. `code` is the
canonical program (core.canonical); `source_lines` is a JSON list giving, for each of its lines, the
1-based line of the snippet's code in the dump it came from (null for a line canonicalisation added)."""

AUGMENTATION_REPORT = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("variant_index", pa.int32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.large_string()),
    ]
)
"""Attempted variants that were not kept, with a reason from `reasons.DROP_REASONS`."""


def _frame(rows: Iterable[VariantRow | DropRow], schema: pa.Schema) -> pd.DataFrame:
    columns = schema.names
    table = pa.Table.from_pylist([{name: getattr(row, name) for name in columns} for row in rows], schema=schema)
    return table.to_pandas()


def variants_frame(rows: Iterable[VariantRow]) -> pd.DataFrame:
    """Kept rows as a DataFrame with the AUGMENTED_VARIANTS columns (variant_index int32)."""
    return _frame(rows, AUGMENTED_VARIANTS)


def dropped_frame(rows: Iterable[DropRow]) -> pd.DataFrame:
    """Dropped rows as a DataFrame with the AUGMENTATION_REPORT columns (variant_index int32)."""
    return _frame(rows, AUGMENTATION_REPORT)
