"""Validation of curation input and its reduction to one node per snippet_id.

Candidates and the existing selection are stacked; `previously_selected` marks the latter.
A snippet_id that occurs more than once (the same content in two dumps, or a candidate that is
already selected) becomes one node: the previously selected row if there is one, else the row
of the alphabetically first dump. The other rows are reported as duplicates of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from codeboost_dagster.core.schemas import SELECTION_ADDED_DTYPES

REQUIRED_COLUMNS = ("snippet_id", "dump", "code")


@dataclass(frozen=True)
class CurationInput:
    """`nodes`: one row per snippet_id, sorted by it; `duplicates`: the other rows of those ids.

    Both keep every input column and add `previously_selected`; the index is a fresh range.
    """

    nodes: pd.DataFrame
    duplicates: pd.DataFrame


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _validated(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks required columns {missing}")
    for column in REQUIRED_COLUMNS:
        values = frame[column]
        strings = values.notna().all() if isinstance(values.dtype, pd.StringDtype) else values.map(_is_str).all()
        if not strings:
            raise ValueError(f"{name}.{column} must hold strings only (no nulls)")
    return frame.drop(columns=[column for column in SELECTION_ADDED_DTYPES if column in frame.columns])


def prepare_input(candidates: pd.DataFrame, existing: pd.DataFrame | None) -> CurationInput:
    """Stack candidates and existing rows, then split them into nodes and duplicate rows."""
    parts = [_validated(candidates, "candidates").assign(previously_selected=False)]
    if existing is not None:
        parts.append(_validated(existing, "existing").assign(previously_selected=True))
    rows = pd.concat([part for part in parts if len(part)] or parts[:1], ignore_index=True)
    rows = rows.sort_values(["snippet_id", "previously_selected", "dump"], ascending=[True, False, True], kind="stable")
    first = ~rows["snippet_id"].duplicated(keep="first")
    return CurationInput(nodes=rows[first].reset_index(drop=True), duplicates=rows[~first].reset_index(drop=True))
