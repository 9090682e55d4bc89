"""Decontamination: is any evaluation function a near-duplicate of a training snippet?

Uses the curation distance (line-level Jaccard, METHOD.md section 2): a function closer than
`gamma` to a training snippet would have been removed as a near-duplicate had it been in the corpus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from codeboost_dagster.core.curation.distance import nearest_in_pool
from codeboost_dagster.core.curation.line_sets import line_incidence

REPORT_COLUMNS = ["problem_id", "nearest_snippet_id", "distance", "near_duplicate"]


def contamination_report(functions: pd.DataFrame, snippets: pd.DataFrame, gamma: float) -> pd.DataFrame:
    """Per evaluation problem (`problem_id`, `code`): its nearest training snippet (`snippet_id`,
    `code`) by the curation distance, and whether that is closer than `gamma`."""
    functions = functions.drop_duplicates("problem_id").reset_index(drop=True)
    incidence = line_incidence(list(functions["code"]) + list(snippets["code"]))
    queries = np.arange(len(functions))
    pool = np.arange(len(functions), len(functions) + len(snippets))
    positions, distances = nearest_in_pool(incidence, queries, pool)
    snippet_ids = snippets["snippet_id"].to_numpy()
    return pd.DataFrame(
        {
            "problem_id": functions["problem_id"],
            "nearest_snippet_id": [snippet_ids[position] if position >= 0 else None for position in positions],
            "distance": distances,
            "near_duplicate": distances < gamma,
        },
        columns=REPORT_COLUMNS,
    )
