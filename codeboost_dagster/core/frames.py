"""DataFrame conversions that keep missing values as None (pandas reads Parquet nulls as NaN)."""

from __future__ import annotations

import pandas as pd


def with_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as object columns whose missing values are None."""
    objects = frame.astype(object)
    return objects.where(objects.notna(), None)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None for missing values."""
    return with_none(frame).to_dict("records")
