"""The curation's output tables (columns and dtypes as `core.schemas` fixes them), built from
the nodes and the rounds' raw records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from codeboost_dagster.core.curation.distance import pair_distances
from codeboost_dagster.core.curation.inputs import CurationInput
from codeboost_dagster.core.curation.line_sets import LineIncidence
from codeboost_dagster.core.curation.rounds import ChunkStat, RoundsOutcome, RoundStat
from codeboost_dagster.core.schemas import (
    CHUNK_DTYPES,
    DISTANCE_SAMPLE_DTYPES,
    DUMP_DTYPES,
    REMOVED_DTYPES,
    ROUND_DTYPES,
    SELECTION_ADDED_DTYPES,
)

NEAR_DUPLICATE = "near_duplicate"
DUPLICATE_SNIPPET_ID = "duplicate_snippet_id"
"""The two reasons a snippet leaves the selection: within gamma of a survivor, or the same id as one."""


def _typed(columns: dict[str, object], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(columns[name], dtype=dtype) for name, dtype in dtypes.items()})


def _records(stats: list[ChunkStat] | list[RoundStat], dtypes: dict[str, str]) -> pd.DataFrame:
    rows = [dataclasses.asdict(stat) for stat in stats]
    return _typed({name: [row[name] for row in rows] for name in dtypes}, dtypes)


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def representatives(node_count: int, outcome: RoundsOutcome) -> np.ndarray:
    """For every node, the selected node at the end of its chain of losses (itself if selected)."""
    parent = np.arange(node_count)
    parent[_concat(outcome.removed, np.int64)] = _concat(outcome.lost_to, np.int64)
    resolved = parent.copy()
    while not np.array_equal(parent[resolved], resolved):
        resolved = parent[resolved]
    return resolved


def selection_frame(
    data: CurationInput, outcome: RoundsOutcome, removed: pd.DataFrame, component: np.ndarray
) -> pd.DataFrame:
    """Selected rows: every input column, then SELECTION_ADDED_DTYPES' columns (`component`: per node)."""
    selection = data.nodes.iloc[outcome.survivors].reset_index(drop=True)
    represented = removed["representative_id"].value_counts()
    added = {
        "previously_selected": selection["previously_selected"].to_numpy(),
        "final_chunk": outcome.final_chunk,
        "rounds_survived": np.full(len(selection), len(outcome.rounds)),
        "near_duplicates_represented": selection["snippet_id"].map(represented).fillna(0).to_numpy(),
        "component": component[outcome.survivors],
    }
    return pd.concat([selection.drop(columns="previously_selected"), _typed(added, SELECTION_ADDED_DTYPES)], axis=1)


def removed_frame(
    data: CurationInput,
    incidence: LineIncidence,
    outcome: RoundsOutcome,
    representative: np.ndarray,
    component: np.ndarray,
) -> pd.DataFrame:
    """Every removed row: why, when, whom it lost to, and which selected snippet stands for it.

    `incidence` holds the nodes' rows followed by the duplicate rows'. A duplicate row lost to
    the node with its snippet_id, in round 0 (chunk -1), and has that node's `component`.
    """
    node_count, duplicate_count = len(data.nodes), len(data.duplicates)
    removed_nodes = _concat(outcome.removed, np.int64)
    duplicate_of = data.nodes["snippet_id"].searchsorted(data.duplicates["snippet_id"]).astype(np.int64)
    duplicate_rows = node_count + np.arange(duplicate_count)
    rows = np.concatenate((removed_nodes, duplicate_rows))
    nearest = np.concatenate((_concat(outcome.lost_to, np.int64), duplicate_of))
    chosen = representative[np.concatenate((removed_nodes, duplicate_of))]
    both = pd.concat([data.nodes, data.duplicates], ignore_index=True)
    ids, dumps = both["snippet_id"].to_numpy(), both["dump"].to_numpy()
    columns = {
        "snippet_id": ids[rows],
        "dump": dumps[rows],
        "previously_selected": both["previously_selected"].to_numpy()[rows],
        "reason": [NEAR_DUPLICATE] * len(removed_nodes) + [DUPLICATE_SNIPPET_ID] * duplicate_count,
        "round": np.concatenate((_concat(outcome.removed_round, np.int32), np.zeros(duplicate_count, np.int32))),
        "chunk": np.concatenate((_concat(outcome.removed_chunk, np.int32), np.full(duplicate_count, -1, np.int32))),
        "component": component[np.concatenate((removed_nodes, duplicate_of))],
        "nearest_survivor_id": ids[nearest],
        "nearest_survivor_dump": dumps[nearest],
        "nearest_survivor_distance": np.concatenate(
            (_concat(outcome.lost_to_distance, np.float64), pair_distances(incidence, duplicate_rows, duplicate_of))
        ),
        "representative_id": ids[chosen],
        "representative_dump": dumps[chosen],
        "representative_distance": pair_distances(incidence, rows, chosen),
    }
    frame = _typed(columns, REMOVED_DTYPES)
    return frame.sort_values(["snippet_id", "dump"], kind="stable").reset_index(drop=True)


def chunks_frame(outcome: RoundsOutcome) -> pd.DataFrame:
    """One row per chunk of every round (CHUNK_DTYPES)."""
    return _records(outcome.chunks, CHUNK_DTYPES)


def rounds_frame(outcome: RoundsOutcome) -> pd.DataFrame:
    """One row per round run (ROUND_DTYPES)."""
    return _records(outcome.rounds, ROUND_DTYPES)


def dumps_frame(selection: pd.DataFrame, removed: pd.DataFrame) -> pd.DataFrame:
    """Per dump (DUMP_DTYPES): rows in, kept, removed, and rows lost to a snippet of another dump."""
    dumps = sorted(set(selection["dump"]) | set(removed["dump"]))
    kept = selection.groupby("dump")["previously_selected"].agg(["size", "sum"]).reindex(dumps, fill_value=0)
    lost = (
        removed.assign(for_other_dump=removed["nearest_survivor_dump"] != removed["dump"])
        .groupby("dump")[["previously_selected", "for_other_dump"]]
        .agg(["size", "sum"])
        .reindex(dumps, fill_value=0)
    )
    columns = {
        "dump": dumps,
        "snippets_in": kept["size"].to_numpy() + lost[("previously_selected", "size")].to_numpy(),
        "kept": kept["size"].to_numpy(),
        "kept_previously_selected": kept["sum"].to_numpy(),
        "removed": lost[("previously_selected", "size")].to_numpy(),
        "removed_previously_selected": lost[("previously_selected", "sum")].to_numpy(),
        "removed_for_other_dump": lost[("for_other_dump", "sum")].to_numpy(),
    }
    return _typed(columns, DUMP_DTYPES)


def distance_sample_frame(data: CurationInput, outcome: RoundsOutcome) -> pd.DataFrame:
    """Distances of random pairs that shared a round-1 chunk, for a distribution plot."""
    pairs = np.concatenate(outcome.sample_pairs) if outcome.sample_pairs else np.zeros((0, 2), dtype=np.int64)
    ids = data.nodes["snippet_id"].to_numpy()
    columns = {
        "snippet_id_a": ids[pairs[:, 0]],
        "snippet_id_b": ids[pairs[:, 1]],
        "distance": _concat(outcome.sample_distance, np.float64),
    }
    return _typed(columns, DISTANCE_SAMPLE_DTYPES)
