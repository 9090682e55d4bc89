"""Checks of a curation's guarantees, for tests and Dagster asset checks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

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
    Returns snippet_id_a, snippet_id_b, distance; empty when the property holds.
    """
    incidence = line_incidence(list(selection["code"]), normalise)
    groups = [np.arange(len(selection))] if chunk_column is None else selection.groupby(chunk_column).indices.values()
    previously_selected = (
        selection["previously_selected"].to_numpy(dtype=bool)
        if "previously_selected" in selection
        else np.zeros(len(selection), dtype=bool)
    )
    ids = selection["snippet_id"].to_numpy()
    found = []
    for rows in groups:
        distances = chunk_distances(incidence, np.asarray(rows))
        left, right = np.triu_indices(len(rows), k=1)
        bad = (distances[left, right] < gamma) & ~(previously_selected[rows][left] & previously_selected[rows][right])
        found.append(pd.DataFrame({"snippet_id_a": ids[rows][left[bad]], "snippet_id_b": ids[rows][right[bad]], "distance": distances[left, right][bad]}))
    if not found:
        return pd.DataFrame({"snippet_id_a": pd.Series(dtype="str"), "snippet_id_b": pd.Series(dtype="str"), "distance": pd.Series(dtype="float64")})
    return pd.concat(found, ignore_index=True)


def conservation_problems(
    inputs: list[pd.DataFrame], selection: pd.DataFrame, removed: pd.DataFrame
) -> list[str]:
    """Differences between the input rows and selection + removed, keyed by (snippet_id, dump)."""
    def keys(frame: pd.DataFrame) -> Counter:
        return Counter(zip(frame["snippet_id"], frame["dump"]))

    given = sum((keys(frame) for frame in inputs), Counter())
    accounted = keys(selection) + keys(removed)
    problems = [f"{key} lost" for key in sorted(given - accounted)]
    problems += [f"{key} appeared from nowhere" for key in sorted(accounted - given)]
    overlap = set(keys(selection)) & set(keys(removed))
    problems += [f"{key} both selected and removed" for key in sorted(overlap) if given[key] < 2]
    return problems
