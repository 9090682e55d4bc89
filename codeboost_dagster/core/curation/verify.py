"""Checks of a curation's guarantees, for tests and Dagster asset checks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from codeboost_dagster.core.curation.columns import DISTANCE_SAMPLE_DTYPES
from codeboost_dagster.core.curation.distance import chunk_distances
from codeboost_dagster.core.curation.line_sets import LineNormaliser, line_incidence


def clique_violations(
    selection: pd.DataFrame,
    gamma: float,
    *,
    chunk_column: str | None = "final_chunk",
    normalise: LineNormaliser = str.strip,
) -> pd.DataFrame:
    """Pairs of selected snippets that break the clique property: distance < gamma.

    Pairs are checked within each `chunk_column` group (the guarantee of chunked curation), or
    all pairs when `chunk_column` is None (only for small sets: quadratic memory). Pairs of two
    previously selected snippets are exempt (they are never judged again, see `curate`).
    Returns snippet_id_a, snippet_id_b, distance (DISTANCE_SAMPLE_DTYPES); empty when it holds.
    """
    incidence = line_incidence(list(selection["code"]), normalise)
    groups = [np.arange(len(selection))] if chunk_column is None else selection.groupby(chunk_column).indices.values()
    exempt = selection.get("previously_selected", pd.Series(False, index=selection.index)).to_numpy(dtype=bool)
    ids = selection["snippet_id"].to_numpy()
    left_ids, right_ids, distances = [], [], []
    for rows in groups:
        rows = np.asarray(rows)
        left, right = (rows[side] for side in np.triu_indices(len(rows), k=1))
        pair_distance = chunk_distances(incidence, rows)[np.triu_indices(len(rows), k=1)]
        bad = (pair_distance < gamma) & ~(exempt[left] & exempt[right])
        left_ids.append(ids[left[bad]])
        right_ids.append(ids[right[bad]])
        distances.append(pair_distance[bad])
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
