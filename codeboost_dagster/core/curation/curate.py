"""Maximum-clique curation (METHOD.md section 2), from scratch or incrementally.

Incremental semantics, precisely. `curate(new, existing=selection, settings=s)` runs the same
rounds as a from-scratch curation over the union U of the existing selection's rows and the
new candidates (one node per snippet_id), with three differences:

1. U holds the previous *selection*, not every snippet ever seen: a snippet removed by an
   earlier curation is not reconsidered (unless it comes again as a candidate).
2. Two previously selected snippets are never judged against each other again: their pair
   always counts as distinct. So an existing snippet leaves the selection only when new
   snippets in its chunk replace it under the clique rule (a larger clique without it).
3. Ties between maximum cliques prefer previously selected snippets (see `chunk_clique`), so a
   new near-duplicate never swaps one-for-one with an existing snippet.

Hence: when no two existing snippets are near-duplicates and no new snippet is a
near-duplicate of an existing one, adding a dump gives exactly the from-scratch curation of U
(same selection, same report), and if the earlier curation removed nothing, exactly the
from-scratch curation of all dumps. Otherwise the results differ only through 1-3.

Determinism: rows are sorted by snippet_id before anything random happens, and all
randomness comes from `settings.seed`, so the same input in any row order gives the same
output, except where a chunk's exact search hit `settings.clique_time_limit_s` (a chunk with
method "fallback" and a time-limit reason): then the outcome depends on machine speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch
from codeboost_dagster.core.curation.inputs import prepare_input
from codeboost_dagster.core.curation.line_sets import LineNormaliser, line_incidence
from codeboost_dagster.core.curation.report import (
    chunks_frame,
    distance_sample_frame,
    dumps_frame,
    removed_frame,
    representatives,
    rounds_frame,
    selection_frame,
)
from codeboost_dagster.core.curation.rounds import run_rounds
from codeboost_dagster.core.settings import CurationSettings

DEFAULT_DISTANCE_SAMPLE_SIZE = 10_000


@dataclass(frozen=True)
class CurationResult:
    """The selection and the curation report; columns and dtypes as in `columns.py`.

    - selection: every input column of the kept rows, then previously_selected (bool),
      final_chunk (int32, the chunk of the last round, where the clique property holds),
      rounds_survived (int32, rounds run), near_duplicates_represented (int32, removed rows
      whose representative it is); sorted by snippet_id.
    - removed: one row per removed input row (REMOVED_DTYPES): reason ("near_duplicate", or
      "duplicate_snippet_id" for a second row of an id), round and chunk of removal, the
      nearest survivor it lost to (id, dump, distance) and its representative in the
      selection (the end of the chain of losses; id, dump, distance); sorted by snippet_id.
    - rounds, dumps, chunks: counts per round / dump / chunk (ROUND_, DUMP_, CHUNK_DTYPES).
    - distance_sample: distances of random pairs from round 1 (DISTANCE_SAMPLE_DTYPES).
    """

    selection: pd.DataFrame
    removed: pd.DataFrame
    rounds: pd.DataFrame
    dumps: pd.DataFrame
    chunks: pd.DataFrame
    distance_sample: pd.DataFrame

    @property
    def fallback_chunks(self) -> int:
        """How many chunks did not get a proven maximum clique."""
        return int((self.chunks["method"] != "exact").sum())


def _check(settings: CurationSettings) -> None:
    if settings.chunk_size < 1 or settings.rounds < 1 or settings.clique_time_limit_s < 0:
        raise ValueError(f"invalid curation settings {settings}")


def curate(
    candidates: pd.DataFrame,
    existing: pd.DataFrame | None = None,
    *,
    settings: CurationSettings,
    normalise: LineNormaliser = str.strip,
    distance_sample_size: int = DEFAULT_DISTANCE_SAMPLE_SIZE,
) -> CurationResult:
    """Keep a maximum set of mutually distinct snippets per chunk, over `settings.rounds` rounds.

    `candidates` and `existing` (a previous `selection`, or None) need string columns
    snippet_id, dump and code; other columns pass through to the selection. `normalise` maps a
    line before it enters a line set (default: strip). `distance_sample_size` bounds the
    distance sample (about that many pairs). Every input row ends up in exactly one of
    `selection` and `removed`.
    """
    _check(settings)
    data = prepare_input(candidates, existing)
    codes = list(data.nodes["code"]) + list(data.duplicates["code"])
    incidence = line_incidence(codes, normalise)
    preferred = data.nodes["previously_selected"].to_numpy(dtype=bool)
    with ExactCliqueSearch() as search:
        outcome = run_rounds(incidence.head(len(data.nodes)), preferred, settings, search, distance_sample_size)
    removed = removed_frame(data, incidence, outcome, representatives(len(data.nodes), outcome))
    selection = selection_frame(data, outcome, removed)
    return CurationResult(
        selection=selection,
        removed=removed,
        rounds=rounds_frame(outcome),
        dumps=dumps_frame(selection, removed),
        chunks=chunks_frame(outcome),
        distance_sample=distance_sample_frame(data, outcome),
    )
