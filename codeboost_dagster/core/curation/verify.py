"""Checks of a curation's guarantees, for tests and Dagster asset checks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from codeboost_dagster.core.curation.line_sets import LineIncidence, LineNormaliser, line_incidence, renamed_identifiers
from codeboost_dagster.core.curation.similarity_join import near_duplicate_pairs
from codeboost_dagster.core.schemas import DISTANCE_SAMPLE_DTYPES


def clique_violations(
    selection: pd.DataFrame,
    gamma: float,
    *,
    chunk_column: str | None = "final_chunk",
    normalise: LineNormaliser = str.strip,
    rename_identifiers: bool = False,
) -> pd.DataFrame:
    """Pairs of selected snippets that break the clique property: distance < gamma.

    Pairs are checked within each `chunk_column` group (the guarantee of paper mode), or across
    the whole selection when `chunk_column` is None (global mode), exactly, by the prefix-filter
    join. Pairs of two previously selected snippets are exempt (they are never judged again, see
    `curate`). Returns snippet_id_a, snippet_id_b, distance (DISTANCE_SAMPLE_DTYPES); empty when
    the property holds.
    """
    codes = list(selection["code"])
    if rename_identifiers:
        codes = [renamed_identifiers(code) for code in codes]
    incidence = line_incidence(codes, normalise)
    groups = [np.arange(len(selection))] if chunk_column is None else selection.groupby(chunk_column).indices.values()
    exempt = selection.get("previously_selected", pd.Series(False, index=selection.index)).to_numpy(dtype=bool)
    ids = selection["snippet_id"].to_numpy()
    left_ids, right_ids, distances = [], [], []
    for rows in groups:
        rows = np.asarray(rows)
        left, right, distance = near_duplicate_pairs(
            LineIncidence(incidence.matrix[rows], incidence.sizes[rows]), gamma, exempt[rows]
        )
        left_ids.append(ids[rows[left]])
        right_ids.append(ids[rows[right]])
        distances.append(distance)
    columns = (np.concatenate(parts) if parts else [] for parts in (left_ids, right_ids, distances))
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=dtype)
            for (name, dtype), values in zip(DISTANCE_SAMPLE_DTYPES.items(), columns, strict=True)
        }
    )


def conservation_problems(inputs: list[pd.DataFrame], selection: pd.DataFrame, removed: pd.DataFrame) -> list[str]:
    """Differences between the input rows and selection + removed, keyed by (snippet_id, dump)."""

    def keys(frame: pd.DataFrame) -> Counter:
        return Counter(zip(frame["snippet_id"], frame["dump"], strict=True))

    given = sum((keys(frame) for frame in inputs), Counter())
    accounted = keys(selection) + keys(removed)
    problems = [f"{key} lost" for key in sorted(given - accounted)]
    problems += [f"{key} appeared from nowhere" for key in sorted(accounted - given)]
    overlap = set(keys(selection)) & set(keys(removed))
    problems += [f"{key} both selected and removed" for key in sorted(overlap) if given[key] < 2]
    return problems
