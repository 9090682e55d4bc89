"""Held-out CodeBoost tasks for evaluation: at most one task per snippet, balanced over strata.

Variants of one snippet give near-identical prompts (the same program with one digit changed),
so two of them measure one thing twice and make an interval look narrower than it is. The
selection visits the strata (task type x error type, "none" for a run without error) in turn and
takes from each the next task, in a seeded order, whose snippet has no task selected yet, until
`count` tasks are chosen or none is left. Strata are thus represented equally as long as they
last; the order depends only on the task ids and the seed, not on the input's row order.
"""

from __future__ import annotations

from collections import deque

import pandas as pd

from codeboost_dagster.core.ids import content_id

NO_ERROR = "none"


def stratum_of(tasks: pd.DataFrame) -> pd.Series:
    """`task_type/error_type` of each task."""
    return tasks["task_type"] + "/" + tasks["error_type"].fillna(NO_ERROR)


def select_heldout(tasks: pd.DataFrame, count: int, seed: int) -> pd.DataFrame:
    """Up to `count` tasks (0 = as many as the one-per-snippet rule allows), in selection order."""
    if tasks.empty:
        return tasks
    order = tasks.assign(
        _stratum=stratum_of(tasks), _rank=[content_id("heldout", str(seed), task_id) for task_id in tasks["task_id"]]
    ).sort_values(["_stratum", "_rank"])
    queues = {stratum: deque(group.index) for stratum, group in order.groupby("_stratum", sort=True)}
    wanted = count if count > 0 else len(tasks)
    chosen: list = []
    used_snippets: set[str] = set()
    while queues and len(chosen) < wanted:
        for stratum in list(queues):
            queue = queues[stratum]
            while queue and tasks.at[queue[0], "snippet_id"] in used_snippets:
                queue.popleft()
            if not queue:
                del queues[stratum]
                continue
            index = queue.popleft()
            chosen.append(index)
            used_snippets.add(tasks.at[index, "snippet_id"])
            if len(chosen) == wanted:
                break
    return tasks.loc[chosen]
